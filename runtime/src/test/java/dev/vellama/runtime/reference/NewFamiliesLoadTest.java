package dev.vellama.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;

import dev.vellama.gguf.GgufTensor;
import dev.vellama.gguf.GgufValue;
import dev.vellama.runtime.Architecture;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.runtime.UnsupportedModelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What loading gpt-oss and mistral3 files reads, and their one-line refusals. */
class NewFamiliesLoadTest {
    @TempDir
    Path dir;

    @Test
    void gptOssReadsItsWindowExpertsAndWeighting() throws IOException {
        try (Model m = Model.load(TinyModels.write(TinyModels.gptOss(), dir))) {
            ModelConfig c = m.config();
            assertEquals(Architecture.GPT_OSS, c.architecture());
            assertEquals(6, c.slidingWindow());
            assertEquals(new ModelConfig.Experts(8, 3, 32, 0, false, 1f, ModelConfig.Gating.SOFTMAX_OVER_CHOSEN, 0, 1, false), c.experts());
            assertEquals(true, c.architecture().slidingWindowLayer(0));
            assertEquals(false, c.architecture().slidingWindowLayer(1));
        }
    }

    @Test
    void gptOssWithoutItsSinksIsRefusedByTensorName() throws IOException {
        Path file = without(TinyModels.write(TinyModels.gptOss(), dir), "blk.1.attn_sinks.weight");
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(file));
        assertEquals("tensor 'blk.1.attn_sinks.weight' is missing: the file does not have the gpt-oss layout this runtime expects",
                e.getMessage());
    }

    @Test
    void gptOssWithoutAWindowIsRefused() throws IOException {
        Path file = rewritten(TinyModels.write(TinyModels.gptOss(), dir), "gpt-oss.attention.sliding_window", GgufValue.uint32(0));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(file));
        assertEquals("a gpt-oss model needs its sliding window (gpt-oss.attention.sliding_window)", e.getMessage());
    }

    @Test
    void aSlidingWindowPatternOtherThanTheFamilysIsRefused() throws IOException {
        Path file = rewritten(TinyModels.write(TinyModels.gptOss(), dir), "gpt-oss.attention.sliding_window_pattern", GgufValue.uint32(3));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(file));
        assertEquals("a sliding-window pattern of 3 is not supported for gpt-oss (only 2)", e.getMessage());
        Path same = rewritten(TinyModels.write(TinyModels.gptOss(), dir), "gpt-oss.attention.sliding_window_pattern", GgufValue.uint32(2));
        try (Model m = Model.load(same)) {
            assertEquals(6, m.config().slidingWindow());
        }
    }

    /**
     * CUDA refuses gpt-oss in one line before a device is opened; Mistral 3's temperature is no reason to refuse (a
     * session opens where there is a GPU, and elsewhere fails for want of a device, not because of the model).
     */
    @Test
    void cudaRefusesGptOssInOneLineAndTakesMistral3() throws IOException {
        try (Model m = Model.load(TinyModels.write(TinyModels.gptOss(), dir))) {
            UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                    () -> m.newSession(SessionOptions.defaults().withDevice(SessionOptions.Device.CUDA, SessionOptions.ALL_LAYERS)));
            assertEquals("gpt-oss with attention output biases does not run on CUDA yet: use --device cpu", e.getMessage());
        }
        try (Model m = Model.load(TinyModels.write(TinyModels.mistral3(), dir))) {
            try (dev.vellama.runtime.Session s = m.newSession(SessionOptions.defaults().withContextSize(64)
                    .withDevice(SessionOptions.Device.CUDA, SessionOptions.ALL_LAYERS))) {
                org.junit.jupiter.api.Assertions.assertNotNull(s); // a GPU is here: the model runs on it
            } catch (dev.vellama.VellamaException e) {
                org.junit.jupiter.api.Assertions.assertFalse(e instanceof UnsupportedModelException, e.getMessage());
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("--device cuda: "), e.getMessage());
            }
        }
    }

    @Test
    void mistral3ReadsItsTemperatureAndYarnMagnitude() throws IOException {
        try (Model m = Model.load(TinyModels.write(TinyModels.mistral3(), dir))) {
            ModelConfig c = m.config();
            assertEquals(new ModelConfig.AttentionTemperature(0.5f, 8, 0f), c.temperature());
            assertEquals(1f, c.temperature().at(7));
            assertEquals((float) (Math.log(2) * 0.5 + 1), c.temperature().at(8));
            assertEquals((float) (Math.log(4) * 0.5 + 1), c.temperature().at(31));
            // attn_factor / (1 + 0.1·0.5·ln 4): the rotation's own 1 + 0.1·ln 4 makes the rest
            assertEquals((float) (1 / (1 + 0.05 * Math.log(4))), c.ropeScaling().attnFactor(), 1e-6f);
            assertEquals(false, c.experts().present());
        }
    }

    @Test
    void mistral3WithExpertsIsRefused() throws IOException {
        Path file = rewritten(TinyModels.write(TinyModels.mistral3(), dir), "mistral3.expert_count", GgufValue.uint32(8));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(file));
        assertEquals("mistral3 with experts (expert_count > 0) is not supported yet", e.getMessage());
    }

    @Test
    void feedForwardBiasesAreRefusedRatherThanIgnored() throws IOException {
        Path out = GgufEdits.with(TinyModels.write(TinyModels.mistral3(), dir), dir.resolve("biased.gguf"), (w, f) -> {
            GgufTensor norm = f.tensor("blk.0.ffn_norm.weight"); // any vector of the embedding's width
            w.addTensor("blk.0.ffn_down.bias", norm.type(), norm.shape(), norm.data());
        });
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(out));
        assertEquals("feed-forward biases (ffn_down.bias) are not supported", e.getMessage());
    }

    /**
     * A GLM file's last {@code nextn_predict_layers} blocks are multi-token-prediction heads: the model is the blocks
     * before them, so a file with one more such block computes the same logits.
     */
    @Test
    void glm4moeLeavesItsNextnBlocksOut() throws IOException {
        Path base = TinyModels.write(TinyModels.glm4moe(), dir);
        Path withNextn = GgufEdits.with(base, dir.resolve("nextn.gguf"), (w, f) -> {
            w.put("glm4moe.block_count", GgufValue.uint32(4));
            w.put("glm4moe.nextn_predict_layers", GgufValue.uint32(1));
            for (GgufTensor t : f.tensors()) {
                if (t.name().startsWith("blk.2.")) { // a fourth block, as the MTP head's own layer
                    w.addTensor(t.name().replace("blk.2.", "blk.3."), t.type(), t.shape(), t.data());
                }
            }
        });
        int[] tokens = {1, 450, 4996, 17354, 1701};
        float[] a;
        float[] b;
        try (Model m = Model.load(base); dev.vellama.runtime.Session s = m.newSession(SessionOptions.defaults().withContextSize(64))) {
            a = s.evaluateAll(tokens);
        }
        try (Model m = Model.load(withNextn); dev.vellama.runtime.Session s = m.newSession(SessionOptions.defaults().withContextSize(64))) {
            assertEquals(3, m.config().layerCount());
            b = s.evaluateAll(tokens);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(a, b);
    }

    @Test
    void glm4moeReadsItsGatingSharedExpertsAndDenseLead() throws IOException {
        try (Model m = Model.load(TinyModels.write(TinyModels.glm4moe(), dir))) {
            assertEquals(new ModelConfig.Experts(8, 3, 32, 32, true, 2.5f, ModelConfig.Gating.SIGMOID, 1, 1, false), m.config().experts());
            assertEquals(false, m.config().experts().inLayer(0));
            assertEquals(true, m.config().experts().inLayer(1));
        }
    }

    /** Llama 4's fixed constants, as llama.cpp sets them whatever the file says: chunks of 8192, the temperature. */
    @Test
    void llama4ReadsItsChunksTemperatureAndExpertLayers() throws IOException {
        try (Model m = Model.load(TinyModels.write(TinyModels.llama4(), dir))) {
            ModelConfig c = m.config();
            assertEquals(8192, c.slidingWindow());
            assertEquals(true, c.architecture().chunkedAttention());
            assertEquals(1f, c.temperature().at(8190));
            assertEquals((float) (Math.log(2) * 0.1 + 1), c.temperature().at(8191));
            assertEquals((float) (Math.log(3) * 0.1 + 1), c.temperature().at(20000));
            assertEquals(new ModelConfig.Experts(8, 1, 32, 32, false, 1f, ModelConfig.Gating.SIGMOID, 0, 2, true), c.experts());
            assertEquals(false, c.experts().inLayer(0));
            assertEquals(true, c.experts().inLayer(1));
            assertEquals(false, c.architecture().ropeLayer(3));
            assertEquals(true, c.architecture().slidingWindowLayer(2));
            assertEquals(false, c.architecture().slidingWindowLayer(3));
        }
        Path file = rewritten(TinyModels.write(TinyModels.llama4(), dir), "llama4.attention.sliding_window", GgufValue.uint32(0));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(file));
        assertEquals("llama4 without chunked attention (attention.sliding_window 0) is not supported yet", e.getMessage());
    }

    /** Qwen3.5: three linear-attention layers then one that attends, the interleaved RoPE sections, no CUDA yet. */
    @Test
    void qwen35ReadsItsLayerKindsAndIsRefusedOnCuda() throws IOException {
        Path file = TinyModels.write(TinyModels.qwen35(), dir);
        try (Model m = Model.load(file)) {
            ModelConfig c = m.config();
            assertEquals(4, c.deltaNet().convKernel());
            assertEquals(2, c.deltaNet().keyHeads());
            assertEquals(4, c.deltaNet().valueHeads());
            assertEquals(16, c.deltaNet().headDim());
            assertEquals(true, c.deltaNet().inLayer(0));
            assertEquals(true, c.deltaNet().inLayer(2));
            assertEquals(false, c.deltaNet().inLayer(3));
            org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {3, 3, 2, 0}, c.ropeSections());
            UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                    () -> m.newSession(SessionOptions.defaults().withDevice(SessionOptions.Device.CUDA, SessionOptions.ALL_LAYERS)));
            assertEquals("qwen35 (linear-attention layers) does not run on CUDA yet: use --device cpu", e.getMessage());
        }
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> Model.load(rewritten(file, "qwen35.ssm.time_step_rank", GgufValue.uint32(3))));
        assertEquals("inconsistent linear-attention shape: a convolution of 4 taps, 2 key heads and 3 value heads of 16,"
                + " inner size 64", e.getMessage());
        e = assertThrows(UnsupportedModelException.class, () -> Model.load(without(file, "blk.1.ssm_a")));
        assertEquals("tensor 'blk.1.ssm_a' is missing: the file does not have the qwen35 layout this runtime expects", e.getMessage());
    }

    private Path rewritten(Path in, String key, GgufValue value) throws IOException {
        return GgufEdits.withKey(in, dir.resolve("rewritten.gguf"), key, value);
    }

    private Path without(Path in, String tensor) throws IOException {
        return GgufEdits.withoutTensor(in, dir.resolve("without.gguf"), tensor);
    }
}
