package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.testdata.TestData;

/**
 * Every tensor of the reference models opens as a WeightMatrix, and the vector kernels agree with the scalar ones
 * on it (within test-backend-ops' bound for quantized products: Q8_0 and Q4_0 quantize the activations).
 */
class ModelTensorsTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama3-q8_0.gguf", "tiny-qwen2-q4_0.gguf", "stories-llama2-q4_k_m.gguf", "stories-llama2-q4_0.gguf"})
    void everyTensorMultipliesLikeTheReference(String model) throws IOException {
        Path path = TestData.model(model);
        try (GgufFile file = GgufFile.open(path); Kernels vector = Kernels.create(2); Kernels scalar = Kernels.scalar(1)) {
            int checked = 0;
            for (GgufTensor t : file.tensors()) {
                WeightMatrix w = WeightMatrix.of(t);
                assertEquals(t.columns(), w.cols(), t.name());
                assertEquals(t.rows(), w.rows(), t.name());
                if (w.rows() > 4096) {
                    continue; // embeddings: covered by dequantizeRow below, too slow for a full scalar product
                }
                float[] x = KernelTestSupport.randomFloats(w.cols(), checked);
                float[] want = new float[w.rows()];
                float[] got = new float[w.rows()];
                scalar.matvec(w, x, want);
                vector.matvec(w, x, got);
                double e = KernelTestSupport.nmse(want, got);
                assertTrue(e < (t.type().isQuantized() ? 5e-4 : 1e-9), t.name() + " " + t.type() + ": NMSE " + e);
                checked++;
            }
            GgufTensor embd = file.tensor("token_embd.weight");
            WeightMatrix e = WeightMatrix.of(embd);
            float[] a = new float[e.cols()];
            float[] b = new float[e.cols()];
            scalar.dequantizeRow(e, e.rows() - 1, a, 0);
            vector.dequantizeRow(e, e.rows() - 1, b, 0);
            org.junit.jupiter.api.Assertions.assertArrayEquals(a, b);
            assertTrue(checked > 5, "checked " + checked + " tensors");
        }
    }
}
