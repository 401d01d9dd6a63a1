package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.vellama.gguf.GgufFile;
import dev.vellama.runtime.model.ModelConfig;
import dev.vellama.runtime.model.ModelWeights;

/** Which models the GPU path takes, decided before anything CUDA is touched. */
class SupportedModelsTest {

    @ParameterizedTest
    @CsvSource(value = {"llama, ", "qwen2, ", "qwen3, ", "phi3, "}, nullValues = "")
    void theGpuPathNamesWhatItCannotCompute(String arch, String expected) throws IOException {
        Path file = Files.createTempFile("tiny-" + arch, ".gguf");
        try {
            TinyModel.write(file, arch, 1);
            try (GgufFile gguf = GgufFile.open(file)) {
                ModelConfig c = ModelConfig.fromGguf(gguf.metadata(), TinyModel.VOCAB);
                String reason = CudaForwardPass.unsupportedFeature(c, new ModelWeights(gguf, c));
                if (expected == null) {
                    assertNull(reason);
                } else {
                    assertEquals(expected, reason);
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
