package dev.vellama.runtime.cuda;

import java.io.IOException;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.vellama.runtime.GoldenParityTest;
import dev.vellama.runtime.SessionOptions;

/**
 * The engine's acceptance test with {@code --device cuda}: every shared model through a CUDA session, held to the
 * bounds of the CPU run against llama.cpp's golden logits and greedy continuations, with the whole model on the GPU
 * and with half of its layers. Skipped where there is no CUDA device, or for a model the data set lacks.
 */
class CudaGoldenParityTest {
    private static CudaContext probe;

    @BeforeAll
    static void findDevice() {
        probe = CudaTestSupport.openOrNull();
    }

    @AfterAll
    static void release() {
        if (probe != null) {
            probe.close();
        }
    }

    @ParameterizedTest(name = "{0} with --gpu-layers {3}")
    @CsvSource({
            // model file, top-1 margin threshold, top-5 logit tolerance, GPU layers (-1: all)
            "stories-llama2-q8_0.gguf, 0.1, 0.1, -1",
            "stories-llama2-q8_0.gguf, 0.1, 0.1, 3",
            "stories-llama2-q4_0.gguf, 0.25, 0.2, -1",
            "stories-llama2-q4_k_m.gguf, 0.25, 0.2, -1",
            "tiny-llama3-q8_0.gguf, 0.1, 0.1, -1",
            "tiny-qwen2-q4_0.gguf, 0.25, 0.2, -1",
            "tiny-qwen3-q8_0.gguf, 0.1, 0.1, -1",
            "tiny-qwen3-q8_0.gguf, 0.1, 0.1, 1",
    })
    void matchesLlamaCppOnTheGpu(String modelFile, float marginThreshold, float logitTolerance, int gpuLayers) throws IOException {
        CudaTestSupport.skipWithout(probe);
        CudaTestSupport.modelOrSkip(modelFile);
        SessionOptions options = SessionOptions.defaults().withContextSize(256).withBatchSize(16)
                .withDevice(SessionOptions.Device.CUDA, gpuLayers < 0 ? SessionOptions.ALL_LAYERS : gpuLayers);
        GoldenParityTest.check(modelFile, marginThreshold, logitTolerance, options);
    }
}
