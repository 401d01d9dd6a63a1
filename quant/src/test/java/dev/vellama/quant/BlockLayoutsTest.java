package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The register forms of the K-quant scale unpacking agree with the byte-by-byte definition. */
class BlockLayoutsTest {

    @Test
    void wordFormsOfScaleMinK4MatchTheByteForm() {
        SplittableRandom rnd = new SplittableRandom(1);
        byte[] bytes = new byte[12];
        for (int trial = 0; trial < 2000; trial++) {
            for (int i = 0; i < 12; i++) {
                bytes[i] = (byte) rnd.nextInt(256);
            }
            MemorySegment seg = MemorySegment.ofArray(bytes);
            long lo8 = seg.get(BlockLayouts.LONG_LE, 0);
            int hi4 = seg.get(BlockLayouts.INT_LE, 8);
            long scales = BlockLayouts.scalesK4(lo8, hi4);
            long mins = BlockLayouts.minsK4(lo8, hi4);
            for (int j = 0; j < 8; j++) {
                int sm = BlockLayouts.scaleMinK4(seg, 0, j);
                assertEquals(sm, BlockLayouts.scaleMinK4(lo8, hi4, j), "j=" + j);
                assertEquals(sm & 0xFF, (int) (scales >>> (8 * j)) & 0xFF, "scale " + j);
                assertEquals(sm >> 8, (int) (mins >>> (8 * j)) & 0xFF, "min " + j);
            }
        }
    }
}
