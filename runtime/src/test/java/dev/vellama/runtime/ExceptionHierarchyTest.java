package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.vellama.VellamaException;

/** One hierarchy: every error thrown on purpose is a VellamaException, from the format up to CUDA. */
class ExceptionHierarchyTest {

    @Test
    void everyTypedErrorIsAVellamaException() {
        for (Class<?> c : List.of(dev.vellama.gguf.GgufFormatException.class, dev.vellama.gguf.GgufMetadataException.class,
                dev.vellama.quant.UnsupportedTensorTypeException.class, dev.vellama.runtime.UnsupportedModelException.class,
                dev.vellama.runtime.tokenizer.TokenizerException.class, dev.vellama.runtime.chat.ChatTemplateException.class,
                dev.vellama.runtime.chat.jinja.JinjaException.class, dev.vellama.runtime.cuda.CudaException.class,
                dev.vellama.runtime.cuda.CudaUnavailableException.class, ContextOverflowException.class,
                QueueFullException.class)) {
            assertTrue(VellamaException.class.isAssignableFrom(c), c.getName());
        }
    }

    @Test
    void aBrokenFileIsCaughtAsOne(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 99, 0, 0, 0});
        assertThrows(VellamaException.class, () -> Model.load(bad).close());
    }
}
