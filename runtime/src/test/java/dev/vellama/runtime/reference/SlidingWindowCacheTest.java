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
import dev.vellama.runtime.ContextShift;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.model.ModelWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sliding-window layers keep only their window's cells (a ring of window + chunk cells): the logits are those of a
 * cache that keeps every position, through chunked prompts, decoding, context shifts and saved sessions (the same
 * greedy tokens), and match the double-precision reference; going back further than the ring holds starts over.
 */
class SlidingWindowCacheTest {
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

    /**
     * The same logits: both caches hand attention the same numbers, so they agree bit for bit whenever both passes
     * run the same compiled code; while the JIT is still at work one of them may run a kernel in the interpreter,
     * whose exp and tanh round differently in the last place, so a few ulps are allowed.
     */
    private static void assertSame(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5f * Math.max(1f, Math.abs(expected[i])), what + ", logit " + i);
        }
    }

    /** The first n rows of a reused logits buffer. */
    private static float[] rows(float[] logits, int n, ModelConfig c) {
        return Arrays.copyOf(logits, n * c.vocabSize());
    }

    @Test
    void aRingGivesTheLogitsOfKeepingEveryPosition() throws IOException {
        for (TinySpec spec : new TinySpec[] {TinyModels.gemma2(), TinyModels.gemma3(), TinyModels.phi3()}) {
            Path file = TinyModels.write(spec, dir);
            boolean blocks = spec.headDim == 32; // phi3's heads of 16 do not divide into q8_0 blocks
            for (GgmlType type : blocks ? new GgmlType[] {GgmlType.F16, GgmlType.F32, GgmlType.Q8_0} : new GgmlType[] {GgmlType.F16}) {
                try (GgufFile gguf = GgufFile.open(file); Kernels k = Kernels.create(1)) {
                    ModelConfig c = ModelConfig.fromGguf(gguf.metadata(), (int) gguf.tensor("token_embd.weight").rows());
                    ModelWeights w = new ModelWeights(gguf, c);
                    KvCache ring = KvCache.of(c, 0, CONTEXT, type, type, CHUNK);
                    KvCache whole = KvCache.of(c, 0, CONTEXT, type, type);
                    assertTrue(ring.bounded(), spec + ": a window of " + c.slidingWindow() + " in a context of " + CONTEXT);
                    assertFalse(whole.bounded());
                    long slidingLayers = java.util.stream.IntStream.range(0, c.layerCount()).filter(ring::slidingLayer).count();
                    long perPosition = whole.bytes() / CONTEXT / c.layerCount();
                    assertEquals(whole.bytes() - slidingLayers * (CONTEXT - c.slidingWindow() - CHUNK) * perPosition, ring.bytes(),
                            spec + ": sliding layers hold window + chunk cells");
                    ForwardPass a = new ForwardPass(c, w, k, ring, CHUNK);
                    ForwardPass b = new ForwardPass(c, w, k, whole, CHUNK);
                    int[] t = tokens(CONTEXT, 5);
                    SplittableRandom sizes = new SplittableRandom(3);
                    for (int pos = 0; pos < CONTEXT; ) {
                        int n = Math.min(sizes.nextInt(1, CHUNK + 1), CONTEXT - pos);
                        assertSame(rows(b.forwardAll(t, pos, n, pos), n, c), rows(a.forwardAll(t, pos, n, pos), n, c),
                                spec + " " + type + ": logits of positions " + pos + ".." + (pos + n - 1));
                        pos += n;
                    }
                    assertEquals(CONTEXT - (c.slidingWindow() + CHUNK), ring.slidingFrom(), "the ring's oldest position");

                    // a context shift: the ring turns its keys in place and moves its origin
                    int keep = 1;
                    int discard = Math.min((CONTEXT - keep) / 2, ring.maxDiscard(keep, CONTEXT));
                    a.shiftCache(ring, keep, discard, CONTEXT);
                    b.shiftCache(whole, keep, discard, CONTEXT);
                    int at = CONTEXT - discard;
                    int[] more = tokens(12, 6);
                    for (int i = 0; i < more.length; i += 3) {
                        assertSame(rows(b.forwardAll(more, i, 3, at + i), 3, c), rows(a.forwardAll(more, i, 3, at + i), 3, c),
                                spec + " " + type + ": logits after a shift, position " + (at + i));
                    }
                    int end = at + more.length;
                    assertThrows(IllegalArgumentException.class, () -> ring.shift(end - 3, 2, end, (l, row) -> { }),
                            "a shift that would leave the next position's window without its cells");
                    assertThrows(IllegalStateException.class, () -> a.forwardLast(more, 0, 1, 10),
                            "going back to a position whose window the ring has forgotten");
                }
            }
        }
    }

    @Test
    void aRingMatchesTheReferenceInChunksAndTokenByToken() throws IOException {
        for (TinySpec spec : new TinySpec[] {TinyModels.gemma2(), TinyModels.gemma3(), TinyModels.phi3()}) {
            Path file = TinyModels.write(spec, dir);
            int[] t = tokens(60, 2024);
            double[][] expected = new ReferenceTransformer(file, CONTEXT).logits(t);
            for (int batch : new int[] {1, CHUNK}) {
                float[] actual;
                try (Model model = Model.load(file); Session s = model.newSession(
                        SessionOptions.defaults().withContextSize(CONTEXT).withBatchSize(batch).withThreads(2))) {
                    actual = s.evaluateAll(t);
                }
                int vocab = expected[0].length;
                double worst = 0;
                for (int p = 0; p < t.length; p++) {
                    for (int i = 0; i < vocab; i++) {
                        worst = Math.max(worst, Math.abs(actual[p * vocab + i] - expected[p][i]));
                    }
                }
                double bound = spec.architecture.startsWith("gemma")
                        ? ArchitectureParityTest.MAX_ABS_DIFF_F16_GELU : ArchitectureParityTest.MAX_ABS_DIFF;
                assertTrue(worst <= bound, spec + ", chunks of " + batch + ": max |engine − reference| = " + worst);
            }
        }
    }

    private static Session session(Model model, int batch) {
        return model.newSession(SessionOptions.defaults().withContextSize(CONTEXT).withBatchSize(batch).withThreads(1));
    }

    /**
     * Speculative decoding on a ring (batches of 4: rounds of at most three proposals, whose dropped cells the ring
     * may have overwritten past the window): the model drafting for itself gives what a session keeping every
     * position gives without a draft.
     */
    @Test
    void aDraftOnARingGivesWhatPlainDecodingGives() throws IOException {
        for (TinySpec spec : new TinySpec[] {TinyModels.gemma2(), TinyModels.gemma3(), TinyModels.phi3()}) {
            Path file = TinyModels.write(spec, dir);
            int[] prompt = Arrays.copyOf(tokens(4, 11), 4);
            GenerationParams p = GenerationParams.greedy().withMaxTokens(50).withIgnoreEos(true);
            try (Model model = Model.load(file); Session ring = session(model, CHUNK); Session draft = session(model, CHUNK);
                 Session whole = session(model, CONTEXT)) {
                ring.useDraft(draft, 8, 0f);
                GenerationResult a = ring.generate(prompt, p, null);
                GenerationResult b = whole.generate(prompt, p, null);
                assertArrayEquals(b.tokenIds(), a.tokenIds(), spec.toString());
                assertTrue(ring.draftStats().drafted() > 0, spec + ": " + ring.draftStats());
            }
        }
    }

    @Test
    void aSessionOnARingGeneratesWhatOneKeepingEveryPositionDoesThroughShifts() throws IOException {
        Path file = TinyModels.write(TinyModels.gemma3(), dir);
        int[] prompt = Arrays.copyOf(tokens(4, 9), 4);
        GenerationParams p = GenerationParams.greedy().withMaxTokens(200).withIgnoreEos(true).withContextShift(ContextShift.SHIFT);
        try (Model model = Model.load(file); Session ring = session(model, CHUNK); Session whole = session(model, CONTEXT)) {
            // a batch as large as the context leaves no room to save: that session keeps every position
            GenerationResult a = ring.generate(prompt, p, null);
            GenerationResult b = whole.generate(prompt, p, null);
            assertEquals(200, a.tokenIds().length);
            assertTrue(a.forgottenTokens() > 100, "the context shifted: " + a.forgottenTokens() + " tokens forgotten");
            assertEquals(b.forgottenTokens(), a.forgottenTokens());
            assertArrayEquals(b.tokenIds(), a.tokenIds());
        }
    }

    @Test
    void goingBackWithinTheRingReusesItAndFurtherBackStartsOver() throws IOException {
        Path file = TinyModels.write(TinyModels.gemma3(), dir);
        int[] a = tokens(50, 11);
        GenerationParams p = GenerationParams.greedy().withMaxTokens(5).withIgnoreEos(true);
        try (Model model = Model.load(file); Session s = session(model, CHUNK); Session fresh = session(model, CHUNK)) {
            int[] said = s.generate(a, p, null).tokenIds();
            // parts from the history at 52 (after two of the generated tokens): the ring, 6 + 4 cells holding positions
            // 44..53, still holds the window before it
            int[] near = Arrays.copyOf(a, 54);
            near[50] = said[0];
            near[51] = said[1];
            near[52] = 7;
            near[53] = 8;
            GenerationResult r = s.generate(near, p, null);
            assertEquals(2, r.timings().promptTokens(), "only the new tokens are evaluated");
            // parts at 20: the ring has forgotten positions 15..19, so everything is evaluated again
            int[] far = Arrays.copyOf(a, 24);
            far[20] = 9;
            GenerationResult again = s.generate(far, p, null);
            assertEquals(24, again.timings().promptTokens());
            assertArrayEquals(fresh.generate(far, p, null).tokenIds(), again.tokenIds());
        }
    }

    @Test
    void aSavedRingLoadsIntoEitherKindOfSessionAndGoesOn() throws IOException {
        Path file = TinyModels.write(TinyModels.gemma2(), dir);
        int[] prompt = tokens(4, 13);
        GenerationParams p = GenerationParams.greedy().withIgnoreEos(true).withContextShift(ContextShift.SHIFT);
        Path saved = dir.resolve("ring.session");
        try (Model model = Model.load(file); Session straight = session(model, CHUNK); Session first = session(model, CHUNK)) {
            GenerationResult all = straight.generate(prompt, p.withMaxTokens(90), null);
            GenerationResult half = first.generate(prompt, p.withMaxTokens(50), null);
            first.save(saved);
            int[] continued = Arrays.copyOf(prompt, prompt.length + 50);
            System.arraycopy(half.tokenIds(), 0, continued, prompt.length, 50);
            for (int batch : new int[] {CHUNK, 2, CONTEXT}) { // a smaller ring, the same, every position
                try (Session second = session(model, batch)) {
                    second.load(saved);
                    GenerationResult rest = second.generate(continued, p.withMaxTokens(40), null);
                    assertEquals(1, rest.timings().promptTokens(), "batch " + batch + ": the saved cells are used");
                    int[] joined = Arrays.copyOf(half.tokenIds(), 90);
                    System.arraycopy(rest.tokenIds(), 0, joined, 50, 40);
                    assertArrayEquals(all.tokenIds(), joined, "batch " + batch + ": save, load and go on = never stopping");
                }
            }
        }
    }

    /** A request's result from the engine, or its failure. */
    private static GenerationResult run(dev.vellama.runtime.BatchEngine engine, int[] prompt, GenerationParams p) throws Exception {
        dev.vellama.runtime.ResultFuture done = new dev.vellama.runtime.ResultFuture();
        engine.submit(prompt, p, done);
        return done.await();
    }

    @Test
    void theEnginesSlotsUseARingAndReuseOnlyWhatItHolds() throws Exception {
        Path file = TinyModels.write(TinyModels.gemma3(), dir);
        GenerationParams p = GenerationParams.greedy().withMaxTokens(5).withIgnoreEos(true);
        int[] first = tokens(50, 17);
        int[] second = Arrays.copyOf(first, 24);
        second[20] = 5; // parts from the first at 20, long before the ring's window
        try (Model model = Model.load(file);
             dev.vellama.runtime.BatchEngine engine = new dev.vellama.runtime.BatchEngine(model,
                     dev.vellama.runtime.BatchEngine.Options.of(1, CONTEXT).withBatchSize(CHUNK).withThreads(1));
             Session alone = session(model, CHUNK)) {
            GenerationResult a = run(engine, first, p);
            assertArrayEquals(alone.generate(first, p, null).tokenIds(), a.tokenIds());
            GenerationResult b = run(engine, second, p);
            assertEquals(second.length, b.timings().promptTokens(), "the slot's ring no longer holds position 15");
            alone.reset();
            assertArrayEquals(alone.generate(second, p, null).tokenIds(), b.tokenIds());
            int[] third = Arrays.copyOf(second, second.length + 3);
            third[24] = b.tokenIds()[0];
            third[25] = b.tokenIds()[1];
            third[26] = 6; // parts at 26: the ring holds 21..25
            GenerationResult c = run(engine, third, p);
            assertEquals(1, c.timings().promptTokens());
            alone.reset();
            assertArrayEquals(alone.generate(third, p, null).tokenIds(), c.tokenIds());
        }
    }
}
