package dev.vellama.runtime;

import dev.vellama.VellamaException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Continuous batching on the trained stories model: the same text as alone, cancellation, limits, prefix reuse. */
class BatchEngineTest {
    private static final List<String> PROMPTS = List.of("Once upon a time", "The PostgreSQL server",
            "In Python, a list", "The little dog ran", "To create a table, use", "She looked at the sky and");
    private static Model model;

    @BeforeAll
    static void load() throws IOException {
        model = Model.load(TestData.model("stories-llama2-q8_0.gguf"));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void warmUpLeavesEmptySlotsAndCountersAtZero() throws Exception {
        String prompt = PROMPTS.getFirst();
        String expected = alone(prompt, 16);
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(4, 1024).withThreads(2))) {
            java.time.Duration took = engine.warmUp(4);
            assertTrue(took.toNanos() > 0);
            BatchEngine.Stats st = engine.stats();
            assertEquals(0, st.requests());
            assertEquals(0, st.promptTokens());
            assertEquals(0, st.generatedTokens());
            assertEquals(0, st.busySlots());
            assertEquals(0, st.queued());
            for (BatchEngine.SlotState slot : engine.slotStates()) { // nor anything of the warm-up's requests
                assertEquals(-1, slot.requestId());
                assertEquals(0, slot.cachedTokens());
            }
            Collector c = new Collector();
            int[] ids = model.tokenizer().encode(prompt, true, true);
            engine.submit(ids, GenerationParams.greedy().withMaxTokens(16), c);
            GenerationResult r = c.await();
            assertEquals(expected, r.text());
            // nothing of the warm-up's prompts was kept for reuse: the whole prompt was evaluated
            assertEquals(ids.length, r.timings().promptTokens());
            assertEquals(1, engine.stats().requests());
            assertEquals(1, engine.slotStates().stream().filter(slot -> slot.requestId() == 0).count());
        }
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(1, 256).withThreads(2))) {
            engine.warmUp(2); // one slot: the one-row phase only
            assertEquals(0, engine.stats().generatedTokens());
        }
        assertThrows(IllegalArgumentException.class, () -> {
            try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(1, 256).withThreads(2))) {
                engine.warmUp(0);
            }
        });
    }

    /** Collects one request's tokens as well as its result. */
    static class Collector extends ResultFuture {
        final StringBuilder streamed = new StringBuilder();
        final List<Integer> ids = new ArrayList<>();

        @Override
        public void onToken(GeneratedToken token) {
            streamed.append(token.text());
            ids.add(token.id());
        }
    }

    private static String alone(String prompt, int maxTokens) {
        try (Session s = model.newSession(SessionOptions.defaults().withContextSize(256).withThreads(2))) {
            return s.generate(prompt, GenerationParams.greedy().withMaxTokens(maxTokens), null).text();
        }
    }

    @Test
    void parallelGreedyRequestsGiveTheTextEachGivesAlone() throws Exception {
        List<String> expected = PROMPTS.stream().map(p -> alone(p, 24)).toList();
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(4, 1024).withThreads(2))) {
            List<Collector> got = new ArrayList<>();
            for (String p : PROMPTS) { // six requests over four slots: two wait for a slot
                Collector c = new Collector();
                engine.submit(model.tokenizer().encode(p, true, true), GenerationParams.greedy().withMaxTokens(24), c);
                got.add(c);
            }
            for (int i = 0; i < PROMPTS.size(); i++) {
                GenerationResult r = got.get(i).await();
                assertEquals(expected.get(i), r.text(), PROMPTS.get(i));
                assertEquals(r.text(), got.get(i).streamed.toString());
                assertEquals(StopReason.LENGTH, r.stopReason());
                assertEquals(24, r.tokens().size());
            }
            BatchEngine.Stats st = engine.stats();
            assertEquals(PROMPTS.size(), st.requests());
            assertEquals(PROMPTS.size() * 24L, st.generatedTokens());
            assertEquals(0, st.busySlots());
        }
    }

    /**
     * Not only the same tokens: every logprob, bit for bit. Decode rows are each their own matvec in the batch,
     * prompt chunks their own matmul, and lane sums have one order, so a request's numbers do not depend on its
     * neighbours (or on whether the JIT has compiled a kernel yet).
     */
    @Test
    void batchedLogprobsAreBitForBitTheLoneSessions() throws Exception {
        GenerationParams p = GenerationParams.greedy().withMaxTokens(12).withTopLogprobs(3);
        List<GenerationResult> alone = new ArrayList<>();
        for (String prompt : PROMPTS) {
            try (Session s = model.newSession(SessionOptions.defaults().withContextSize(256).withThreads(2))) {
                alone.add(s.generate(prompt, p, null));
            }
        }
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(4, 1024).withThreads(2))) {
            List<Collector> got = new ArrayList<>();
            for (String prompt : PROMPTS) {
                Collector c = new Collector();
                engine.submit(model.tokenizer().encode(prompt, true, true), p, c);
                got.add(c);
            }
            for (int i = 0; i < PROMPTS.size(); i++) {
                List<GeneratedToken> want = alone.get(i).tokens();
                List<GeneratedToken> have = got.get(i).await().tokens();
                assertEquals(want.size(), have.size());
                for (int t = 0; t < want.size(); t++) {
                    assertEquals(want.get(t).id(), have.get(t).id());
                    assertEquals(Float.floatToIntBits(want.get(t).logprob()), Float.floatToIntBits(have.get(t).logprob()),
                            PROMPTS.get(i) + ", token " + t);
                    assertEquals(want.get(t).topLogprobs(), have.get(t).topLogprobs(), PROMPTS.get(i) + ", token " + t);
                }
            }
        }
    }

    @Test
    void aRequestThatSharesAPrefixEvaluatesOnlyTheRest() throws Exception {
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(2, 512).withThreads(2))) {
            int[] first = model.tokenizer().encode("The PostgreSQL server stores data in tables", true, true);
            int[] second = model.tokenizer().encode("The PostgreSQL server stores data in files", true, true);
            Collector a = new Collector();
            engine.submit(first, GenerationParams.greedy().withMaxTokens(4), a);
            assertEquals(first.length, a.await().timings().promptTokens());
            Collector b = new Collector();
            engine.submit(second, GenerationParams.greedy().withMaxTokens(4), b);
            int shared = 0;
            while (first[shared] == second[shared]) {
                shared++;
            }
            assertEquals(second.length - shared, b.await().timings().promptTokens());
            try (Session s = model.newSession(SessionOptions.defaults().withContextSize(256).withThreads(2))) {
                assertEquals(s.generate(second, GenerationParams.greedy().withMaxTokens(4), null).text(), b.await().text());
            }
        }
    }

    @Test
    void cancellingFreesTheSlotForTheNextRequest() throws Exception {
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(1, 512).withThreads(2).withQueueLimit(1))) {
            CountDownLatch three = new CountDownLatch(3);
            Collector slow = new Collector() {
                @Override
                public void onToken(GeneratedToken token) {
                    super.onToken(token);
                    three.countDown();
                }
            };
            BatchEngine.Request r = engine.submit(model.tokenizer().encode("Once upon a time", true, true),
                    GenerationParams.greedy().withMaxTokens(400), slow);
            Collector next = new Collector();
            engine.submit(model.tokenizer().encode("The little dog", true, true), GenerationParams.greedy().withMaxTokens(4), next);
            // the one slot is busy and one request waits: a third is refused
            assertThrows(QueueFullException.class, () -> engine.submit(new int[] {1, 2}, GenerationParams.greedy(), new Collector()));
            assertTrue(three.await(30, TimeUnit.SECONDS));
            r.cancel();
            assertEquals(StopReason.CANCELLED, slow.await().stopReason());
            assertTrue(slow.await().tokens().size() < 400);
            assertEquals(4, next.await().tokens().size());
        }
    }

    @Test
    void badRequestsAreRefusedBeforeTheyRun() {
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(2, 64).withThreads(1))) {
            assertThrows(ContextOverflowException.class,
                    () -> engine.submit(new int[40], GenerationParams.greedy(), new Collector()));
            assertThrows(VellamaException.class, () -> engine.submit(new int[0], GenerationParams.greedy(), new Collector()));
            assertThrows(VellamaException.class,
                    () -> engine.submit(new int[] {1, 1 << 20}, GenerationParams.greedy(), new Collector()));
        }
    }

    @Test
    void aFullSlotEndsWithContext() throws Exception {
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(2, 48).withThreads(2))) {
            Collector c = new Collector();
            int[] prompt = model.tokenizer().encode("Once upon a time", true, true);
            engine.submit(prompt, GenerationParams.greedy(), c);
            GenerationResult r = c.await();
            assertEquals(StopReason.CONTEXT, r.stopReason());
            assertEquals(25, prompt.length + r.tokens().size());
        }
    }

    /** With the engine's context shift a slot goes on past its context, token for token as a lone session shifting. */
    @Test
    void aFullSlotShiftsWhenTheEngineSaysSo() throws Exception {
        GenerationParams p = GenerationParams.greedy().withMaxTokens(60).withIgnoreEos(true);
        int[] prompt = model.tokenizer().encode("Once upon a time", true, true);
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(2, 48).withThreads(2).withContextShift(true));
             Session alone = model.newSession(SessionOptions.defaults().withContextSize(24).withThreads(2))) {
            Collector c = new Collector();
            engine.submit(prompt, p, c);
            GenerationResult r = c.await();
            assertEquals(StopReason.LENGTH, r.stopReason());
            assertEquals(60, r.tokens().size());
            assertTrue(r.forgottenTokens() > 0);
            GenerationResult lone = alone.generate(prompt, p.withContextShift(ContextShift.SHIFT), null);
            assertEquals(lone.forgottenTokens(), r.forgottenTokens());
            assertArrayEquals(lone.tokenIds(), r.tokenIds());
            // a request may refuse: it then ends at the full slot as without the engine's shift
            Collector stop = new Collector();
            engine.submit(prompt, p.withContextShift(ContextShift.STOP), stop);
            assertEquals(StopReason.CONTEXT, stop.await().stopReason());
        }
    }
}
