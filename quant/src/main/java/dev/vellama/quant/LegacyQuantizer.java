package dev.vellama.quant;

import static dev.vellama.quant.BlockLayouts.INT_LE;
import static dev.vellama.quant.BlockLayouts.SHORT_LE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reference quantizers of the 32-element block types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, MXFP4), byte for byte what
 * llama.cpp's {@code quantize_row_*_ref} write: same scale choice, same float operations, same truncations.
 */
final class LegacyQuantizer {
    private LegacyQuantizer() {}

    static void q8_0(float[] x, int xo, MemorySegment y, long yo) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[xo + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        y.set(SHORT_LE, yo, Half.fromFloat(d));
        for (int j = 0; j < 32; j++) {
            y.set(ValueLayout.JAVA_BYTE, yo + 2 + j, (byte) Rounding.roundHalfAway(x[xo + j] * id));
        }
    }

    /**
     * MXFP4 ({@code quantize_row_mxfp4_ref}): the shared exponent is floor(log2(amax)) − 2 (so amax lands between
     * 4 and 8 halves of the scale, the top of E2M1's range at 6), each value the nearest level, the first on ties.
     */
    static void mxfp4(float[] x, int xo, MemorySegment y, long yo) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[xo + j]));
        }
        // log2f's float result, floored: near a power of two it rounds up to the integer, as ggml's does
        int e = amax > 0 ? ((int) (Math.floor((float) (Math.log(amax) / Math.log(2))) - 2 + 127)) & 0xFF : 0;
        float d = BlockLayouts.e8m0Half(e);
        y.set(ValueLayout.JAVA_BYTE, yo, (byte) e);
        for (int j = 0; j < 16; j++) {
            int lo = nearestMxfp4(x[xo + j], d);
            int hi = nearestMxfp4(x[xo + 16 + j], d);
            y.set(ValueLayout.JAVA_BYTE, yo + 1 + j, (byte) (lo | hi << 4));
        }
    }

    private static int nearestMxfp4(float x, float d) {
        int best = 0;
        float bestErr = Math.abs(BlockLayouts.MXFP4_LEVELS[0] * d - x);
        for (int i = 1; i < 16; i++) {
            float err = Math.abs(BlockLayouts.MXFP4_LEVELS[i] * d - x);
            if (err < bestErr) {
                best = i;
                bestErr = err;
            }
        }
        return best;
    }

    /** The value of largest magnitude, sign kept (the first one on ties). */
    private static float signedMax(float[] x, int xo) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    private static float min(float[] x, int xo) {
        float min = Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            min = x[xo + j] < min ? x[xo + j] : min;
        }
        return min;
    }

    private static float max(float[] x, int xo) {
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            max = x[xo + j] > max ? x[xo + j] : max;
        }
        return max;
    }

    static void q4_0(float[] x, int xo, MemorySegment y, long yo) {
        float d = signedMax(x, xo) / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        y.set(SHORT_LE, yo, Half.fromFloat(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (byte) (int) (x[xo + j] * id + 8.5f));
            int hi = Math.min(15, (byte) (int) (x[xo + 16 + j] * id + 8.5f));
            y.set(ValueLayout.JAVA_BYTE, yo + 2 + j, (byte) (lo | hi << 4));
        }
    }

    static void q4_1(float[] x, int xo, MemorySegment y, long yo) {
        float min = min(x, xo);
        float max = max(x, xo);
        float d = (max - min) / 15;
        float id = d != 0 ? 1.0f / d : 0.0f;
        y.set(SHORT_LE, yo, Half.fromFloat(d));
        y.set(SHORT_LE, yo + 2, Half.fromFloat(min));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (byte) (int) ((x[xo + j] - min) * id + 0.5f));
            int hi = Math.min(15, (byte) (int) ((x[xo + 16 + j] - min) * id + 0.5f));
            y.set(ValueLayout.JAVA_BYTE, yo + 4 + j, (byte) (lo | hi << 4));
        }
    }

    static void q5_0(float[] x, int xo, MemorySegment y, long yo) {
        float d = signedMax(x, xo) / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        y.set(SHORT_LE, yo, Half.fromFloat(d));
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(31, (byte) (int) (x[xo + j] * id + 16.5f));
            int hi = Math.min(31, (byte) (int) (x[xo + 16 + j] * id + 16.5f));
            y.set(ValueLayout.JAVA_BYTE, yo + 6 + j, (byte) ((lo & 15) | (hi & 15) << 4));
            qh |= ((lo & 0x10) >> 4) << j;
            qh |= ((hi & 0x10) >> 4) << (j + 16);
        }
        y.set(INT_LE, yo + 2, qh);
    }

    static void q5_1(float[] x, int xo, MemorySegment y, long yo) {
        float min = min(x, xo);
        float max = max(x, xo);
        float d = (max - min) / 31;
        float id = d != 0 ? 1.0f / d : 0.0f;
        y.set(SHORT_LE, yo, Half.fromFloat(d));
        y.set(SHORT_LE, yo + 2, Half.fromFloat(min));
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            // Unsigned 8-bit truncation, as the reference does for this type.
            int lo = ((int) ((x[xo + j] - min) * id + 0.5f)) & 0xFF;
            int hi = ((int) ((x[xo + 16 + j] - min) * id + 0.5f)) & 0xFF;
            y.set(ValueLayout.JAVA_BYTE, yo + 8 + j, (byte) ((lo & 15) | (hi & 15) << 4));
            qh |= ((lo & 0x10) >> 4) << j;
            qh |= ((hi & 0x10) >> 4) << (j + 16);
        }
        y.set(INT_LE, yo + 4, qh);
    }
}
