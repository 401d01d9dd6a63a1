package dev.vellama.runtime.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.IntStream;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufMetadata;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Gemma 3n shapes synth writes: the full-size ones as the runtime reads their metadata (their tensors would take
 * gigabytes), and a scaled-down one, written by the same code, loaded and run. The per-layer inputs stay 256 wide
 * (llama.cpp's gemma3n fixes that), so the scaled-down file borrows Llama 2's vocabulary of 32000 tokens to keep
 * its per-layer embeddings small.
 */
class SyntheticGemma3nTest {
    private static final String VOCABULARY = "tiny-qwen3-q8_0.gguf";
    private static final String SMALL_VOCABULARY = "stories-llama2-q8_0.gguf";

    @TempDir
    Path dir;

    /** The metadata of a shape, written as a file without tensors. */
    private GgufFile metadataOf(String name) throws IOException {
        Path file = dir.resolve(name + "-metadata.gguf");
        try (GgufFile vocab = GgufFile.open(TestData.model(VOCABULARY))) {
            SyntheticModel.metadata(ModelShape.named(name), SyntheticModel.FileType.Q4_0, vocab.metadata()).write(file);
        }
        return GgufFile.open(file);
    }

    private static ModelConfig configOf(GgufMetadata m) {
        return ModelConfig.fromGguf(m, m.getStringArray("tokenizer.ggml.tokens").length);
    }

    private static int[] kvLayers(ModelConfig c) {
        return IntStream.range(0, c.layerCount()).map(c::kvLayer).toArray();
    }

    private static long slidingLayers(ModelConfig c) {
        return IntStream.range(0, c.layerCount()).filter(c::slidingLayer).count();
    }

    /** What both sizes share: heads, the sliding pattern, RoPE, the soft cap, the per-layer inputs and AltUp. */
    private static void gemma3n(ModelConfig c, GgufMetadata m, int layers) {
        assertEquals(layers, c.layerCount());
        assertEquals(2048, c.embeddingLength());
        assertEquals(8, c.headCount());
        for (int l = 0; l < layers; l++) {
            assertEquals(2, c.headCountKv(l), "layer " + l);
            assertEquals(256, c.headDim(l), "layer " + l);
            assertEquals(c.slidingLayer(l), (l + 1) % 5 != 0, "four sliding layers, then a full one: layer " + l);
        }
        assertEquals(layers - layers / 5, slidingLayers(c));
        int[] kv = kvLayers(c);
        assertArrayEquals(IntStream.range(0, 20).toArray(), java.util.Arrays.copyOf(kv, 20));
        assertEquals(18, kv[20], "a shared sliding layer reads layer 18's cache");
        assertEquals(19, kv[24], "a shared full layer reads layer 19's");
        assertEquals(19, kv[29]);
        assertEquals(256, c.layout().perLayerInput());
        assertEquals(512, c.slidingWindow());
        assertEquals(30f, c.finalSoftcap());
        assertEquals(1_000_000f, c.ropeBase());
        assertEquals(10_000f, c.ropeBaseLocal());
        assertEquals(32768, c.contextLength());
        assertFalse(c.experts().present());
        assertEquals(4, m.getInt("gemma3n.altup.num_inputs"));
        assertEquals(0, m.getInt("gemma3n.altup.active_idx"));
        assertEquals(layers, m.getIntOrArray("gemma3n.feed_forward_length", layers).length, "listed per layer");
        float[] cutoff = (float[]) m.get("gemma3n.activation_sparsity_scale").value();
        assertEquals(layers, cutoff.length);
        for (int l = 0; l < layers; l++) {
            if (l < 10) {
                assertEquals(1.6448533f, cutoff[l], 1e-5f, "the normal quantile of 0.95, layer " + l);
            } else {
                assertEquals(Float.NEGATIVE_INFINITY, cutoff[l], "layer " + l);
            }
        }
    }

    @Test
    void gemma3nE2bSharesTheLastTenLayersCaches() throws IOException {
        try (GgufFile f = metadataOf("gemma-3n-e2b")) {
            ModelConfig c = configOf(f.metadata());
            gemma3n(c, f.metadata(), 30);
            assertEquals(10, f.metadata().getInt("gemma3n.attention.shared_kv_layers"));
            assertArrayEquals(IntStream.generate(() -> 8192).limit(30).toArray(), c.feedForwardLength());
        }
    }

    @Test
    void gemma3nE4bSharesTheLastFifteen() throws IOException {
        try (GgufFile f = metadataOf("gemma-3n-e4b")) {
            ModelConfig c = configOf(f.metadata());
            gemma3n(c, f.metadata(), 35);
            assertEquals(19, c.kvLayer(34));
            assertEquals(18, c.kvLayer(33));
            assertEquals(15, f.metadata().getInt("gemma3n.attention.shared_kv_layers"));
            assertArrayEquals(IntStream.generate(() -> 16384).limit(35).toArray(), c.feedForwardLength());
        }
    }

    /**
     * Gemma 3n scaled down: five layers (the fifth full), 256 wide, LAuReL of rank 32, in Q4_K_M; every tensor
     * llama.cpp's loader wants, at its shape and in the type llama-quantize leaves it, and a few tokens through it.
     */
    @Test
    void scaledDownLoadsAndRuns() throws IOException {
        ModelShape small = new ModelShape("small-gemma3n", "gemma3n", "E10M", 256, 5, 4, 2, 64, 512, 4096, 1_000_000f, 1e-6f,
                true, false, true, SMALL_VOCABULARY, null, null, null, null,
                new ModelShape.Gemma3n(5, 16, 10_000f, 0, 256, 4, 32, 10, 0.95f, 30f));
        Path file = dir.resolve("small-gemma3n.gguf");
        try (GgufFile vocab = GgufFile.open(TestData.model(small.tokenizerModel()))) {
            SyntheticModel.write(small, SyntheticModel.FileType.Q4_K_M, vocab.metadata(), 7, file);
        }
        try (GgufFile f = GgufFile.open(file)) {
            assertFalse(f.hasTensor("output.weight"), "tied to the embedding");
            assertEquals(GgmlType.Q6_K, f.tensor("token_embd.weight").type(), "tied, as the output");
            assertEquals(GgmlType.Q6_K, f.tensor("per_layer_token_embd.weight").type(), "typed as the token embedding");
            assertEquals(1280L * 32000, f.tensor("per_layer_token_embd.weight").elementCount());
            assertEquals(GgmlType.F16, f.tensor("per_layer_model_proj.weight").type(), "llama-quantize leaves it");
            assertEquals(256L * 1280, f.tensor("per_layer_model_proj.weight").elementCount());
            assertEquals(256, f.tensor("per_layer_proj_norm.weight").elementCount());
            for (String altup : new String[] {"altup_proj.weight", "altup_unembd_proj.weight"}) {
                GgufTensor t = f.tensor(altup);
                assertEquals(GgmlType.F16, t.type(), altup);
                assertArrayEquals(new long[] {256, 256, 3}, t.shape(), altup);
            }
            assertEquals(GgmlType.F32, f.tensor("blk.0.altup_predict_coef.weight").type());
            assertArrayEquals(new long[] {4, 16}, f.tensor("blk.0.altup_predict_coef.weight").shape());
            assertEquals(GgmlType.F32, f.tensor("blk.0.altup_correct_coef.weight").type());
            assertArrayEquals(new long[] {4, 4}, f.tensor("blk.0.altup_correct_coef.weight").shape());
            assertEquals(GgmlType.F16, f.tensor("blk.1.altup_router.weight").type());
            assertArrayEquals(new long[] {256, 4}, f.tensor("blk.1.altup_router.weight").shape());
            assertEquals(GgmlType.F16, f.tensor("blk.2.laurel_l.weight").type());
            assertArrayEquals(new long[] {256, 32}, f.tensor("blk.2.laurel_l.weight").shape());
            assertArrayEquals(new long[] {32, 256}, f.tensor("blk.2.laurel_r.weight").shape());
            assertArrayEquals(new long[] {256, 256}, f.tensor("blk.3.inp_gate.weight").shape());
            assertEquals(GgmlType.Q4_K, f.tensor("blk.3.inp_gate.weight").type());
            assertArrayEquals(new long[] {256, 256}, f.tensor("blk.3.proj.weight").shape());
            assertArrayEquals(new long[] {256, 4 * 64}, f.tensor("blk.4.attn_q.weight").shape());
            assertArrayEquals(new long[] {256, 2 * 64}, f.tensor("blk.4.attn_k.weight").shape());
            assertArrayEquals(new long[] {64}, f.tensor("blk.4.attn_k_norm.weight").shape());
            // llama-quantize's choice for five layers: the third and the last get more bits
            GgmlType[] more = {GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q4_K, GgmlType.Q6_K};
            for (int l = 0; l < 5; l++) {
                assertEquals(more[l], f.tensor("blk." + l + ".attn_v.weight").type(), "attn_v of layer " + l);
                assertEquals(more[l], f.tensor("blk." + l + ".ffn_down.weight").type(), "ffn_down of layer " + l);
                assertEquals(GgmlType.Q4_K, f.tensor("blk." + l + ".ffn_gate.weight").type());
            }
            assertFalse(f.hasTensor("rope_freqs.weight"));
        }
        try (Model m = Model.load(file)) {
            ModelConfig c = m.config();
            assertEquals(64, c.headDim(0));
            assertTrue(c.slidingLayer(3));
            assertFalse(c.slidingLayer(4));
            assertArrayEquals(new int[] {0, 1, 2, 3, 4}, kvLayers(c));
            assertEquals(256, c.layout().perLayerInput());
            assertEquals(32000, c.vocabSize());
        }
        try (Model m = Model.load(file);
             Session s = m.newSession(SessionOptions.defaults().withContextSize(64).withBatchSize(4).withThreads(2))) {
            float[] logits = s.evaluateAll(new int[] {1, 450, 4996, 17354, 1701, 263});
            assertEquals(6 * 32000, logits.length);
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
}
