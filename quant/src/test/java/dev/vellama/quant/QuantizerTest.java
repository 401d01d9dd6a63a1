package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.vellama.gguf.GgmlType;

class QuantizerTest {

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS", "MXFP4"})
    void reproducesLlamaQuantizeByteForByte(GgmlType type) {
        float[] src = GoldenDequant.sourceRows();
        byte[] want = GoldenDequant.blocks(type);
        byte[] got = Quantizer.quantize(type, src);
        assertEquals(want.length, got.length);
        int rowBytes = want.length / GoldenDequant.ROWS;
        int mismatches = 0;
        int first = -1;
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got[i]) {
                mismatches++;
                if (first < 0) {
                    first = i;
                }
            }
        }
        if (mismatches > 0) {
            int block = (first % rowBytes) / type.bytesPerBlock();
            fail(type + ": " + mismatches + " of " + want.length + " bytes differ; first at row " + first / rowBytes
                    + " block " + block + " byte " + (first % rowBytes) % type.bytesPerBlock() + ": want "
                    + (want[first] & 0xFF) + " got " + (got[first] & 0xFF));
        }
    }

    @Test
    void roundTripErrorIsSmall() {
        float[] src = KernelTestSupport.randomFloats(1024, 3);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            byte[] q = Quantizer.quantize(type, src);
            float[] back = new float[src.length];
            Dequantizer.dequantize(type, java.lang.foreign.MemorySegment.ofArray(q), 0, back, 0, src.length);
            double e = KernelTestSupport.nmse(src, back);
            org.junit.jupiter.api.Assertions.assertTrue(e < 0.01, type + " NMSE " + e);
        }
    }

    @Test
    void zeroBlocksQuantizeToZero() {
        float[] zeros = new float[256];
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
                GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            float[] back = new float[256];
            Dequantizer.dequantize(type, java.lang.foreign.MemorySegment.ofArray(Quantizer.quantize(type, zeros)), 0, back, 0, 256);
            for (float v : back) {
                assertEquals(0f, Math.abs(v), type.name());
            }
        }
    }

    @Test
    void rejectsTypesWithoutQuantizer() {
        assertThrows(UnsupportedTensorTypeException.class, () -> Quantizer.quantize(GgmlType.IQ2_XXS, new float[256]));
        assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(GgmlType.Q8_0, new float[33]));
    }
}
