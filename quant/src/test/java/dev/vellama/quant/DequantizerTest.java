package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import dev.vellama.gguf.GgmlType;

class DequantizerTest {

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
            "Q6_K", "IQ4_NL", "IQ4_XS", "MXFP4"})
    void matchesLlamaCppBitForBit(GgmlType type) {
        WeightMatrix w = GoldenDequant.matrix(type);
        float[] expected = GoldenDequant.floats(type);
        float[] row = new float[w.cols()];
        for (int r = 0; r < w.rows(); r++) {
            Dequantizer.dequantizeRow(w, r, row, 0);
            for (int c = 0; c < w.cols(); c++) {
                int want = Float.floatToRawIntBits(expected[r * w.cols() + c]);
                int got = Float.floatToRawIntBits(row[c]);
                if (want != got) {
                    assertEquals(expected[r * w.cols() + c], row[c], type + " row " + r + " col " + c + " bits "
                            + Integer.toHexString(want) + " vs " + Integer.toHexString(got));
                    assertEquals(want, got, type + " row " + r + " col " + c);
                }
            }
        }
    }

    /** The byte-array path (a KV cache's blocks) gives the same bits as the general one, for every cache type. */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void byteArraysDecodeAsSegmentsDo(GgmlType type) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(type.ordinal());
        float[] x = new float[320];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian() * 3;
        }
        byte[] blocks = Quantizer.quantize(type, x);
        int skip = Math.toIntExact(type.byteSize(32));
        float[] a = new float[290];
        float[] b = new float[290];
        Dequantizer.dequantize(type, MemorySegment.ofArray(blocks), skip, a, 2, 288);
        Dequantizer.dequantize(type, blocks, skip, b, 2, 288);
        org.junit.jupiter.api.Assertions.assertArrayEquals(a, b, type.toString());
        assertThrows(IndexOutOfBoundsException.class, () -> Dequantizer.dequantize(type, blocks, skip, new float[300], 0, 320));
    }

    @Test
    void rejectsCountsThatAreNotWholeBlocks() {
        MemorySegment seg = MemorySegment.ofArray(new byte[34]);
        assertThrows(IllegalArgumentException.class, () -> Dequantizer.dequantize(GgmlType.Q8_0, seg, 0, new float[31], 0, 31));
    }

    @Test
    void unsupportedTypeNamesTypeAndTensor() {
        var e = assertThrows(UnsupportedTensorTypeException.class,
                () -> new WeightMatrix("blk.0.ffn_up.weight", GgmlType.IQ2_XXS, MemorySegment.ofArray(new byte[66]), 1, 256));
        assertEquals("tensor type IQ2_XXS is not supported yet (tensor blk.0.ffn_up.weight)", e.getMessage());
    }
}
