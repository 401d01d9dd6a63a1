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

import dev.vellama.gguf.GgufValue;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.ResultFuture;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.runtime.UnsupportedModelException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gemma 3n around the forward pass (its logits are {@link TinyModelGoldenTest}'s): what llama.cpp fixes for it read
 * as fixed, its streams kept apart between the sequences of a batch and across a saved session, and the files it
 * refuses.
 */
class Gemma3nTest {
    private static final int CONTEXT = 64;
    private static final int CHUNK = 4;

    @TempDir
    static Path dir;
    private static Path file;

    @BeforeAll
    static void write() {
        file = TinyModels.write(TinyModels.gemma3n(), dir);
    }

    private static int[] tokens(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        t[0] = 1;
        for (int i = 1; i < n; i++) {
            t[i] = r.nextInt(3, TinyModels.vocabularySize());
        }
        return t;
    }

    private static Session session(Model model) {
        return model.newSession(SessionOptions.defaults().withContextSize(CONTEXT).withBatchSize(CHUNK).withThreads(1));
    }

    @Test
    void readsWhatLlamaCppFixes() throws IOException {
        try (Model m = Model.load(file)) {
            ModelConfig c = m.config();
            assertTrue(c.slidingLayer(0));
            assertFalse(c.slidingLayer(1), "a scalar pattern of 2: every second layer global");
            assertEquals(256, c.layout().perLayerInput());
            assertEquals(3, c.kvLayer(3), "four layers: none shares a cache (that starts at layer 20)");
            assertEquals(30f, c.finalSoftcap());
            assertEquals(1f, c.attentionScale());
            UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                    () -> m.newSession(SessionOptions.defaults().withDevice(SessionOptions.Device.CUDA, SessionOptions.ALL_LAYERS)));
            assertEquals("gemma3n (layers of different shapes, shared caches, per-layer inputs) does not run on CUDA yet:"
                    + " use --device cpu", e.getMessage());
        }
    }

    @Test
    void refusesLayoutsLlamaCppDoesNotHave() throws IOException {
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> Model.load(GgufEdits.withKey(file, dir.resolve("streams.gguf"), "gemma3n.altup.num_inputs", GgufValue.uint32(3))));
        assertEquals("gemma3n with 3 AltUp streams (active 0) and per-layer inputs of 256 is not supported; llama.cpp's"
                + " layout has 4, 0 and 256", e.getMessage());
        e = assertThrows(UnsupportedModelException.class,
                () -> Model.load(GgufEdits.withoutTensor(file, dir.resolve("nolaurel.gguf"), "blk.2.laurel_r.weight")));
        assertEquals("tensor 'blk.2.laurel_r.weight' is missing: the file does not have the gemma3n layout this runtime"
                + " expects", e.getMessage());
    }

    @Test
    void aSavedSessionGoesOnAsIfNeverStopped() throws IOException {
        int[] prompt = tokens(9, 51);
        GenerationParams p = GenerationParams.greedy().withIgnoreEos(true);
        Path saved = dir.resolve("gemma3n.session");
        try (Model model = Model.load(file); Session straight = session(model); Session first = session(model)) {
            GenerationResult all = straight.generate(prompt, p.withMaxTokens(24), null);
            GenerationResult half = first.generate(prompt, p.withMaxTokens(12), null);
            first.save(saved);
            int[] continued = Arrays.copyOf(prompt, prompt.length + 12);
            System.arraycopy(half.tokenIds(), 0, continued, prompt.length, 12);
            try (Session second = session(model)) {
                second.load(saved);
                GenerationResult rest = second.generate(continued, p.withMaxTokens(12), null);
                assertEquals(1, rest.timings().promptTokens(), "the saved cells are used");
                int[] joined = Arrays.copyOf(half.tokenIds(), 24);
                System.arraycopy(rest.tokenIds(), 0, joined, 12, 12);
                assertArrayEquals(all.tokenIds(), joined, "save, load and go on = never stopping");
            }
        }
    }

    @Test
    void slotsOfTheBatchEngineGiveWhatEachSequenceGivesAlone() throws Exception {
        GenerationParams p = GenerationParams.greedy().withMaxTokens(8).withIgnoreEos(true);
        int[] first = tokens(17, 61);
        int[] second = tokens(11, 63);
        try (Model model = Model.load(file);
             BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(2, CONTEXT).withBatchSize(CHUNK).withThreads(1));
             Session alone = session(model)) {
            ResultFuture fa = new ResultFuture();
            ResultFuture fb = new ResultFuture();
            engine.submit(first, p, fa);
            engine.submit(second, p, fb);
            GenerationResult a = fa.await();
            GenerationResult b = fb.await();
            assertArrayEquals(alone.generate(first, p, null).tokenIds(), a.tokenIds());
            alone.reset();
            assertArrayEquals(alone.generate(second, p, null).tokenIds(), b.tokenIds());
        }
    }
}
