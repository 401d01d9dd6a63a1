package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Every .cu file builds on its own with nvcc -ptx; skipped where nvcc is not installed. */
class NvccCompileTest {

    static Path nvcc() {
        for (String candidate : List.of(System.getenv().getOrDefault("NVCC", ""), "/usr/local/bin/nvcc",
                "/usr/local/cuda/bin/nvcc")) {
            if (!candidate.isEmpty() && Files.isExecutable(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        Assumptions.abort("nvcc not found (set NVCC=/path/to/nvcc): the CUDA kernels are not compiled by this test");
        return null;
    }

    @Test
    void everyKernelFileCompilesToPtx() throws IOException, InterruptedException {
        Path nvcc = nvcc();
        Path out = Files.createTempDirectory("ptx");
        List<Path> sources;
        try (Stream<Path> s = Files.list(KernelSourcesTest.SOURCES)) {
            sources = s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
        assertTrue(sources.size() >= 7, "expected every kernel file, found " + sources);
        try {
            for (Path cu : sources) {
                Path ptx = out.resolve(cu.getFileName() + ".ptx");
                Process p = new ProcessBuilder(nvcc.toString(), "-ptx", "-arch=compute_80", "-o", ptx.toString(),
                        cu.toString()).redirectErrorStream(true).start();
                String log = new String(p.getInputStream().readAllBytes());
                assertTrue(p.waitFor(120, TimeUnit.SECONDS), "nvcc timed out on " + cu);
                assertEquals(0, p.exitValue(), "nvcc failed on " + cu + ":\n" + log);
                assertTrue(Files.size(ptx) > 0, cu + " produced an empty PTX");
            }
        } finally {
            try (Stream<Path> s = Files.list(out)) {
                for (Path f : s.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(out);
        }
    }
}
