package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The fallback for a driver older than the nvcc that wrote the PTX. */
class PtxVersionsTest {

    @Test
    void eachDriverGetsTheNewestIsaItKnows() {
        assertEquals("8.0", CudaContext.PtxVersions.isaFor(12000));
        assertEquals("8.4", CudaContext.PtxVersions.isaFor(12040));
        assertEquals("8.5", CudaContext.PtxVersions.isaFor(12060));
        assertEquals("8.7", CudaContext.PtxVersions.isaFor(12080));
        assertEquals("8.8", CudaContext.PtxVersions.isaFor(12090));
        assertEquals("9.0", CudaContext.PtxVersions.isaFor(13000));
    }

    @Test
    void onlyTheVersionDirectiveChanges() {
        byte[] ptx = KernelSources.ptx();
        String before = new String(ptx, StandardCharsets.US_ASCII);
        String after = new String(CudaContext.PtxVersions.withIsa(ptx, "8.4"), StandardCharsets.US_ASCII);
        assertTrue(after.contains("\n.version 8.4\n"), "the directive is rewritten");
        assertEquals(before.replaceFirst("\n\\.version [0-9.]+\n", "\n.version 8.4\n"), after);
    }
}
