package dev.vellama.quant;

import static dev.vellama.quant.BlockLayouts.QK_K;
import static dev.vellama.quant.BlockLayouts.SHORT_LE;
import static dev.vellama.quant.Rounding.nearestInt;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reference quantizers of Q2_K, Q3_K, Q4_K, Q5_K and Q6_K super-blocks without an importance matrix, reproducing llama.cpp's
 * {@code quantize_row_q4_K_ref} / {@code _q5_K_ref} / {@code _q6_K_ref}: the same search over candidate scales, in the
 * same float arithmetic, so the bytes match. Not thread-safe: one instance per thread (it holds scratch).
 */
final class KQuantizer {
    private static final float GROUP_MAX_EPS = 1e-15f;

    private final byte[] levels = new byte[QK_K];
    private final byte[] levelsAux = new byte[32];
    private final float[] weights = new float[32];
    private final float[] scales = new float[QK_K / 16];
    private final float[] mins = new float[QK_K / 32];
    private final float[] theMin = new float[1];

    void q4_k(float[] x, int xo, MemorySegment y, long yo) {
        scalesAndLevels(x, xo, y, yo, 15, -1.f, 20);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                y.set(ValueLayout.JAVA_BYTE, yo + 16 + 32 * c + l, (byte) (levels[64 * c + l] | levels[64 * c + 32 + l] << 4));
            }
        }
    }

    /**
     * Q5_K ({@code quantize_row_q5_K_ref}): Q4_K's scales and mins with levels up to 31, the fifth bit of each
     * level in {@code qh} (bit 2c of byte l for the first 32 of pair c, bit 2c+1 for the second), the low four in
     * {@code qs} as Q4_K packs them.
     */
    void q5_k(float[] x, int xo, MemorySegment y, long yo) {
        scalesAndLevels(x, xo, y, yo, 31, -0.5f, 15);
        packQ5(y, yo);
    }

    /** Q5_K's levels: the fifth bit of each in {@code qh}, the low four in {@code qs} as Q4_K packs them. */
    private void packQ5(MemorySegment y, long yo) {
        byte[] qh = new byte[32];
        for (int c = 0; c < 4; c++) {
            for (int j = 0; j < 32; j++) {
                int l1 = levels[64 * c + j];
                int l2 = levels[64 * c + 32 + j];
                if (l1 > 15) {
                    l1 -= 16;
                    qh[j] |= (byte) (1 << (2 * c));
                }
                if (l2 > 15) {
                    l2 -= 16;
                    qh[j] |= (byte) (2 << (2 * c));
                }
                y.set(ValueLayout.JAVA_BYTE, yo + 48 + 32 * c + j, (byte) (l1 | l2 << 4));
            }
        }
        MemorySegment.copy(qh, 0, y, ValueLayout.JAVA_BYTE, yo + 16, 32);
    }

    /**
     * Q2_K ({@code quantize_row_q2_K_ref}): 16 groups of 16 values, each fit as scale·L − min with L in [0, 3]
     * (absolute error, weights |x|), scales and mins as 4-bit multiples of d and dmin, levels packed four to a byte.
     * Layout: scales[16], qs[64], d, dmin.
     */
    void q2_k(float[] x, int xo, MemorySegment y, long yo) {
        float[] sc = new float[16];
        float[] mn = new float[16];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) {
                weights[l] = Math.abs(x[xo + 16 * j + l]);
            }
            sc[j] = fitScaleAndMin(16, 3, x, xo + 16 * j, weights, 16 * j, -0.5f, 0.1f, 15, true);
            mn[j] = theMin[0];
            maxScale = Math.max(maxScale, sc[j]);
            maxMin = Math.max(maxMin, mn[j]);
        }
        byte[] scaleBytes = new byte[16];
        short dBits = Half.fromFloat(0f);
        if (maxScale > 0) {
            float iscale = 15.f / maxScale;
            for (int j = 0; j < 16; j++) {
                scaleBytes[j] = (byte) nearestInt(iscale * sc[j]);
            }
            dBits = Half.fromFloat(maxScale / 15.f);
        }
        short dminBits = Half.fromFloat(0f);
        if (maxMin > 0) {
            float iscale = 15.f / maxMin;
            for (int j = 0; j < 16; j++) {
                scaleBytes[j] |= (byte) (nearestInt(iscale * mn[j]) << 4);
            }
            dminBits = Half.fromFloat(maxMin / 15.f);
        }
        float dAll = Half.toFloat(dBits);
        float dminAll = Half.toFloat(dminBits);
        for (int j = 0; j < 16; j++) {
            float d = dAll * (scaleBytes[j] & 0xF);
            if (d == 0) {
                continue;
            }
            float dm = dminAll * ((scaleBytes[j] & 0xFF) >> 4);
            for (int i = 0; i < 16; i++) {
                int l = nearestInt((x[xo + 16 * j + i] + dm) / d);
                levels[16 * j + i] = (byte) Math.max(0, Math.min(3, l));
            }
        }
        writeQ2(y, yo, scaleBytes, dBits, dminBits);
    }

    /** Q2_K's layout: scales[16], the levels four to a byte, d, dmin. */
    private void writeQ2(MemorySegment y, long yo, byte[] scaleBytes, short dBits, short dminBits) {
        MemorySegment.copy(scaleBytes, 0, y, ValueLayout.JAVA_BYTE, yo, 16);
        packTwoBits(y, yo + 16);
        y.set(SHORT_LE, yo + 80, dBits);
        y.set(SHORT_LE, yo + 82, dminBits);
    }

    /**
     * Q2_K guided by importances ({@code quantize_row_q2_K_impl}): weights qw·√(σ² + x²), {@code make_qkx3_quants}
     * per 16 with L in [0, 3], then the 4-bit scales and mins fit by {@code make_qp_quants}.
     */
    void weightedQ2(float[] x, int xo, float[] qw, int qwo, MemorySegment y, long yo) {
        float sumx2 = 0;
        for (int j = 0; j < QK_K; j++) {
            sumx2 += x[xo + j] * x[xo + j];
        }
        float sigma2 = sumx2 / QK_K;
        float[] sc = new float[16];
        float[] mn = new float[16];
        float[] sw = new float[16];
        for (int j = 0; j < 16; j++) {
            sw[j] = importanceWeights(x, xo + 16 * j, qw, qwo + 16 * j, sigma2, 16);
            sc[j] = fitScaleAndMin(16, 3, x, xo + 16 * j, weights, 16 * j, -0.9f, 0.05f, 36, false);
            mn[j] = theMin[0];
        }
        int[] ls = new int[16];
        int[] lm = new int[16];
        short dBits = Half.fromFloat(fitPositive(16, 15, sc, ls, sw));
        short mBits = Half.fromFloat(fitPositive(16, 15, mn, lm, sw));
        float dm = Half.toFloat(dBits);
        float mm = Half.toFloat(mBits);
        byte[] scaleBytes = new byte[16];
        for (int j = 0; j < 16; j++) {
            scaleBytes[j] = (byte) (ls[j] | lm[j] << 4);
        }
        for (int j = 0; j < 16; j++) {
            float d = dm * (scaleBytes[j] & 0xF);
            if (d == 0) {
                continue;
            }
            float m = mm * ((scaleBytes[j] & 0xFF) >> 4);
            for (int i = 0; i < 16; i++) {
                levels[16 * j + i] = (byte) Math.max(0, Math.min(3, nearestInt((x[xo + 16 * j + i] + m) / d)));
            }
        }
        writeQ2(y, yo, scaleBytes, dBits, mBits);
    }

    /**
     * Q3_K guided by importances ({@code quantize_row_q3_K_impl}): weights qw·√(σ² + x²) with σ² twice the mean
     * square, a weighted {@code make_qx_quants} per 16, and the 6-bit scales themselves fit by a weighted
     * {@code make_qx_quants} over the 16 scales.
     */
    void weightedQ3(float[] x, int xo, float[] qw, int qwo, MemorySegment y, long yo) {
        float sumx2 = 0;
        for (int j = 0; j < QK_K; j++) {
            sumx2 += x[xo + j] * x[xo + j];
        }
        float sigma2 = 2 * sumx2 / QK_K;
        float[] sc = new float[16];
        float[] sw = new float[16];
        byte[] group = new byte[16];
        for (int j = 0; j < 16; j++) {
            sw[j] = importanceWeights(x, xo + 16 * j, qw, qwo + 16 * j, sigma2, 16);
            sc[j] = WeightedQuantizer.symmetric(16, 4, x, xo + 16 * j, group, weights);
            System.arraycopy(group, 0, levels, 16 * j, 16);
        }
        byte[] ls = new byte[16];
        float dBlock = WeightedQuantizer.symmetric(16, 32, sc, 0, ls, sw);
        byte[] scaleBytes = new byte[12];
        for (int j = 0; j < 16; j++) {
            int l = ls[j];
            if (j < 8) {
                scaleBytes[j] = (byte) (l & 0xF);
            } else {
                scaleBytes[j - 8] |= (byte) ((l & 0xF) << 4);
            }
            l >>= 4;
            scaleBytes[j % 4 + 8] |= (byte) (l << (2 * (j / 4)));
        }
        short dBits = Half.fromFloat(dBlock);
        writeQ3(x, xo, y, yo, scaleBytes, dBits);
    }

    /** weights[0 .. n) = qw·√(σ² + x²) over the group at {@code at}, as llama.cpp's weighted quantizers; their sum. */
    private float importanceWeights(float[] x, int at, float[] qw, int qwo, float sigma2, int n) {
        for (int l = 0; l < n; l++) {
            float v = x[at + l];
            weights[l] = qw[qwo + l] * (float) Math.sqrt(sigma2 + v * v);
        }
        float sum = 0;
        for (int l = 0; l < n; l++) {
            sum += weights[l];
        }
        return sum;
    }

    /** Levels 0..3 four to a byte: byte l of each 128-value half holds values l, l+32, l+64, l+96. */
    private void packTwoBits(MemorySegment y, long at) {
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; l++) {
                y.set(ValueLayout.JAVA_BYTE, at + j / 4 + l, (byte) (levels[j + l] | levels[j + l + 32] << 2
                        | levels[j + l + 64] << 4 | levels[j + l + 96] << 6));
            }
        }
    }

    /**
     * Q3_K ({@code quantize_row_q3_K_ref}): 16 groups of 16 values, each fit symmetrically with L in [-4, 3]
     * ({@code make_q3_quants} with its RMSE refinement), 6-bit signed scales of d, the levels' third bit in
     * {@code hmask}. Layout: hmask[32], qs[64], scales[12], d.
     */
    void q3_k(float[] x, int xo, MemorySegment y, long yo) {
        float[] sc = new float[16];
        float maxScale = 0;
        float amax = 0;
        for (int j = 0; j < 16; j++) {
            sc[j] = fitQ3(16, 4, x, xo + 16 * j, 16 * j);
            float a = Math.abs(sc[j]);
            if (a > amax) {
                amax = a;
                maxScale = sc[j];
            }
        }
        byte[] scaleBytes = new byte[12];
        short dBits;
        if (maxScale != 0) {
            float iscale = -32.f / maxScale;
            for (int j = 0; j < 16; j++) {
                int l = (byte) nearestInt(iscale * sc[j]);
                l = Math.max(-32, Math.min(31, l)) + 32;
                if (j < 8) {
                    scaleBytes[j] = (byte) (l & 0xF);
                } else {
                    scaleBytes[j - 8] |= (byte) ((l & 0xF) << 4);
                }
                l >>= 4;
                scaleBytes[j % 4 + 8] |= (byte) (l << (2 * (j / 4)));
            }
            dBits = Half.fromFloat(1 / iscale);
        } else {
            dBits = Half.fromFloat(0.f);
        }
        writeQ3(x, xo, y, yo, scaleBytes, dBits);
    }

    /** Q3_K's levels from its packed scales and d, then hmask, qs, scales and d written. */
    private void writeQ3(float[] x, int xo, MemorySegment y, long yo, byte[] scaleBytes, short dBits) {
        float dAll = Half.toFloat(dBits);
        for (int j = 0; j < 16; j++) {
            int s = j < 8 ? scaleBytes[j] & 0xF : (scaleBytes[j - 8] & 0xFF) >> 4;
            s = (s | (((scaleBytes[8 + j % 4] & 0xFF) >> (2 * (j / 4))) & 3) << 4) - 32;
            float d = dAll * s;
            if (d == 0) {
                continue;
            }
            for (int i = 0; i < 16; i++) {
                int l = nearestInt(x[xo + 16 * j + i] / d);
                levels[16 * j + i] = (byte) (Math.max(-4, Math.min(3, l)) + 4);
            }
        }
        byte[] hmask = new byte[32];
        int m = 0;
        int hm = 1;
        for (int j = 0; j < QK_K; j++) {
            if (levels[j] > 3) {
                hmask[m] |= (byte) hm;
                levels[j] -= 4;
            }
            if (++m == 32) {
                m = 0;
                hm <<= 1;
            }
        }
        MemorySegment.copy(hmask, 0, y, ValueLayout.JAVA_BYTE, yo, 32);
        packTwoBits(y, yo + 32);
        MemorySegment.copy(scaleBytes, 0, y, ValueLayout.JAVA_BYTE, yo + 96, 12);
        y.set(SHORT_LE, yo + 108, dBits);
    }

    /**
     * llama.cpp's {@code make_qkx3_quants} over 32 values with the given weights, as the importance-guided Q4_1/Q5_1
     * use it (36 steps from −0.9 by 0.05): the levels to {@code out[0..32)}, the scale returned, the min (as a
     * positive offset) from {@link #lastMin}. With weights given it is {@code make_qkx2_quants}' search.
     */
    float weightedScaleAndMin(float[] x, int xo, float[] w, int nmax, byte[] out) {
        float scale = fitScaleAndMin(32, nmax, x, xo, w, 0, -0.9f, 0.05f, 36, false);
        System.arraycopy(levels, 0, out, 0, 32);
        return scale;
    }

    /** The min of the last {@link #weightedScaleAndMin}, as a positive offset (llama.cpp's {@code the_min}). */
    float lastMin() {
        return theMin[0];
    }

    /**
     * The value of largest magnitude among {@code x[xo .. xo+n)} (the first such), or 0 with {@code levels[lo ..]}
     * cleared when every magnitude is below {@code GROUP_MAX_EPS} (an all-zero group).
     */
    private static float largestOrClear(float[] x, int xo, int n, byte[] levels, int lo) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                levels[lo + i] = 0;
            }
            return 0f;
        }
        return max;
    }

    /**
     * llama.cpp's {@code make_q3_quants} with {@code do_rmse}: L in [-nmax, nmax-1] from the largest magnitude,
     * then up to 5 passes moving single levels while x²-weighted fit improves; levels (+nmax) to
     * {@code levels[lo..]}, returns the scale.
     */
    private float fitQ3(int n, int nmax, float[] x, int xo, int lo) {
        float max = largestOrClear(x, xo, n, levels, lo);
        if (max == 0) {
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
            levels[lo + i] = (byte) l;
            float w = x[xo + i] * x[xo + i];
            sumlx += w * x[xo + i] * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; itry++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                float w = xi * xi;
                int li = levels[lo + i];
                float slx = sumlx - w * xi * li;
                if (slx > 0) {
                    float sl2 = suml2 - w * li * li;
                    int newL = Math.max(-nmax, Math.min(nmax - 1, nearestInt(xi * sl2 / slx)));
                    if (newL != li) {
                        slx += w * xi * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            levels[lo + i] = (byte) newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            levels[lo + i] += (byte) nmax;
        }
        return sumlx / suml2;
    }

    /**
     * The scales, mins, d and dmin of a Q4_K/Q5_K super-block (written at {@code yo}), and each value's level in
     * [0, nmax] into {@code levels}: {@code make_qkx2_quants} per 32 values with llama.cpp's weights, then the
     * 6-bit scales and mins packed as {@code get_scale_min_k4} reads them.
     */
    private void scalesAndLevels(float[] x, int xo, MemorySegment y, long yo, int nmax, float rmin, int nstep) {
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++) {
            int base = xo + 32 * j;
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) {
                sumX2 += x[base + l] * x[base + l];
            }
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) {
                weights[l] = avX + Math.abs(x[base + l]);
            }
            scales[j] = fitScaleAndMin(32, nmax, x, base, weights, 32 * j, rmin, 0.1f, nstep, false);
            mins[j] = theMin[0];
            maxScale = Math.max(maxScale, scales[j]);
            maxMin = Math.max(maxMin, mins[j]);
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        int[] ls = new int[8];
        int[] lm = new int[8];
        for (int j = 0; j < 8; j++) {
            ls[j] = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
            lm[j] = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
        }
        writeScalesAndLevels(x, xo, y, yo, nmax, ls, lm, maxScale / 63.f, maxMin / 63.f);
    }

    /**
     * The 6-bit scales and mins packed as {@code get_scale_min_k4} reads them, d and dmin, and each value's level in
     * [0, nmax] from them into {@code levels} (a group whose scale is 0 keeps the levels its search left).
     */
    private void writeScalesAndLevels(float[] x, int xo, MemorySegment y, long yo, int nmax, int[] ls, int[] lm, float d0,
            float dmin0) {
        byte[] packed = new byte[12];
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                packed[j] = (byte) ls[j];
                packed[j + 4] = (byte) lm[j];
            } else {
                packed[j + 4] = (byte) ((ls[j] & 15) | (lm[j] & 15) << 4);
                packed[j - 4] |= (byte) ((ls[j] >> 4) << 6);
                packed[j] |= (byte) ((lm[j] >> 4) << 6);
            }
        }
        short dBits = Half.fromFloat(d0);
        short dminBits = Half.fromFloat(dmin0);
        y.set(SHORT_LE, yo, dBits);
        y.set(SHORT_LE, yo + 2, dminBits);
        MemorySegment.copy(packed, 0, y, ValueLayout.JAVA_BYTE, yo + 4, 12);
        float dAll = Half.toFloat(dBits);
        float dminAll = Half.toFloat(dminBits);
        MemorySegment scaleBytes = MemorySegment.ofArray(packed);
        for (int j = 0; j < 8; j++) {
            int sm = BlockLayouts.scaleMinK4(scaleBytes, 0, j);
            float d = dAll * (sm & 0xFF);
            if (d == 0) {
                continue; // llama.cpp leaves such levels as the search left them
            }
            float dm = dminAll * (sm >> 8);
            for (int i = 0; i < 32; i++) {
                int l = nearestInt((x[xo + 32 * j + i] + dm) / d);
                levels[32 * j + i] = (byte) Math.max(0, Math.min(nmax, l));
            }
        }
    }

    /**
     * Q4_K ({@code nmax} 15) or Q5_K (31) guided by importances ({@code quantize_row_q4_K_impl} / {@code _q5_K_impl}):
     * weights qw·√(σ² + x²) with σ² twice the super-block's mean square, {@code make_qkx3_quants} per 32, then the
     * scales and mins themselves fit by {@code make_qp_quants} weighted by each group's total weight.
     */
    void weightedK(float[] x, int xo, float[] qw, int qwo, int nmax, MemorySegment y, long yo) {
        float sumX2 = 0;
        for (int l = 0; l < QK_K; l++) {
            sumX2 += x[xo + l] * x[xo + l];
        }
        float sigma2 = 2 * sumX2 / QK_K;
        float[] sw = new float[8];
        for (int j = 0; j < 8; j++) {
            sw[j] = importanceWeights(x, xo + 32 * j, qw, qwo + 32 * j, sigma2, 32);
            scales[j] = fitScaleAndMin(32, nmax, x, xo + 32 * j, weights, 32 * j, -0.9f, 0.05f, 36, false);
            mins[j] = theMin[0];
        }
        int[] ls = new int[8];
        int[] lm = new int[8];
        float dBlock = fitPositive(8, 63, scales, ls, sw);
        float mBlock = fitPositive(8, 63, mins, lm, sw);
        writeScalesAndLevels(x, xo, y, yo, nmax, ls, lm, dBlock, mBlock);
        if (nmax == 15) {
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    y.set(ValueLayout.JAVA_BYTE, yo + 16 + 32 * c + l, (byte) (levels[64 * c + l] | levels[64 * c + 32 + l] << 4));
                }
            }
        } else {
            packQ5(y, yo);
        }
    }

    /**
     * llama.cpp's {@code make_qp_quants}: non-negative values as scale·L with L in [0, nmax], weighted, 9 candidate
     * scales then up to 5 passes moving single levels; the levels to {@code out}, the scale returned.
     */
    private static float fitPositive(int n, int nmax, float[] x, int[] out, float[] w) {
        float max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        if (max == 0) {
            java.util.Arrays.fill(out, 0, n, 0);
            return 0.f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; i++) {
            out[i] = nearestInt(iscale * x[i]) & 0xFF;
        }
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; i++) {
            float diff = x[i] - scale * out[i];
            bestMse += w[i] * diff * diff;
        }
        for (int is = -4; is <= 4; is++) {
            if (is == 0) {
                continue;
            }
            float iscaleIs = (0.1f * is + nmax) / max;
            float scaleIs = 1 / iscaleIs;
            float mse = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.min(nmax, nearestInt(iscaleIs * x[i]));
                float diff = x[i] - scaleIs * l;
                mse += w[i] * diff * diff;
            }
            if (mse < bestMse) {
                bestMse = mse;
                iscale = iscaleIs;
            }
        }
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.min(nmax, nearestInt(iscale * x[i]));
            out[i] = l & 0xFF;
            sumlx += w[i] * x[i] * out[i];
            suml2 += w[i] * out[i] * out[i];
        }
        for (int itry = 0; itry < 5; itry++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float slx = sumlx - w[i] * x[i] * out[i];
                float sl2 = suml2 - w[i] * out[i] * out[i];
                if (slx > 0 && sl2 > 0) {
                    int newL = Math.min(nmax, nearestInt(x[i] * sl2 / slx));
                    if (newL != out[i]) {
                        slx += w[i] * x[i] * newL;
                        sl2 += w[i] * newL * newL;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                            out[i] = newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        return sumlx / suml2;
    }

    /**
     * Fits x ≈ scale·L − min with L in [0, nmax], weighted least squares over nstep+1 candidate scales
     * (llama.cpp's {@code make_qkx2_quants}; squared error, or absolute error with {@code mad}). Levels go to {@code levels[lo..]}, the min (as a
     * positive offset) to {@code theMin[0]}; returns the scale.
     */
    private float fitScaleAndMin(int n, int nmax, float[] x, int xo, float[] w, int lo, float rmin, float rdelta, int nstep,
            boolean mad) {
        float min = x[xo];
        float max = x[xo];
        float sumW = w[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            float v = x[xo + i];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
            sumW += w[i];
            sumX += w[i] * v;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                levels[lo + i] = 0;
            }
            theMin[0] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
            levels[lo + i] = (byte) l;
            float diff = scale * l + min - x[xo + i];
            bestError += w[i] * (mad ? Math.abs(diff) : diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
                levelsAux[i] = (byte) l;
                sumL += w[i] * l;
                sumL2 += w[i] * l * l;
                sumXL += w[i] * l * x[xo + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * levelsAux[i] + thisMin - x[xo + i];
                    error += w[i] * (mad ? Math.abs(diff) : diff * diff);
                }
                if (error < bestError) {
                    System.arraycopy(levelsAux, 0, levels, lo, n);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    void q6_k(float[] x, int xo, MemorySegment y, long yo) {
        q6_k(x, xo, null, 0, y, yo);
    }

    /** Q6_K guided by importances {@code qw[qwo ..]} ({@code quantize_row_q6_K_impl}: the raw importances as weights). */
    void q6_k(float[] x, int xo, float[] qw, int qwo, MemorySegment y, long yo) {
        float maxScale = 0;
        float maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = fitSymmetric(16, 32, x, xo + 16 * ib, 16 * ib, qw, qw == null ? 0 : qwo + 16 * ib);
            scales[ib] = scale;
            if (Math.abs(scale) > maxAbsScale) {
                maxAbsScale = Math.abs(scale);
                maxScale = scale;
            }
        }
        if (maxAbsScale < GROUP_MAX_EPS) {
            y.asSlice(yo, 210).fill((byte) 0);
            return;
        }
        float iscale = -128.f / maxScale;
        short dBits = Half.fromFloat(1 / iscale);
        y.set(SHORT_LE, yo + 208, dBits);
        float dAll = Half.toFloat(dBits);
        for (int ib = 0; ib < 16; ib++) {
            byte sc = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
            y.set(ValueLayout.JAVA_BYTE, yo + 192 + ib, sc);
            float d = dAll * sc;
            if (d == 0) {
                continue;
            }
            for (int i = 0; i < 16; i++) {
                int l = Math.max(-32, Math.min(31, nearestInt(x[xo + 16 * ib + i] / d)));
                levels[16 * ib + i] = (byte) (l + 32);
            }
        }
        for (int half = 0; half < 2; half++) {
            int j = 128 * half;
            long ql = yo + 64L * half;
            long qh = yo + 128 + 32L * half;
            for (int l = 0; l < 32; l++) {
                int l0 = levels[j + l];
                int l1 = levels[j + l + 32];
                int l2 = levels[j + l + 64];
                int l3 = levels[j + l + 96];
                y.set(ValueLayout.JAVA_BYTE, ql + l, (byte) ((l0 & 15) | (l2 & 15) << 4));
                y.set(ValueLayout.JAVA_BYTE, ql + l + 32, (byte) ((l1 & 15) | (l3 & 15) << 4));
                y.set(ValueLayout.JAVA_BYTE, qh + l, (byte) ((l0 >> 4) | (l1 >> 4) << 2 | (l2 >> 4) << 4 | (l3 >> 4) << 6));
            }
        }
    }

    /**
     * Symmetric fit x ≈ scale·(L − nmax) weighted by x², trying 18 scales around nmax/max (llama.cpp's
     * {@code make_qx_quants} with rmse_type 1). Levels (biased by nmax) go to {@code levels[lo..]}.
     */
    private float fitSymmetric(int n, int nmax, float[] x, int xo, int lo, float[] qw, int qwo) {
        return makeQx(n, nmax, x, xo, levels, lo, qw, qwo);
    }

    /**
     * llama.cpp's {@code make_qx_quants} (rmse_type 1): levels (biased by nmax) to {@code out[outOff ..]}, weights
     * {@code qw[qwo ..]} or x² when null; returns the scale.
     */
    static float makeQx(int n, int nmax, float[] x, int xo, byte[] out, int lo, float[] qw, int qwo) {
        float max = largestOrClear(x, xo, n, out, lo);
        if (max == 0) {
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumLX = 0;
        float sumL2 = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
            out[lo + i] = (byte) (l + nmax);
            float w = qw != null ? qw[qwo + i] : v * v;
            sumLX += w * v * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0.0f;
        float best = scale * sumLX;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumLX = 0;
            sumL2 = 0;
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
                float w = qw != null ? qw[qwo + i] : v * v;
                sumLX += w * v * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
                for (int i = 0; i < n; i++) {
                    int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
                    out[lo + i] = (byte) (l + nmax);
                }
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }
}
