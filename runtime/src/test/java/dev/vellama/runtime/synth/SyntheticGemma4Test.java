package dev.vellama.runtime.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Gemma 4 shapes synth writes: the full-size ones as the runtime reads their metadata (their tensors would take
 * gigabytes), and scaled-down ones, written by the same code, loaded and run.
 */
class SyntheticGemma4Test {
    private static final String VOCABULARY = "tiny-qwen3-q8_0.gguf";
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    /** The configuration the runtime reads from a shape's metadata alone, written as a file without tensors. */
    private ModelConfig configOf(String name) throws IOException {
        Path file = dir.resolve(name + "-metadata.gguf");
        try (GgufFile vocab = GgufFile.open(TestData.model(VOCABULARY))) {
            SyntheticModel.metadata(ModelShape.named(name), SyntheticModel.FileType.Q4_0, vocab.metadata()).write(file);
        }
        try (GgufFile f = GgufFile.open(file)) {
            return ModelConfig.fromGguf(f.metadata(), f.metadata().getStringArray("tokenizer.ggml.tokens").length);
        }
    }

    private static int[] kvLayers(ModelConfig c) {
        return IntStream.range(0, c.layerCount()).map(c::kvLayer).toArray();
    }

    private static long slidingLayers(ModelConfig c) {
        return IntStream.range(0, c.layerCount()).filter(c::slidingLayer).count();
    }

    @Test
    void gemma4E2bHasPerLayerInputsAndItsLastTwentyLayersShareCaches() throws IOException {
        ModelConfig c = configOf("gemma-4-e2b");
        assertEquals(35, c.layerCount());
        assertEquals(1536, c.embeddingLength());
        assertEquals(8, c.headCount());
        assertEquals(28, slidingLayers(c), "four sliding layers, then a full one");
        assertTrue(c.slidingLayer(3));
        assertFalse(c.slidingLayer(4));
        assertFalse(c.slidingLayer(34));
        assertEquals(256, c.headDim(0));
        assertEquals(512, c.headDim(4));
        assertEquals(256, c.ropeDims(0));
        assertEquals(512, c.ropeDims(4), "turned whole; rope_freqs stills all but a quarter");
        for (int l = 0; l < 35; l++) {
            assertEquals(1, c.headCountKv(l), "layer " + l);
        }
        int[] kv = kvLayers(c);
        assertArrayEquals(IntStream.range(0, 15).toArray(), Arrays.copyOf(kv, 15));
        assertEquals(13, kv[15], "a shared sliding layer reads layer 13's cache");
        assertEquals(14, kv[19], "a shared full layer reads layer 14's");
        assertEquals(14, kv[34]);
        assertEquals(6144, c.feedForwardLength()[14]);
        assertEquals(12288, c.feedForwardLength()[15], "the shared layers' feed-forward is twice as wide");
        assertEquals(256, c.layout().perLayerInput());
        assertEquals(512, c.slidingWindow());
        assertEquals(30f, c.finalSoftcap());
        assertEquals(1_000_000f, c.ropeBase());
        assertEquals(10_000f, c.ropeBaseLocal());
        assertFalse(c.experts().present());
    }

    @Test
    void gemma4With128ExpertsBesideEachDenseBlock() throws IOException {
        ModelConfig c = configOf("gemma-4-26b-a4b");
        assertEquals(30, c.layerCount());
        assertEquals(2816, c.embeddingLength());
        assertEquals(25, slidingLayers(c), "five sliding layers, then a full one");
        assertEquals(8, c.headCountKv(0));
        assertEquals(2, c.headCountKv(5));
        assertEquals(256, c.headDim(0));
        assertEquals(512, c.headDim(29));
        assertArrayEquals(IntStream.range(0, 30).toArray(), kvLayers(c), "no layer shares a cache");
        assertEquals(2112, c.feedForwardLength()[29]);
        assertEquals(0, c.layout().perLayerInput());
        assertEquals(1024, c.slidingWindow());
        assertEquals(128, c.experts().count());
        assertEquals(8, c.experts().used());
        assertEquals(704, c.experts().feedForward());
        assertTrue(c.experts().inLayer(0));
    }

    @Test
    void gemma4Dense31b() throws IOException {
        ModelConfig c = configOf("gemma-4-31b");
        assertEquals(60, c.layerCount());
        assertEquals(5376, c.embeddingLength());
        assertEquals(32, c.headCount());
        assertEquals(50, slidingLayers(c));
        assertEquals(16, c.headCountKv(0));
        assertEquals(4, c.headCountKv(59));
        assertEquals(32 * 512, c.queryDim(59));
        assertEquals(21504, c.feedForwardLength()[0]);
        assertArrayEquals(IntStream.range(0, 60).toArray(), kvLayers(c));
        assertFalse(c.experts().present());
    }

    private Path write(ModelShape shape, SyntheticModel.FileType type) throws IOException {
        Path file = dir.resolve(shape.name() + ".gguf");
        try (GgufFile vocab = GgufFile.open(TestData.model(shape.tokenizerModel()))) {
            SyntheticModel.write(shape, type, vocab.metadata(), 7, file);
        }
        return file;
    }

    /** A few tokens through the model: every logit finite and within the soft cap of 30, and not all alike. */
    private static void runs(Path file) throws IOException {
        try (Model m = Model.load(file);
             Session s = m.newSession(SessionOptions.defaults().withContextSize(64).withBatchSize(4).withThreads(2))) {
            float[] logits = s.evaluateAll(new int[] {1, 450, 4996, 17354, 1701, 263});
            assertEquals(6 * m.config().vocabSize(), logits.length);
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (float v : logits) {
                assertTrue(Float.isFinite(v) && Math.abs(v) <= 30f, "logit " + v);
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertTrue(max - min > 1f, "logits spread from " + min + " to " + max);
        }
    }

    /**
     * E2B scaled down: ten layers (the fifth and tenth full), the last five reading the caches of layers 3 and 4 with
     * a feed-forward twice as wide, per-layer inputs of 32, in Q4_K_M.
     */
    @Test
    void scaledDownE2bLoadsAndRuns() throws IOException {
        ModelShape small = new ModelShape("small-gemma4-e", "gemma4", "E10M", 256, 10, 4, 1, 128, 512, 4096, 1_000_000f, 1e-6f,
                true, false, true, VOCABULARY, null, null, null,
                new ModelShape.Gemma4(5, 16, 64, 1, 0.25f, 10_000f, false, 5, 32, true, 30f), null);
        Path file = write(small, SyntheticModel.FileType.Q4_K_M);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(GgmlType.Q6_K, f.tensor("token_embd.weight").type(), "tied, as the output");
            assertEquals(GgmlType.Q8_0, f.tensor("per_layer_token_embd.weight").type(), "rows of 320 take no Q6_K");
            assertEquals(GgmlType.F16, f.tensor("per_layer_model_proj.weight").type(), "llama-quantize leaves it");
            assertEquals(320L * 256, f.tensor("per_layer_model_proj.weight").elementCount());
            assertEquals(GgmlType.Q5_0, f.tensor("blk.0.proj.weight").type(), "rows of 32 take no Q4_K");
            assertFalse(f.hasTensor("blk.5.attn_k.weight"), "the shared layers keep no keys");
            assertFalse(f.hasTensor("blk.5.attn_v.weight"));
            assertFalse(f.hasTensor("blk.9.attn_k_norm.weight"));
            assertTrue(f.hasTensor("blk.4.attn_v.weight"), "values of their own in the full layers");
            assertEquals(4 * 128 * 256, f.tensor("blk.9.attn_q.weight").elementCount());
            assertEquals(1024 * 256, f.tensor("blk.5.ffn_up.weight").elementCount());
            // the five attn_v tensors counted as llama-quantize counts them: the third and fifth get more bits
            GgmlType[] values = IntStream.range(0, 5).mapToObj(l -> f.tensor("blk." + l + ".attn_v.weight").type())
                    .toArray(GgmlType[]::new);
            assertArrayEquals(new GgmlType[] {GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q4_K, GgmlType.Q6_K}, values);
            assertEquals(GgmlType.Q6_K, f.tensor("blk.0.ffn_down.weight").type());
            assertEquals(GgmlType.Q4_K, f.tensor("blk.2.ffn_down.weight").type());
            GgufTensor freqs = f.tensor("rope_freqs.weight");
            assertEquals(64, freqs.elementCount());
            assertEquals(1f, freqs.data().getAtIndex(F32, 15));
            assertEquals(1e30f, freqs.data().getAtIndex(F32, 16), "a quarter of the full heads turns");
        }
        try (Model m = Model.load(file)) {
            ModelConfig c = m.config();
            assertEquals(64, c.headDim(0));
            assertEquals(128, c.headDim(4));
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 3, 3, 3, 3, 4}, kvLayers(c));
            assertArrayEquals(new int[] {512, 512, 512, 512, 512, 1024, 1024, 1024, 1024, 1024}, c.feedForwardLength());
            assertEquals(32, c.layout().perLayerInput());
        }
        runs(file);
    }

    /**
     * 26B-A4B and 31B scaled down: five sliding layers with two kv heads and a full one with one, whose values are
     * its keys' projection; with experts beside each dense block and without, in Q4_0.
     */
    @Test
    void scaledDownMixtureAndDenseLoadAndRun() throws IOException {
        ModelShape.Gemma4 g = new ModelShape.Gemma4(6, 16, 64, 1, 0.25f, 10_000f, true, 0, 0, false, 30f);
        ModelShape moe = new ModelShape("small-gemma4-moe", "gemma4", "A10M", 256, 6, 4, 2, 128, 256, 4096, 1_000_000f, 1e-6f,
                true, false, true, VOCABULARY, null, new ModelShape.Experts(8, 2, 128, 0), null, g, null);
        ModelShape dense = new ModelShape("small-gemma4", "gemma4", "10M", 256, 6, 4, 2, 128, 512, 4096, 1_000_000f, 1e-6f,
                true, false, true, VOCABULARY, null, null, null, g, null);
        for (ModelShape shape : new ModelShape[] {moe, dense}) {
            Path file = write(shape, SyntheticModel.FileType.Q4_0);
            try (GgufFile f = GgufFile.open(file)) {
                assertFalse(f.hasTensor("blk.5.attn_v.weight"), "the full layer's values are its keys' projection");
                assertTrue(f.hasTensor("blk.5.attn_k.weight"));
                assertEquals(128 * 256, f.tensor("blk.4.attn_v.weight").elementCount());
                assertEquals(128 * 256, f.tensor("blk.5.attn_k.weight").elementCount());
                assertFalse(f.hasTensor("per_layer_token_embd.weight"));
                assertEquals(shape == moe, f.hasTensor("blk.0.ffn_gate_up_exps.weight"));
                if (shape == moe) {
                    assertEquals(GgmlType.F32, f.tensor("blk.0.ffn_gate_inp.weight").type());
                    assertEquals(GgmlType.Q4_0, f.tensor("blk.0.ffn_gate_up_exps.weight").type());
                    assertEquals(256L * 2 * 128 * 8, f.tensor("blk.0.ffn_gate_up_exps.weight").elementCount());
                    assertEquals(8, f.tensor("blk.3.ffn_down_exps.scale").elementCount());
                    assertEquals(256, f.tensor("blk.3.ffn_gate_inp.scale").elementCount());
                }
            }
            try (Model m = Model.load(file)) {
                ModelConfig c = m.config();
                assertEquals(2, c.headCountKv(0));
                assertEquals(1, c.headCountKv(5));
                assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, kvLayers(c));
                assertEquals(shape == moe, c.experts().present());
                if (shape == moe) {
                    assertEquals(8, c.experts().count());
                    assertEquals(128, c.experts().feedForward());
                }
            }
            runs(file);
        }
    }
}
