package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GpuLayersTest {

    @Test
    void parsesCountsAndAll() {
        assertEquals(0, GpuLayers.parse("0"));
        assertEquals(12, GpuLayers.parse(" 12 "));
        assertEquals(GpuLayers.ALL, GpuLayers.parse("all"));
        assertEquals(GpuLayers.ALL, GpuLayers.parse("ALL"));
    }

    @Test
    void rejectsAnythingElseWithTheOptionName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GpuLayers.parse("-1")).getMessage().contains("--gpu-layers"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GpuLayers.parse("many")).getMessage().contains("'many'"));
    }

    @Test
    void theOutputMovesOnlyPastTheLastLayer() {
        assertEquals(6, GpuLayers.layersOnGpu(6, 22));
        assertFalse(GpuLayers.outputOnGpu(22, 22));
        assertEquals(22, GpuLayers.layersOnGpu(23, 22));
        assertTrue(GpuLayers.outputOnGpu(23, 22));
        assertTrue(GpuLayers.outputOnGpu(GpuLayers.ALL, 22));
    }
}
