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
import dev.vellama.runtime.model.KvCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gemma 4's layers of different shapes around the forward pass (its logits are {@link TinyModelGoldenTest}'s): the
 * layout read from the file, a cache with cells of each layer's own width and none for the layers that read an
 * earlier layer's, saved sessions and batched slots over that cache, and the files it refuses.
 */
class Gemma4LayoutTest {
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

    private static Session session(Model model) {
        return model.newSession(SessionOptions.defaults().withContextSize(CONTEXT).withBatchSize(CHUNK).withThreads(1));
    }

    @Test
    void readsEachLayersShapeAndKeepsCellsOnlyForLayersWithTheirOwnKeys() throws IOException {
        Path file = TinyModels.write(TinyModels.gemma4(), dir);
        try (Model m = Model.load(file)) {
            ModelConfig c = m.config();
            assertTrue(c.layout().present());
            assertEquals(16, c.headDim(0));
            assertEquals(32, c.headDim(3));
            assertEquals(2, c.headCountKv(0));
            assertEquals(1, c.headCountKv(5));
            assertEquals(64, c.queryDim(0));
            assertEquals(128, c.queryDim(3));
            assertEquals(128, c.queryDim(), "the widest layer's");
            assertEquals(32, c.kvDim(0));
            assertEquals(32, c.kvDim(3));
            assertEquals(16, c.ropeDims(0));
            assertEquals(32, c.ropeDims(3));
            assertTrue(c.slidingLayer(4));
            assertFalse(c.slidingLayer(5));
            assertArrayEquals(new int[] {0, 1, 2, 3, 2, 3}, new int[] {c.kvLayer(0), c.kvLayer(1), c.kvLayer(2),
                    c.kvLayer(3), c.kvLayer(4), c.kvLayer(5)}, "the shared layers read the last sliding and global ones");
            assertArrayEquals(new int[] {128, 128, 128, 128, 256, 256}, c.feedForwardLength());
            assertEquals(8, c.layout().perLayerInput());
            assertEquals(1f, c.attentionScale());

            KvCache cache = KvCache.of(c, 0, CONTEXT, GgmlType.F16, GgmlType.F16);
            for (int l = 0; l < 4; l++) {
                assertTrue(cache.holdsLayer(l), "layer " + l);
            }
            assertFalse(cache.holdsLayer(4));
            assertFalse(cache.holdsLayer(5));
            // four layers of 32 features, keys and values, F16
            assertEquals(4L * CONTEXT * 32 * 2 * 2, cache.bytes());
            assertEquals(cache.bytes(), KvCache.bytesFor(c, CONTEXT, GgmlType.F16, GgmlType.F16, CONTEXT));

            UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                    () -> m.newSession(SessionOptions.defaults().withDevice(SessionOptions.Device.CUDA, SessionOptions.ALL_LAYERS)));
            assertEquals("gemma4 (layers of different shapes, shared caches, per-layer inputs) does not run on CUDA yet:"
                    + " use --device cpu", e.getMessage());
        }
    }

    @Test
    void theMixtureOfExpertsRunsBesideEveryDenseBlock() throws IOException {
        Path file = TinyModels.write(TinyModels.gemma4moe(), dir);
        try (Model m = Model.load(file)) {
            ModelConfig c = m.config();
            assertEquals(8, c.experts().count());
            assertEquals(2, c.experts().used());
            assertEquals(32, c.experts().feedForward());
            assertTrue(c.experts().normalize());
            assertTrue(c.experts().inLayer(0) && c.experts().inLayer(5));
            assertEquals(256, c.maxFeedForward(), "the dense blocks run beside the experts");
        }
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> Model.load(GgufEdits.withoutTensor(file, dir.resolve("noscale.gguf"), "blk.1.ffn_gate_inp.scale")));
        assertEquals("tensor 'blk.1.ffn_gate_inp.scale' is missing: the file does not have the gemma4 layout this runtime"
                + " expects", e.getMessage());
    }

    @Test
    void refusesLayoutsItCannotRun() throws IOException {
        Path file = TinyModels.write(TinyModels.gemma4(), dir);
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> Model.load(GgufEdits.withKey(file, dir.resolve("shared3.gguf"), "gemma4.attention.shared_kv_layers",
                        GgufValue.uint32(3))));
        assertEquals("attention.shared_kv_layers 3 of 6 layers: the two layers before the shared ones must be a sliding"
                + " and a global layer", e.getMessage());
        e = assertThrows(UnsupportedModelException.class,
                () -> Model.load(GgufEdits.withKey(file, dir.resolve("experts.gguf"), "gemma4.expert_count", GgufValue.uint32(8))));
        assertEquals("a gemma4 model needs expert_count and expert_used_count with 1 <= used <= count; the file says 8 and 0",
                e.getMessage());
        e = assertThrows(UnsupportedModelException.class,
                () -> Model.load(GgufEdits.withKey(file, dir.resolve("pattern.gguf"), "gemma4.attention.sliding_window_pattern",
                        GgufValue.uint32(5))));
        assertEquals("gemma4.attention.sliding_window_pattern must list, for each of the 6 layers, whether it slides;"
                + " the file has UINT32", e.getMessage());
        e = assertThrows(UnsupportedModelException.class,
                () -> Model.load(GgufEdits.withoutTensor(file, dir.resolve("nok.gguf"), "blk.2.attn_k.weight")));
        assertEquals("tensor 'blk.2.attn_k.weight' is missing: the file does not have the gemma4 layout this runtime expects",
                e.getMessage());
    }

    @Test
    void aSavedSessionGoesOnAsIfNeverStopped() throws IOException {
        Path file = TinyModels.write(TinyModels.gemma4(), dir);
        int[] prompt = tokens(9, 31);
        GenerationParams p = GenerationParams.greedy().withIgnoreEos(true);
        Path saved = dir.resolve("gemma4.session");
        try (Model model = Model.load(file); Session straight = session(model); Session first = session(model)) {
            GenerationResult all = straight.generate(prompt, p.withMaxTokens(30), null);
            GenerationResult half = first.generate(prompt, p.withMaxTokens(15), null);
            first.save(saved);
            int[] continued = Arrays.copyOf(prompt, prompt.length + 15);
            System.arraycopy(half.tokenIds(), 0, continued, prompt.length, 15);
            try (Session second = session(model)) {
                second.load(saved);
                GenerationResult rest = second.generate(continued, p.withMaxTokens(15), null);
                assertEquals(1, rest.timings().promptTokens(), "the saved cells are used");
                int[] joined = Arrays.copyOf(half.tokenIds(), 30);
                System.arraycopy(rest.tokenIds(), 0, joined, 15, 15);
                assertArrayEquals(all.tokenIds(), joined, "save, load and go on = never stopping");
            }
        }
    }

    @Test
    void slotsOfTheBatchEngineGiveWhatEachSequenceGivesAlone() throws Exception {
        Path file = TinyModels.write(TinyModels.gemma4(), dir);
        GenerationParams p = GenerationParams.greedy().withMaxTokens(8).withIgnoreEos(true);
        int[] first = tokens(17, 41);
        int[] second = tokens(11, 43);
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
