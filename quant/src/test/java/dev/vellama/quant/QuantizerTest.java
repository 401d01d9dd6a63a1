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

    /**
     * The run-time conversion (llama.cpp's {@code quantize_row_iq4_nl_ref}, what its KV cache stores) differs from
     * llama-quantize's for IQ4_NL: no scales tried beyond the first fit. The bytes below come from that function in
     * ggml d99724f (src/ggml-quants.c built with {@code gcc -O1 -std=c11}, called once on these 256 values: an LCG's
     * integers over 1000, block 6 divided by 4096, block 7 by 10 with one value of −50).
     */
    @Test
    void iq4NlAsLlamaCppConvertsWhileItRuns() {
        float[] x = new float[256];
        long s = 12345;
        for (int i = 0; i < 256; i++) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            int v = (int) Long.remainderUnsigned(s >>> 33, 20001) - 10000;
            x[i] = v / 1000.0f;
        }
        for (int i = 192; i < 224; i++) {
            x[i] = x[i] / 4096.0f;
        }
        for (int i = 224; i < 256; i++) {
            x[i] = i == 230 ? -50.0f : x[i] / 10.0f;
        }
        String want = "b7ac9ccffa5e95ede3fd322926a42ac90dd601adfc1e7ce70e18d6c1dda1cfefee7ff605d32cf4a8560d960d2edecf2219a86e4ff3efcdac16e2021d536c551feff9f355b75e1da1d82cfddc41256f37842b906c07d640db4493f12ca1e31b908f5b5ec1d7bea5aaeac03c7e30012676ffd15d9c6eefef343e3210fee5d24d3688888888888880888888888888888888";
        byte[] got = new byte[144];
        Quantizer.quantizeReference(GgmlType.IQ4_NL, x, 0, 256, java.lang.foreign.MemorySegment.ofArray(got), 0);
        assertEquals(want, java.util.HexFormat.of().formatHex(got));
        byte[] file = Quantizer.quantize(GgmlType.IQ4_NL, x);
        org.junit.jupiter.api.Assertions.assertNotEquals(want, java.util.HexFormat.of().formatHex(file),
                "llama-quantize's conversion tries more scales");
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
