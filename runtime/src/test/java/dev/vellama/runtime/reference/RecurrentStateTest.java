package dev.vellama.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.quant.Kernels;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.ContextShift;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.ResultFuture;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.runtime.StopReason;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.model.ModelWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qwen3.5's linear-attention layers carry a recurrent state instead of cells: it holds the sequence after exactly
 * the tokens it took in, so sessions and the engine's slots continue where it stands, start over where a prompt
 * parts from the history earlier, never shift the context, and save and load it with the cells of the attention
 * layers.
 */
class RecurrentStateTest {
    private static final int CONTEXT = 64;
    private static final int CHUNK = 4;

    @TempDir
    static Path dir;

    private static int[] tokens(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        t[0] = 1;
        for (int i = 1; i < n; i++) {
            t[i] = r.nextInt(3, TinyModels.vocabularySize());
        }
        return t;
    }

    private static Session session(Model model, int context) {
        return model.newSession(SessionOptions.defaults().withContextSize(context).withBatchSize(CHUNK).withThreads(1));
    }

    @Test
    void theCacheKeepsNoCellsForLinearLayersAndGoesOnOnlyWhereItsStateStands() throws IOException {
        Path file = TinyModels.write(TinyModels.qwen35(), dir);
        try (GgufFile gguf = GgufFile.open(file); Kernels k = Kernels.create(1)) {
            ModelConfig c = ModelConfig.fromGguf(gguf.metadata(), (int) gguf.tensor("token_embd.weight").rows());
            ModelConfig.DeltaNet dn = c.deltaNet();
            KvCache cache = KvCache.of(c, 0, CONTEXT, GgmlType.F16, GgmlType.F16, CHUNK);
            // one attention layer of four keeps cells; the three others a convolution window and 4 states of 16 × 16
            long cells = KvCache.bytesFor(1, CONTEXT, c.kvDim(), GgmlType.F16, GgmlType.F16);
            long states = 3L * 4 * (3 * dn.convChannels() + 4 * 16 * 16);
            assertEquals(cells + states, cache.bytes());
            assertEquals(cache.bytes(), KvCache.bytesFor(c, CONTEXT, GgmlType.F16, GgmlType.F16, CHUNK));
            assertFalse(cache.holdsLayer(0));
            assertTrue(cache.holdsLayer(3));
            assertEquals(0, cache.maxDiscard(1, 40), "no context shift over a recurrent state");

            ForwardPass pass = new ForwardPass(c, new ModelWeights(gguf, c), k, cache, CHUNK);
            int[] t = tokens(12, 3);
            pass.forwardLast(t, 0, 4, 0);
            pass.forwardLast(t, 4, 4, 4);
            assertTrue(cache.canContinueAt(8));
            assertTrue(cache.canContinueAt(0), "a sequence may always start over");
            assertFalse(cache.canContinueAt(6), "the state holds 8 tokens, not 6");
            assertThrows(IllegalStateException.class, () -> pass.forwardLast(t, 6, 2, 6));
            // starting over gives the logits of the first time
            float[] first = pass.forwardLast(t, 0, 4, 0).clone();
            KvCache fresh = KvCache.of(c, 0, CONTEXT, GgmlType.F16, GgmlType.F16, CHUNK);
            float[] again = new ForwardPass(c, new ModelWeights(gguf, c), k, fresh, CHUNK).forwardLast(t, 0, 4, 0);
            assertArrayEquals(again, first);
        }
    }

    @Test
    void aPromptThatPartsFromTheHistoryEarlierStartsOverAndOneThatExtendsItGoesOn() throws IOException {
        Path file = TinyModels.write(TinyModels.qwen35(), dir);
        int[] a = tokens(20, 11);
        GenerationParams p = GenerationParams.greedy().withMaxTokens(5).withIgnoreEos(true);
        try (Model model = Model.load(file); Session s = session(model, CONTEXT); Session fresh = session(model, CONTEXT)) {
            int[] said = s.generate(a, p, null).tokenIds();
            // the history is a + said; the state has taken in all but the last generated token
            int[] extended = Arrays.copyOf(a, a.length + 6);
            System.arraycopy(said, 0, extended, a.length, 5);
            extended[a.length + 5] = 7;
            GenerationResult on = s.generate(extended, p, null);
            assertEquals(2, on.timings().promptTokens(), "the last generated token and the new one");
            assertArrayEquals(fresh.generate(extended, p, null).tokenIds(), on.tokenIds());

            int[] parted = Arrays.copyOf(a, 12);
            parted[10] = 9;
            GenerationResult over = s.generate(parted, p, null);
            assertEquals(12, over.timings().promptTokens(), "a state cannot go back to position 10");
            fresh.reset();
            assertArrayEquals(fresh.generate(parted, p, null).tokenIds(), over.tokenIds());
        }
    }

    @Test
    void aFullContextEndsTheGenerationInsteadOfShifting() throws IOException {
        Path file = TinyModels.write(TinyModels.qwen35(), dir);
        GenerationParams p = GenerationParams.greedy().withMaxTokens(100).withIgnoreEos(true).withContextShift(ContextShift.SHIFT);
        try (Model model = Model.load(file); Session s = session(model, 32)) {
            GenerationResult r = s.generate(tokens(10, 5), p, null);
            assertEquals(StopReason.CONTEXT, r.stopReason());
            assertEquals(0, r.forgottenTokens());
            // 22 generated tokens fill the context; the 23rd comes from the logits after them
            assertEquals(23, r.tokenIds().length);
        }
    }

    @Test
    void aSavedSessionCarriesTheStatesAndGoesOnAsIfNeverStopped() throws IOException {
        Path file = TinyModels.write(TinyModels.qwen35moe(), dir);
        int[] prompt = tokens(9, 13);
        GenerationParams p = GenerationParams.greedy().withIgnoreEos(true);
        Path saved = dir.resolve("qwen35moe.session");
        try (Model model = Model.load(file); Session straight = session(model, CONTEXT); Session first = session(model, CONTEXT)) {
            GenerationResult all = straight.generate(prompt, p.withMaxTokens(30), null);
            GenerationResult half = first.generate(prompt, p.withMaxTokens(15), null);
            first.save(saved);
            int[] continued = Arrays.copyOf(prompt, prompt.length + 15);
            System.arraycopy(half.tokenIds(), 0, continued, prompt.length, 15);
            try (Session second = session(model, CONTEXT)) {
                second.load(saved);
                GenerationResult rest = second.generate(continued, p.withMaxTokens(15), null);
                assertEquals(1, rest.timings().promptTokens(), "the saved states are used");
                int[] joined = Arrays.copyOf(half.tokenIds(), 30);
                System.arraycopy(rest.tokenIds(), 0, joined, 15, 15);
                assertArrayEquals(all.tokenIds(), joined, "save, load and go on = never stopping");
            }
        }
    }

    private static GenerationResult run(BatchEngine engine, int[] prompt, GenerationParams p) throws Exception {
        ResultFuture done = new ResultFuture();
        engine.submit(prompt, p, done);
        return done.await();
    }

    @Test
    void theEnginesSlotsKeepEachSequencesStateApartAndReuseItOnlyWhereItStands() throws Exception {
        Path file = TinyModels.write(TinyModels.qwen35(), dir);
        GenerationParams p = GenerationParams.greedy().withMaxTokens(6).withIgnoreEos(true);
        int[] first = tokens(17, 17);
        int[] second = tokens(11, 19);
        try (Model model = Model.load(file);
             BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(2, CONTEXT).withBatchSize(CHUNK).withThreads(1));
             Session alone = session(model, CONTEXT)) {
            // two sequences at once, each in a slot with its own states
            ResultFuture fa = new ResultFuture();
            ResultFuture fb = new ResultFuture();
            engine.submit(first, p, fa);
            engine.submit(second, p, fb);
            GenerationResult a = fa.await();
            GenerationResult b = fb.await();
            assertArrayEquals(alone.generate(first, p, null).tokenIds(), a.tokenIds());
            alone.reset();
            assertArrayEquals(alone.generate(second, p, null).tokenIds(), b.tokenIds());
            // a prompt that shares only the first 12 tokens of a slot's history starts over
            int[] parted = Arrays.copyOf(first, 14);
            parted[12] = 5;
            GenerationResult c = run(engine, parted, p);
            assertEquals(parted.length, c.timings().promptTokens());
            alone.reset();
            assertArrayEquals(alone.generate(parted, p, null).tokenIds(), c.tokenIds());
        }
    }
}
