package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;

import dev.vellama.gguf.GgufFile;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.Kernels;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.model.ModelWeights;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A partly offloaded model runs its first layers in one place and the rest on the CPU through
 * {@link ForwardPass#runLayers} with a cache of just those layers. Splitting the layers between two passes that
 * way must give the whole pass's logits, for prompts and for single tokens.
 */
class PartialOffloadSplitTest {

    @ParameterizedTest
    @ValueSource(strings = {"stories-llama2-q8_0.gguf", "tiny-qwen2-q4_0.gguf", "tiny-qwen3-q8_0.gguf"})
    void layersSplitBetweenTwoPassesGiveTheWholePass(String modelName) throws IOException {
        try (GgufFile file = GgufFile.open(CudaTestSupport.modelOrSkip(modelName)); Kernels k = Kernels.create(2)) {
            int vocab = (int) file.tensor("token_embd.weight").rows();
            ModelConfig c = ModelConfig.fromGguf(file.metadata(), vocab);
            ModelWeights w = new ModelWeights(file, c);
            int context = 32;
            int split = c.layerCount() / 2;
            int d = c.embeddingLength();
            ForwardPass whole = new ForwardPass(c, w, k, new KvCache(c.layerCount(), context, c.kvDim()), 8);
            ForwardPass front = new ForwardPass(c, w, k, new KvCache(c.layerCount(), 0, context, c.kvDim()), 8);
            ForwardPass back = new ForwardPass(c, w, k, new KvCache(c.layerCount(), split, context, c.kvDim()), 8);
            int[] tokens = {1, 300 % vocab, 42, 7, 1000 % vocab, 3};
            float[] x = new float[8 * d];

            embed(w, tokens, 0, 5, x, d);
            front.runLayers(x, 5, 0, 0, split);
            back.runLayers(x, 5, 0, split, c.layerCount());
            float[] got = Arrays.copyOf(back.outputAll(x, 5), 5 * vocab);
            float[] want = Arrays.copyOf(whole.forwardAll(tokens, 0, 5, 0), 5 * vocab);
            assertSame(want, got, modelName + " prompt");

            embed(w, tokens, 5, 1, x, d);
            front.runLayers(x, 1, 5, 0, split);
            back.runLayers(x, 1, 5, split, c.layerCount());
            assertSame(whole.forwardLast(tokens, 5, 1, 5), back.outputLast(x, 1), modelName + " decode");
        }
    }

    /** Equal up to rounding: the same operations in the same order. */
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
