package dev.vellama.quant;

import static dev.vellama.quant.BlockLayouts.SHORT_LE;
import static dev.vellama.quant.Rounding.nearestInt;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * IQ4_NL and IQ4_XS as llama-quantize writes them without an importance matrix ({@code quantize_iq4_nl} /
 * {@code quantize_iq4_xs}, both through {@code quantize_row_iq4_nl_impl} with 7 tries): per 32 values, the scale
 * whose nearest non-linear levels fit best (x²-weighted) among 15 candidates; IQ4_XS then stores each 32's scale as
 * a 6-bit multiple of one super-block scale. Same float arithmetic, so the bytes match. With tries of −1, as llama.cpp
 * converts values while it runs ({@code quantize_row_iq4_nl_ref}, its KV cache): the first fit's scale alone, from
 * the largest value's sign the other way round. Not thread-safe (scratch).
 */
final class NonLinearQuantizer {
    /** llama-quantize's tries ({@code quantize_iq4_nl}); the run-time conversion's are −1. */
    static final int FILE_TRIES = 7;
    /** llama.cpp's {@code kvalues_iq4nl}. */
    private static final int[] VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    private static final float GROUP_MAX_EPS = 1e-15f;
    private final int tries;

    private final byte[] levels = new byte[256];
    private final float[] weight = new float[32];
    private final float[] scales = new float[8];

    NonLinearQuantizer() {
        this(FILE_TRIES);
    }

    NonLinearQuantizer(int tries) {
        this.tries = tries;
    }

    /** One IQ4_NL block of 32 values: d, then 16 bytes of two 4-bit level indexes. */
    void iq4nl(float[] x, int xo, MemorySegment y, long yo) {
        fit(x, xo, null, 0, 32, y, yo, yo + 2, -1);
    }

    /** One IQ4_XS super-block of 256: d, scales_h (u16), scales_l[4], qs[128]. */
    void iq4xs(float[] x, int xo, MemorySegment y, long yo) {
        fit(x, xo, null, 0, 256, y, yo, yo + 8, yo + 2);
    }

    /** {@link #iq4nl} guided by importances {@code qw[qwo ..]} (llama.cpp's weights: qw·√(σ² + x²)). */
    void iq4nl(float[] x, int xo, float[] qw, int qwo, MemorySegment y, long yo) {
        fit(x, xo, qw, qwo, 32, y, yo, yo + 2, -1);
    }

    /** {@link #iq4xs} guided by importances {@code qw[qwo ..]}. */
    void iq4xs(float[] x, int xo, float[] qw, int qwo, MemorySegment y, long yo) {
        fit(x, xo, qw, qwo, 256, y, yo, yo + 8, yo + 2);
    }

    private static int bestIndex(float v) {
        if (v <= VALUES[0]) {
            return 0;
        }
        if (v >= VALUES[15]) {
            return 15;
        }
        int ml = 0;
        int mu = 15;
        while (mu - ml > 1) {
            int mav = (ml + mu) / 2;
            if (v < VALUES[mav]) {
                mu = mav;
            } else {
                ml = mav;
            }
        }
        return v - VALUES[mu - 1] < VALUES[mu] - v ? mu - 1 : mu;
    }

    /** {@code quantize_row_iq4_nl_impl} without weights; {@code scalesAt} < 0 for a single block (IQ4_NL). */
    private void fit(float[] x, int xo, float[] qw, int qwo, int size, MemorySegment y, long dAt, long qsAt, long scalesAt) {
        int blocks = size / 32;
        float sigma2 = 0;
        for (int j = 0; j < size; j++) {
            sigma2 += x[xo + j] * x[xo + j];
        }
        sigma2 *= 2.f / size;
        float maxScale = 0;
        float amaxScale = 0;
        for (int ib = 0; ib < blocks; ib++) {
            int b = xo + 32 * ib;
            for (int j = 0; j < 32; j++) {
                weight[j] = qw != null ? qw[qwo + 32 * ib + j] * (float) Math.sqrt(sigma2 + x[b + j] * x[b + j])
                        : x[b + j] * x[b + j];
            }
            float amax = 0;
            float max = 0;
            for (int j = 0; j < 32; j++) {
                float ax = Math.abs(x[b + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[b + j];
                }
            }
            if (amax < GROUP_MAX_EPS) {
                scales[ib] = 0;
                continue;
            }
            float d = tries > 0 ? -max / VALUES[0] : max / VALUES[0];
            float id = 1 / d;
            float sumqx = 0;
            float sumq2 = 0;
            for (int j = 0; j < 32; j++) {
                int l = bestIndex(id * x[b + j]);
                levels[32 * ib + j] = (byte) l;
                float q = VALUES[l];
                float w = weight[j];
                sumqx += w * q * x[b + j];
                sumq2 += w * q * q;
            }
            d = sumqx / sumq2;
            float best = d * sumqx;
            for (int itry = -tries; itry <= tries; itry++) {
                id = (itry + VALUES[0]) / max;
                sumqx = 0;
                sumq2 = 0;
                for (int j = 0; j < 32; j++) {
                    float q = VALUES[bestIndex(id * x[b + j])];
                    float w = weight[j];
                    sumqx += w * q * x[b + j];
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scales[ib] = d;
            float absD = Math.abs(d);
            if (absD > amaxScale) {
                amaxScale = absD;
                maxScale = d;
            }
        }
        if (blocks > 1) {
            int scalesH = 0;
            byte[] scalesL = new byte[blocks / 2];
            float d = -maxScale / 32;
            y.set(SHORT_LE, dAt, Half.fromFloat(d));
            float id = d != 0 ? 1 / d : 0.f;
            for (int ib = 0; ib < blocks; ib++) {
                int l = Math.max(-32, Math.min(31, nearestInt(id * scales[ib])));
                float dl = d * l;
                float idl = dl != 0 ? 1 / dl : 0.f;
                for (int j = 0; j < 32; j++) {
                    levels[32 * ib + j] = (byte) bestIndex(idl * x[xo + 32 * ib + j]);
                }
                l += 32;
                int lo = l & 0xf;
                int hi = l >> 4;
                if (ib % 2 == 0) {
                    scalesL[ib / 2] = (byte) lo;
                } else {
                    scalesL[ib / 2] |= (byte) (lo << 4);
                }
                scalesH |= hi << (2 * (ib % 8));
            }
            y.set(SHORT_LE, scalesAt, (short) scalesH);
            MemorySegment.copy(scalesL, 0, y, ValueLayout.JAVA_BYTE, scalesAt + 2, scalesL.length);
        } else {
            y.set(SHORT_LE, dAt, Half.fromFloat(scales[0]));
            if (tries > 0) {
                float id = scales[0] != 0 ? 1 / scales[0] : 0;
                for (int j = 0; j < 32; j++) {
                    levels[j] = (byte) bestIndex(id * x[xo + j]);
                }
            }
        }
        for (int i = 0; i < size / 32; i++) {
            for (int j = 0; j < 16; j++) {
                y.set(ValueLayout.JAVA_BYTE, qsAt + 16 * i + j, (byte) (levels[32 * i + j] | levels[32 * i + 16 + j] << 4));
            }
        }
    }
}
