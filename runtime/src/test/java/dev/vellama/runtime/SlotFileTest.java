package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch engine's slots looked at, saved to files, restored and erased (llama-server's {@code /slots}), on the
 * trained stories model: a restored slot continues exactly as the slot that was saved, and files move between
 * slots and sessions.
 */
class SlotFileTest {
    private static final String PROMPT = "Once upon a time, there was a little girl named";
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

    private static GenerationResult run(BatchEngine engine, int[] prompt, int tokens) throws Exception {
        ResultFuture f = new ResultFuture();
        engine.submit(prompt, GenerationParams.greedy().withMaxTokens(tokens), f);
        return f.await();
    }

    /** The slot that holds something (the engine's other slots are empty in these tests). */
    private static BatchEngine.SlotState holder(BatchEngine engine) {
        return engine.slotStates().stream().filter(s -> s.cachedTokens() > 0).findFirst().orElseThrow();
    }

    @Test
    void aRestoredSlotContinuesAsTheSavedOneWithoutEvaluatingThePromptAgain(@TempDir Path dir) throws Exception {
        int[] prompt = model.tokenizer().encode(PROMPT, true, true);
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(2, 512).withThreads(2))) {
            List<BatchEngine.SlotState> fresh = engine.slotStates();
            assertEquals(2, fresh.size());
            for (BatchEngine.SlotState s : fresh) {
                assertFalse(s.processing());
                assertEquals(-1, s.requestId());
                assertEquals(0, s.cachedTokens());
                assertNull(s.params());
            }
            assertTrue(engine.canSaveSlots());
            GenerationResult first = run(engine, prompt, 12);
            assertEquals(prompt.length, first.timings().promptTokens());
            BatchEngine.SlotState held = holder(engine);
            assertEquals(0, held.requestId());
            assertEquals(prompt.length, held.promptTokens());
            assertEquals(12, held.generatedTokens());
            assertEquals(12, held.params().maxTokens());
            // the prompt and every generated token but the last (sampled, never evaluated) have cells
            assertEquals(prompt.length + 11, held.cachedTokens());

            Path file = dir.resolve("slot.bin");
            BatchEngine.SlotFile saved = engine.saveSlot(held.slot(), file);
            assertEquals(held.cachedTokens(), saved.tokens());
            assertEquals(Files.size(file), saved.bytes());
            assertEquals(held.cachedTokens(), engine.eraseSlot(held.slot()));
            assertEquals(0, engine.eraseSlot(held.slot()));
            int other = 1 - held.slot();
            BatchEngine.SlotFile restored = engine.restoreSlot(other, file);
            assertEquals(saved.tokens(), restored.tokens());
            assertEquals(saved.tokens(), engine.slotStates().get(other).cachedTokens());

            // the same request again: it goes to the restored slot, evaluates one token and says the same
            GenerationResult again = run(engine, prompt, 12);
            assertEquals(1, again.timings().promptTokens());
            assertEquals(first.text(), again.text());
            assertEquals(1, engine.slotStates().get(other).requestId());

            // a session takes the slot's file, and a slot takes a session's
            try (Session s = model.newSession(SessionOptions.defaults().withContextSize(256).withThreads(2))) {
                s.load(file);
                assertEquals(saved.tokens(), s.position());
                Path sessionFile = dir.resolve("session.bin");
                s.save(sessionFile);
                engine.eraseSlot(other);
                assertEquals(saved.tokens(), engine.restoreSlot(other, sessionFile).tokens());
            }
            assertEquals(first.text(), run(engine, prompt, 12).text());
        }
    }

    @Test
    void savingWaitsForTheRunningRequestAndNoNewOneTakesTheSlotMeanwhile(@TempDir Path dir) throws Exception {
        int[] prompt = model.tokenizer().encode(PROMPT, true, true);
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(1, 512).withThreads(2))) {
            ResultFuture running = new ResultFuture();
            engine.submit(prompt, GenerationParams.greedy().withMaxTokens(48).withIgnoreEos(true), running);
            BatchEngine.SlotState busy = engine.slotStates().getFirst();
            assertTrue(busy.processing());
            BatchEngine.SlotFile saved = engine.saveSlot(0, dir.resolve("busy.bin"));
            GenerationResult r = running.await(); // done already: the save waited for it
            assertEquals(48, r.tokens().size());
            assertEquals(prompt.length + 47, saved.tokens());
            assertFalse(engine.slotStates().getFirst().processing());
        }
    }

    @Test
    void aRequestForABusySlotWaitsWhileLaterRequestsForOtherSlotsGoAhead() throws Exception {
        int[] prompt = model.tokenizer().encode(PROMPT, true, true);
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(2, 512).withThreads(2))) {
            GenerationParams longRun = GenerationParams.greedy().withMaxTokens(200).withIgnoreEos(true);
            ResultFuture a = new ResultFuture();
            BatchEngine.Request first = engine.submit(prompt, longRun, a, 0);
            ResultFuture b = new ResultFuture();
            BatchEngine.Request second = engine.submit(prompt, GenerationParams.greedy().withMaxTokens(4), b, 0);
            int[] secondsSlotWhenThirdEnded = {-2};
            ResultFuture c = new ResultFuture() {
                @Override
                public void onEnd(GenerationResult r) {
                    secondsSlotWhenThirdEnded[0] = second.slot();
                    super.onEnd(r);
                }
            };
            BatchEngine.Request third = engine.submit(prompt, GenerationParams.greedy().withMaxTokens(4), c);
            c.await();
            assertEquals(1, third.slot());
            assertEquals(-1, secondsSlotWhenThirdEnded[0], "the request for busy slot 0 was still waiting");
            assertEquals(200, a.await().tokens().size());
            GenerationResult r = b.await();
            assertEquals(0, first.slot());
            assertEquals(0, second.slot());
            // it ran in the slot the first one left, whose cache began with its whole prompt
            assertEquals(1, r.timings().promptTokens());
            assertThrows(IllegalArgumentException.class, () -> engine.submit(prompt, GenerationParams.greedy(), new ResultFuture(), 2));
            assertThrows(IllegalArgumentException.class, () -> engine.submit(prompt, GenerationParams.greedy(), new ResultFuture(), -2));
        }
    }

    @Test
    void aListenerMayLookAtTheSlotsButNotChangeThem() throws Exception {
        int[] prompt = model.tokenizer().encode(PROMPT, true, true);
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(1, 256).withThreads(2))) {
            List<Boolean> seen = new java.util.ArrayList<>();
            List<RuntimeException> refused = new java.util.ArrayList<>();
            ResultFuture f = new ResultFuture() {
                @Override
                public void onToken(GeneratedToken token) {
                    seen.add(engine.slotStates().getFirst().processing());
                    try {
                        engine.eraseSlot(0);
                    } catch (IllegalStateException e) {
                        refused.add(e);
                    }
                }
            };
            engine.submit(prompt, GenerationParams.greedy().withMaxTokens(3), f);
            assertEquals(3, f.await().tokens().size());
            assertEquals(List.of(true, true, true), seen);
            assertEquals(3, refused.size(), "no wait for the engine thread from the engine thread");
        }
    }

    @Test
    void badSlotsAndBadFilesAreRefusedAndLeaveTheSlotEmpty(@TempDir Path dir) throws Exception {
        int[] prompt = model.tokenizer().encode(PROMPT, true, true);
        try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(2, 512).withThreads(2))) {
            assertThrows(IllegalArgumentException.class, () -> engine.saveSlot(2, dir.resolve("x")));
            assertThrows(IllegalArgumentException.class, () -> engine.restoreSlot(-1, dir.resolve("x")));
            assertThrows(IllegalArgumentException.class, () -> engine.eraseSlot(7));
            SessionFileException empty = assertThrows(SessionFileException.class, () -> engine.saveSlot(0, dir.resolve("empty.bin")));
            assertTrue(empty.getMessage().contains("holds no tokens"), empty.getMessage());
            SessionFileException missing = assertThrows(SessionFileException.class, () -> engine.restoreSlot(0, dir.resolve("none.bin")));
            assertTrue(missing.getMessage().contains("no saved session"), missing.getMessage());

            run(engine, prompt, 4);
            int slot = holder(engine).slot();
            Path file = dir.resolve("good.bin");
            engine.saveSlot(slot, file);
            Path cut = dir.resolve("cut.bin");
            byte[] bytes = Files.readAllBytes(file);
            Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
            SessionFileException shortFile = assertThrows(SessionFileException.class, () -> engine.restoreSlot(slot, cut));
            assertTrue(shortFile.getMessage().contains("cut short"), shortFile.getMessage());
            assertEquals(0, engine.slotStates().get(slot).cachedTokens());

            // a file of another model is refused by name
            try (Model other = Model.load(TestData.model("tiny-llama3-q8_0.gguf"));
                 Session s = other.newSession(SessionOptions.defaults().withContextSize(128).withThreads(2))) {
                s.generate(other.tokenizer().encode("Hello", true, true), GenerationParams.greedy().withMaxTokens(2), null);
                Path foreign = dir.resolve("foreign.bin");
                s.save(foreign);
                SessionFileException e = assertThrows(SessionFileException.class, () -> engine.restoreSlot(slot, foreign));
                assertTrue(e.getMessage().contains("was saved with the model"), e.getMessage());
            }
            // the engine still serves
            assertEquals(4, run(engine, prompt, 4).tokens().size());
        }
        try (BatchEngine closed = new BatchEngine(model, BatchEngine.Options.of(1, 256).withThreads(2))) {
            closed.close();
            assertThrows(dev.vellama.VellamaException.class, closed::slotStates);
        }
    }
}
