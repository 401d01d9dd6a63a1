package dev.vellama.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import dev.vellama.gguf.GgufValue;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.runtime.UnsupportedModelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What loading a mixture-of-experts file reads, and the one-line refusals when it cannot run. */
class MixtureOfExpertsLoadTest {
    @TempDir
    Path dir;

    @Test
    void theExpertKeysAreReadWithEachFamilysWeighting() throws IOException {
        try (Model m = Model.load(TinyModels.write(TinyModels.qwen2moe(), dir))) {
            assertEquals(new ModelConfig.Experts(8, 2, 32, 64, false, 1f, ModelConfig.Gating.SOFTMAX, 0, 1, false), m.config().experts());
        }
        try (Model m = Model.load(TinyModels.write(TinyModels.qwen3moe(), dir))) {
            assertEquals(new ModelConfig.Experts(8, 3, 32, 0, true, 1f, ModelConfig.Gating.SOFTMAX, 0, 1, false), m.config().experts());
        }
    }

    @Test
    void aFileWithoutItsExpertCountIsRefused() throws IOException {
        Path file = rewritten(TinyModels.write(TinyModels.qwen3moe(), dir), "qwen3moe.expert_count", GgufValue.uint32(0));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains("expert_count"), e.getMessage());
    }

    @Test
    void expertTensorsOfTheWrongShapeAreRefusedByName() throws IOException {
        Path file = rewritten(TinyModels.write(TinyModels.qwen3moe(), dir), "qwen3moe.expert_count", GgufValue.uint32(4));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains("blk.0.ffn_gate_inp.weight") || e.getMessage().contains("_exps.weight"), e.getMessage());
    }

    @Test
    void cudaRefusesAMixtureOfExpertsInOneLineBeforeLookingForADevice() throws IOException {
        try (Model m = Model.load(TinyModels.write(TinyModels.qwen3moe(), dir))) {
            UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                    () -> m.newSession(SessionOptions.defaults().withDevice(SessionOptions.Device.CUDA, SessionOptions.ALL_LAYERS)));
            assertEquals("qwen3moe (mixture of experts) does not run on CUDA yet: use --device cpu", e.getMessage());
        }
    }

    private Path rewritten(Path in, String key, GgufValue value) throws IOException {
        return GgufEdits.withKey(in, dir.resolve("rewritten.gguf"), key, value);
    }
}
