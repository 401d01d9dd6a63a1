package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The library API on the trained stories model: streaming, stop strings, cancellation, limits, reuse. */
class SessionTest {
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

    private static Session session(int ctx) {
        return model.newSession(SessionOptions.defaults().withContextSize(ctx).withBatchSize(32).withThreads(2));
    }

    @Test
    void streamedTextIsTheResultText() {
        try (Session s = session(256)) {
            StringBuilder streamed = new StringBuilder();
            GenerationResult r = s.generate("Once upon a time", GenerationParams.greedy().withMaxTokens(24).withLogprobs(true),
                    t -> streamed.append(t.text()));
            assertEquals(StopReason.LENGTH, r.stopReason());
            assertEquals(24, r.tokens().size());
            assertEquals(r.text(), streamed.toString());
            assertEquals(model.tokenizer().decode(r.tokenIds()), r.text());
            assertTrue(r.timings().promptTokensPerSecond() > 0 && r.timings().generationTokensPerSecond() > 0);
            for (GeneratedToken t : r.tokens()) {
                assertTrue(t.logprob() <= 0f);
            }
        }
    }

    @Test
    void iteratorGivesTheSameTokensAsTheCallback() {
        try (Session a = session(256); Session b = session(256)) {
            GenerationParams p = GenerationParams.defaults().withSeed(11L).withMaxTokens(20);
            GenerationResult viaCallback = a.generate("The PostgreSQL server", p, null);
            Generation g = b.stream("The PostgreSQL server", p);
            List<Integer> ids = new ArrayList<>();
            g.forEachRemaining(t -> ids.add(t.id()));
            assertArrayEquals(viaCallback.tokenIds(), g.result().tokenIds());
            assertArrayEquals(viaCallback.tokenIds(), ids.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    @Test
    void topLogprobsAreSortedLogSoftmax() {
        try (Session s = session(128)) {
            GenerationResult r = s.generate("Python is", GenerationParams.greedy().withMaxTokens(3).withTopLogprobs(5), null);
            for (GeneratedToken t : r.tokens()) {
                assertEquals(5, t.topLogprobs().size());
                assertEquals(t.id(), t.topLogprobs().get(0).id(), "greedy picks the most likely token");
                assertEquals(t.logprob(), t.topLogprobs().get(0).logprob(), 1e-6);
                for (int i = 1; i < 5; i++) {
                    assertTrue(t.topLogprobs().get(i).logprob() <= t.topLogprobs().get(i - 1).logprob());
                }
            }
        }
    }

    @Test
    void stopStringsEndGenerationAndNeverReachTheCaller() {
        try (Session s = session(256)) {
            GenerationResult free = s.generate("Once upon a time", GenerationParams.greedy().withMaxTokens(40), null);
            String text = free.text();
            assertTrue(text.length() > 10, text);
            String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
            s.reset();
            StringBuilder streamed = new StringBuilder();
            GenerationResult r = s.generate("Once upon a time", GenerationParams.greedy().withMaxTokens(40).withStop(List.of(stop)),
                    t -> streamed.append(t.text()));
            assertEquals(StopReason.STOP, r.stopReason());
            assertEquals(text.substring(0, text.indexOf(stop)), r.text());
            assertEquals(r.text(), streamed.toString());
            assertFalse(streamed.toString().contains(stop));
        }
    }

    @Test
    void eachTokenIsHandedOutBeforeTheModelSeesIt() {
        try (Session s = session(256)) {
            int[] prompt = s.tokenize("Once upon a time");
            Generation g = s.stream("Once upon a time", GenerationParams.greedy().withMaxTokens(8));
            assertTrue(g.hasNext());
            g.next();
            // the first token comes straight from the prompt's logits: no forward pass has run on it yet
            assertEquals(prompt.length, s.position());
            assertTrue(g.hasNext());
            g.next();
            assertEquals(prompt.length + 1, s.position());
        }
    }

    @Test
    void cancelStopsALongPromptWithinALayer() throws Exception {
        try (Session s = model.newSession(SessionOptions.defaults().withContextSize(2048).withBatchSize(2048).withThreads(2))) {
            String prompt = "The PostgreSQL server stores its data in tables. ".repeat(120); // about 1400 tokens, one chunk
            GenerationParams one = GenerationParams.greedy().withMaxTokens(1);
            s.generate(prompt, one, null); // the kernels compiled, so the timed run below is the steady one
            s.reset();
            long t0 = System.nanoTime();
            s.generate(prompt, one, null);
            long whole = System.nanoTime() - t0;
            s.reset();
            Thread canceller = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(Math.max(1, whole / 8_000_000)); // an eighth of the prompt's time
                } catch (InterruptedException e) {
                    return;
                }
                s.cancel();
            });
            t0 = System.nanoTime();
            GenerationResult r = s.generate(prompt, one, null);
            long cancelled = System.nanoTime() - t0;
            canceller.join();
            assertEquals(StopReason.CANCELLED, r.stopReason(), "a cancel " + whole / 8e6 + " ms into a " + whole / 1e6 + " ms prompt");
            assertEquals(0, r.tokens().size());
            assertTrue(cancelled < whole * 3 / 4, "cancelled after " + cancelled / 1e6 + " ms of a " + whole / 1e6 + " ms prompt");
            // the session goes on: the next prompt evaluates what the cancelled one left unfinished
            GenerationResult next = s.generate("Once upon a time", GenerationParams.greedy().withMaxTokens(4), null);
            assertEquals(4, next.tokens().size());
            // a cancel between creating a generation and pulling from it stops the prompt before it starts
            Generation g = s.stream(prompt, one);
            s.cancel();
            assertFalse(g.hasNext());
            assertEquals(StopReason.CANCELLED, g.stopReason());
        }
    }

    @Test
    void ignoreEosKeepsGoingWhereTheModelWouldEnd() {
        try (Session s = session(256)) {
            int eos = 2; // the stories model's </s>
            GenerationParams endNow = GenerationParams.greedy().withMaxTokens(8).withLogitBias(java.util.Map.of(eos, 100f));
            GenerationResult ended = s.generate("Once upon a time", endNow, null);
            assertEquals(StopReason.EOS, ended.stopReason());
            assertEquals(0, ended.tokens().size());
            GenerationResult going = s.generate("Once upon a time", endNow.withIgnoreEos(true), null);
            assertEquals(StopReason.LENGTH, going.stopReason());
            assertEquals(8, going.tokens().size());
            assertFalse(java.util.Arrays.stream(going.tokenIds()).anyMatch(id -> id == eos));
        }
    }

    @Test
    void sessionsOfOneModelShareOneWorkerPool() {
        try (Session a = session(64); Session b = session(64)) {
            assertTrue(a.kernels() == b.kernels(), "two 2-thread sessions of one model use the same pool");
        }
    }

    @Test
    void cancellationStopsAfterTheCurrentToken() {
        try (Session s = session(256)) {
            List<GeneratedToken> got = new ArrayList<>();
            GenerationResult r = s.generate("Once upon a time", GenerationParams.greedy().withMaxTokens(50), t -> {
                got.add(t);
                if (got.size() == 3) {
                    s.cancel();
                }
            });
            assertEquals(StopReason.CANCELLED, r.stopReason());
            assertEquals(3, r.tokens().size());
        }
    }

    @Test
    void promptLongerThanTheContextIsRefused() {
        try (Session s = session(16)) {
            String longPrompt = "word ".repeat(40);
            ContextOverflowException e = assertThrows(ContextOverflowException.class,
                    () -> s.generate(longPrompt, GenerationParams.greedy().withMaxTokens(4), null));
            assertTrue(e.getMessage().contains("context holds 16"), e.getMessage());
        }
    }

    @Test
    void generationStopsWhenTheContextIsFull() {
        try (Session s = session(24)) {
            GenerationResult r = s.generate("Once upon a time", GenerationParams.greedy(), null);
            assertEquals(StopReason.CONTEXT, r.stopReason());
            // the full cache of 24 positions still yields one last token, which is not fed back
            assertEquals(25, r.promptTokens().length + r.tokens().size());
        }
    }

    @Test
    void aPromptExtendingTheLastReusesTheCache() {
        try (Session s = session(256)) {
            GenerationResult first = s.generate("Once upon a time", GenerationParams.greedy().withMaxTokens(8), null);
            int[] prompt = first.promptTokens();
            int[] extended = new int[prompt.length + first.tokens().size()];
            System.arraycopy(prompt, 0, extended, 0, prompt.length);
            System.arraycopy(first.tokenIds(), 0, extended, prompt.length, first.tokens().size());
            GenerationResult second = s.generate(extended, GenerationParams.greedy().withMaxTokens(4), null);
            assertTrue(second.timings().promptTokens() <= 2, "only the tail is evaluated: " + second.timings().promptTokens());
            try (Session fresh = session(256)) {
                GenerationResult reference = fresh.generate(extended, GenerationParams.greedy().withMaxTokens(4), null);
                assertArrayEquals(reference.tokenIds(), second.tokenIds(), "cache reuse changes nothing");
            }
        }
    }

    /**
     * 300 tokens in chunks of 32 (attention's scratch grows several times as the context does, and prompts of 32
     * tokens take the four-row matmul) against one chunk of 300 (panels): the same logits within float rounding.
     */
    @Test
    void chunkedPromptEqualsOneChunk() {
        int[] tokens = new int[300];
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        tokens[0] = 1;
        for (int i = 1; i < tokens.length; i++) {
            tokens[i] = r.nextInt(3, model.config().vocabSize());
        }
        float[] chunked;
        float[] whole;
        try (Session s = session(512)) {
            chunked = s.evaluateAll(tokens);
        }
        try (Session s = model.newSession(SessionOptions.defaults().withContextSize(512).withBatchSize(512).withThreads(2))) {
            whole = s.evaluateAll(tokens);
        }
        double worst = 0;
        for (int i = 0; i < whole.length; i++) {
            worst = Math.max(worst, Math.abs(whole[i] - chunked[i]));
        }
        assertTrue(worst < 1e-2, "largest logit difference " + worst);
    }
}
