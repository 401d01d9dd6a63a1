package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The shipped PTX is there, has every kernel, and was compiled from the sources as they are now. */
class KernelSourcesTest {
    static final Path SOURCES = Path.of("src/main/cuda");
    static final Path COMMITTED = Path.of("src/main/resources").resolve(KernelSources.RESOURCE.substring(1));

    @Test
    void thePtxOnTheClassPathHasEveryKernelTheRuntimeLaunches() {
        String ptx = new String(KernelSources.ptx(), StandardCharsets.US_ASCII);
        assertTrue(ptx.contains(".target sm_80"), "PTX must target compute_80 so the driver JITs it for newer GPUs");
        for (String kernel : CudaKernels.KERNEL_NAMES) {
            assertTrue(ptx.contains(".entry " + kernel + "("), "kernels.ptx lacks " + kernel);
        }
    }

    @Test
    void theCommittedPtxWasCompiledFromTheCurrentSources() throws IOException {
        byte[] committed = Files.readAllBytes(COMMITTED);
        String recorded = KernelSources.recordedHash(committed);
        assertNotNull(recorded, COMMITTED + " has no source fingerprint line; regenerate it with scripts/build-ptx.sh");
        assertEquals(KernelSources.hashSources(SOURCES), recorded,
                "the CUDA sources changed since " + COMMITTED + " was generated: run scripts/build-ptx.sh and commit it");
    }

    @Test
    void thePtxInTheJarMatchesTheCurrentSourcesToo() throws IOException {
        assertEquals(KernelSources.hashSources(SOURCES), KernelSources.recordedHash(KernelSources.ptx()));
    }

    @Test
    void theFingerprintCoversEveryKernelFile() throws IOException {
        List<String> names;
        try (var s = Files.list(SOURCES)) {
            names = s.map(p -> p.getFileName().toString()).toList();
        }
        assertTrue(names.contains("kernels.cu"));
        Path copy = Files.createTempDirectory("cuda-src");
        try {
            for (String n : names) {
                Files.copy(SOURCES.resolve(n), copy.resolve(n));
            }
            String before = KernelSources.hashSources(copy);
            Files.writeString(copy.resolve("rope.cu"), "// edited\n", java.nio.file.StandardOpenOption.APPEND);
            assertTrue(!before.equals(KernelSources.hashSources(copy)), "editing a kernel must change the fingerprint");
        } finally {
            try (var s = Files.list(copy)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(copy);
        }
    }
}
