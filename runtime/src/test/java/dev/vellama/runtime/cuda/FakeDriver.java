package dev.vellama.runtime.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Builds {@code src/test/cuda/fake_driver.cpp} (the kernels in host emulation behind the driver API) into a shared
 * library once per test run, and loads it through the same {@link CudaDriver} code as the real driver.
 */
final class FakeDriver {
    private static Path library;

    private FakeDriver() {}

    /** The stand-in driver, or an aborted (skipped) test saying why it cannot be built here. */
    static CudaDriver loadOrSkip() {
        try {
            return load();
        } catch (CudaUnavailableException e) {
            org.junit.jupiter.api.Assumptions.abort("emulated CUDA test skipped: " + e.getMessage());
            throw new AssertionError(e); // not reached
        }
    }

    /** Makes the stand-in driver refuse the next {@code n} stream captures (0: capture again). */
    static void refuseCaptures(int n) {
        java.lang.foreign.SymbolLookup lib = java.lang.foreign.SymbolLookup.libraryLookup(library, java.lang.foreign.Arena.global());
        java.lang.foreign.MemorySegment fn = lib.find("fake_refuse_captures").orElseThrow();
        try {
            java.lang.foreign.Linker.nativeLinker().downcallHandle(fn,
                    java.lang.foreign.FunctionDescriptor.ofVoid(java.lang.foreign.ValueLayout.JAVA_INT)).invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The stand-in driver, or CudaUnavailableException saying why it cannot be built here. */
    static synchronized CudaDriver load() throws CudaUnavailableException {
        if (library == null) {
            library = build();
        }
        return CudaDriver.load(library.toString());
    }

    private static Path build() throws CudaUnavailableException {
        Path nvcc = null;
        for (String candidate : new String[] {System.getenv().getOrDefault("NVCC", ""), "/usr/local/bin/nvcc",
                "/usr/local/cuda/bin/nvcc"}) {
            if (!candidate.isEmpty() && Files.isExecutable(Path.of(candidate))) {
                nvcc = Path.of(candidate);
                break;
            }
        }
        if (nvcc == null) {
            throw new CudaUnavailableException("nvcc not found, so the emulated driver cannot be built");
        }
        try {
            Path dir = Files.createTempDirectory("fake-cuda");
            dir.toFile().deleteOnExit();
            Path lib = dir.resolve("libfakecuda.so");
            Process p = new ProcessBuilder(nvcc.toString(), "-std=c++20", "-O2", "-shared", "-Xcompiler", "-fPIC",
                    "-o", lib.toString(), "src/test/cuda/fake_driver.cpp").redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("building the emulated driver failed:\n" + log);
            }
            lib.toFile().deleteOnExit();
            return lib;
        } catch (IOException e) {
            throw new IllegalStateException("building the emulated driver", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the emulated driver", e);
        }
    }
}
