package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The paths a CPU-only machine takes: one clear line, no exception escaping as anything else. */
class CudaDriverUnavailableTest {

    @Test
    void aMissingDriverLibraryGivesOneLine() {
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> CudaDriver.load("libvellama-no-such-driver.so.1"));
        assertEquals("no NVIDIA driver found (libvellama-no-such-driver.so.1)", e.getMessage());
    }

    @Test
    void aLibraryWithoutCuGetProcAddressIsReportedAsTooOld() {
        // the C library exists everywhere and has no CUDA entry points
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaDriver.load("libc.so.6"));
        assertTrue(e.getMessage().contains("older than CUDA 12"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void theDefaultLoadEitherWorksOrSaysWhyInOneLine() {
        try {
            CudaDriver driver = CudaDriver.load();
            assertTrue(driver.deviceCount() > 0);
        } catch (CudaUnavailableException e) {
            assertFalse(e.getMessage().isBlank());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(CudaDriver.tryLoad().isEmpty());
        }
    }

    @Test
    void errorsCarryTheCuResultName() {
        CudaException e = new CudaException(2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory", "cuMemAlloc");
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY: out of memory (cuMemAlloc)", e.getMessage());
        assertEquals(2, e.code());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
    }
}
