package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.vellama.gguf.GgufFile;
import dev.vellama.quant.Kernels;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.model.ModelWeights;

/**
 * The GPU forward pass against the CPU one on the shared models: a prompt chunk and then single-token decode,
 * whole-model and partly offloaded. Skipped where there is no CUDA device.
 */
class CudaForwardPassTest {
    static final double LOGITS_NMSE = 2e-3;
    static final int CONTEXT = 64;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("stories-llama2-q8_0.gguf", GpuLayers.ALL),
                Arguments.of("stories-llama2-q8_0.gguf", 2),
                Arguments.of("stories-llama2-q4_0.gguf", GpuLayers.ALL),
                Arguments.of("stories-llama2-q4_k_m.gguf", GpuLayers.ALL),
                Arguments.of("tiny-qwen2-q4_0.gguf", GpuLayers.ALL),
                Arguments.of("tiny-qwen3-q8_0.gguf", GpuLayers.ALL),
                Arguments.of("tiny-llama3-q8_0.gguf", 1));
    }

    @ParameterizedTest(name = "{0} with --gpu-layers {1}")
    @MethodSource("cases")
    void logitsMatchTheCpuForwardPass(String modelName, int gpuLayers) throws IOException, CudaUnavailableException {
        CudaDriver driver = driverOrSkip();
        try (GgufFile file = GgufFile.open(CudaTestSupport.modelOrSkip(modelName))) {
            int vocab = (int) file.tensor("token_embd.weight").rows();
            ModelConfig config = ModelConfig.fromGguf(file.metadata(), vocab);
            ModelWeights weights = new ModelWeights(file, config);
            int[] prompt = new int[9];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + (i * 37 + 11) % (vocab - 1);
            }
            int[] next = {5 % vocab, 100 % vocab, 7 % vocab};
            List<String> notices = new ArrayList<>();
            try (Kernels k = Kernels.create(2);
                 CudaForwardPass gpu = CudaForwardPass.create(config, weights, CONTEXT, 16, gpuLayers, 2, notices::add)) {
                ForwardPass cpu = new ForwardPass(config, weights, k,
                        new KvCache(config.layerCount(), CONTEXT, config.kvDim()), 16);
                compare(cpu.forwardAll(prompt, 0, prompt.length, 0), gpu.forwardAll(prompt, 0, prompt.length, 0),
                        prompt.length * vocab, vocab, modelName + " prompt");
                for (int i = 0; i < next.length; i++) {
                    int pos = prompt.length + i;
                    compare(cpu.forwardLast(next, i, 1, pos), gpu.forwardLast(next, i, 1, pos), vocab, vocab,
                            modelName + " token at " + pos);
                }
                assertTrue(notices.getFirst().startsWith("CUDA: "), notices.toString());
            }
        }
        assertTrue(driver.deviceCount() > 0);
    }

    private static void compare(float[] want, float[] got, int n, int vocab, String what) {
        float[] a = java.util.Arrays.copyOf(want, n);
        float[] b = java.util.Arrays.copyOf(got, n);
        double e = CudaTestSupport.nmse(a, b);
        assertTrue(e < LOGITS_NMSE, what + ": logits NMSE " + e);
        assertEquals(lastRowArgmax(a, vocab), lastRowArgmax(b, vocab), what + ": top token");
    }

    private static int lastRowArgmax(float[] a, int vocab) {
        int base = a.length - vocab;
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            if (a[base + i] > a[base + best]) {
                best = i;
            }
        }
        return best;
    }

    static CudaDriver driverOrSkip() {
        try {
            return CudaDriver.load();
        } catch (CudaUnavailableException e) {
            Assumptions.abort("CUDA test skipped: " + e.getMessage());
            return null;
        }
    }
}
