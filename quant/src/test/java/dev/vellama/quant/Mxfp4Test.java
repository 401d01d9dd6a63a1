package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.vellama.gguf.GgmlType;

/**
 * MXFP4 at its edges, against what ggml's reference quantizer and decoder made of the same floats
 * ({@code mxfp4/edges.*}): a block whose largest value is the float just below 1024 (log2f rounds it up to 10, so the
 * exponent is one more than the float's own), a block of values around 2^-125 (exponent 0: the scale is a
 * subnormal), an all-zero block, and one just below 0.5 with its maximum negated.
 */
class Mxfp4Test {
    @Test
    void edgeBlocksQuantizeAndDecodeAsGgmlDoes() {
        Path dir = GoldenDequant.dir(GgmlType.MXFP4);
        float[] in = GoldenDequant.littleEndianFloats(GoldenDequant.read(dir.resolve("edges.in.f32")));
        byte[] want = GoldenDequant.read(dir.resolve("edges.blocks"));
        float[] decoded = GoldenDequant.littleEndianFloats(GoldenDequant.read(dir.resolve("edges.f32")));

        byte[] got = Quantizer.quantize(GgmlType.MXFP4, in);
        assertArrayEquals(want, got);
        assertEquals(135, want[0] & 0xFF, "the block below 1024 takes log2f's rounded-up exponent");
        assertEquals(0, want[17] & 0xFF, "the block around 2^-125 has the smallest exponent");

        float[] out = new float[in.length];
        Dequantizer.dequantize(GgmlType.MXFP4, MemorySegment.ofArray(want), 0, out, 0, out.length);
        for (int i = 0; i < out.length; i++) {
            assertEquals(Float.floatToRawIntBits(decoded[i]), Float.floatToRawIntBits(out[i]), "value " + i);
        }
    }
}
