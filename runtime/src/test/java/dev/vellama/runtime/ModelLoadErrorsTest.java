package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufWriter;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a user sees when a file cannot be run: one clear message at load, naming the culprit. */
class ModelLoadErrorsTest {
    @TempDir
    Path tmp;

    /** The stories model rewritten with one tensor swapped for another type, or one metadata value changed. */
    private Path variant(String tensorToSwap, GgmlType newType, String key, GgufValue value) throws IOException {
        Path out = tmp.resolve("variant.gguf");
        try (GgufFile f = GgufFile.open(TestData.model("stories-llama2-q8_0.gguf"))) {
            GgufWriter w = new GgufWriter().putAll(f.metadata());
            if (key != null) {
                w.put(key, value);
            }
            for (GgufTensor t : f.tensors()) {
                if (t.name().equals(tensorToSwap)) {
                    w.addTensor(t.name(), newType, t.shape(), new byte[(int) newType.byteSize(t.elementCount())]);
                } else {
                    w.addTensor(t.name(), t.type(), t.shape(), t.data());
                }
            }
            w.write(out);
        }
        return out;
    }

    @Test
    void aTensorTypeWithoutKernelIsRefusedByName() throws IOException {
        Path file = variant("blk.0.attn_q.weight", GgmlType.IQ2_XXS, null, null);
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains("IQ2_XXS") && e.getMessage().contains("blk.0.attn_q.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("not supported yet"), e.getMessage());
    }

    @Test
    void anUnknownArchitectureIsRefusedByName() throws IOException {
        Path file = variant(null, null, "general.architecture", GgufValue.string("mamba"));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains("architecture 'mamba' is not supported"), e.getMessage());
    }

    @Test
    void aMissingHyperParameterIsNamed() throws IOException {
        Path file = variant(null, null, "llama.embedding_length", GgufValue.string("wide"));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains("llama.embedding_length"), e.getMessage());
    }
}
