package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.vellama.gguf.GgufFile;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.Kernels;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.model.ModelConfig;
import dev.vellama.runtime.model.ModelWeights;

/**
 * The CPU half of a partly offloaded model, run here over every layer, gives the CPU forward pass's
 * logits: same operations, same order, and RoPE angles from {@link RopeTable} equal to the engine's.
 */
class CpuLayersTest {

    @ParameterizedTest
    @ValueSource(strings = {"stories-llama2-q8_0.gguf", "tiny-qwen2-q4_0.gguf", "tiny-qwen3-q8_0.gguf"})
    void allLayersOnTheCpuReproduceTheForwardPass(String modelName) throws IOException {
        try (GgufFile file = GgufFile.open(CudaTestSupport.modelOrSkip(modelName)); Kernels k = Kernels.create(2)) {
            int vocab = (int) file.tensor("token_embd.weight").rows();
            ModelConfig c = ModelConfig.fromGguf(file.metadata(), vocab);
            ModelWeights w = new ModelWeights(file, c);
            int context = 32;
            int d = c.embeddingLength();
            ForwardPass reference = new ForwardPass(c, w, k, new KvCache(c.layerCount(), context, c.kvDim()), 8);
            RopeTable rope = RopeTable.of(c, w, context);
            CpuLayers layers = new CpuLayers(c, w, k, rope, RopeTable.local(c, rope, context), 0, context, 8);
            int[] tokens = {1, 300 % vocab, 42, 7, 1000 % vocab, 3};
            float[] x = new float[8 * d];

            embed(w, tokens, 0, 5, x, d);
            layers.layers(x, 5, 0);
            float[] got = Arrays.copyOf(layers.outputAll(x, 5), 5 * vocab);
            float[] want = Arrays.copyOf(reference.forwardAll(tokens, 0, 5, 0), 5 * vocab);
            assertSame(want, got, modelName + " prompt");

            embed(w, tokens, 5, 1, x, d);
            layers.layers(x, 1, 5);
            assertSame(reference.forwardLast(tokens, 5, 1, 5), layers.outputLast(x, 1), modelName + " decode");
        }
    }

    /** Equal up to rounding: float sums in the kernels need not associate the same way in both runs. */
    private static void assertSame(float[] want, float[] got, String what) {
        double e = CudaTestSupport.nmse(want, got);
        assertTrue(e < 1e-9, what + ": NMSE " + e);
    }

    private static void embed(ModelWeights w, int[] tokens, int from, int n, float[] x, int d) {
        for (int t = 0; t < n; t++) {
            Dequantizer.dequantizeRow(w.tokenEmbedding, tokens[from + t], x, t * d);
        }
    }
}
