package dev.vellama.quant;

import static dev.vellama.quant.BlockLayouts.SHORT_LE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.vellama.gguf.GgmlType;

/**
 * Quantization of whole rows guided by an importance matrix, as llama-quantize does with {@code --imatrix}
 * ({@code quantize_row_q4_0_impl} and its kin): each value weighted by its column's importance times
 * √(σ² + x²), σ² the row's mean square, and each block's scale chosen by a weighted fit. Same float arithmetic as
 * llama.cpp, so the bytes match. Types without a weighted variant here are refused; Q8_0 ignores importance there too.
 */
public final class WeightedQuantizer {
    private WeightedQuantizer() {}

    /**
     * Whether {@link #quantizeRow} has an importance-weighted variant of this type.
     *
     * @param type a ggml storage type
     * @return true if {@link #quantizeRow} accepts it (for F32, F16, BF16 and Q8_0 the importance is ignored)
     */
    public static boolean supports(GgmlType type) {
        return switch (type) {
            case Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, F32, F16, BF16 -> true;
            default -> false;
        };
    }

    /**
     * Quantizes one row of {@code n} values with {@code importance[n]} (one per column) into {@code dst} at {@code off}.
     *
     * @param type the target type; {@link #supports} must be true for it
     * @param row the row's values, read from index 0
     * @param n number of values, a multiple of the type's block size
     * @param importance the imatrix entry for the tensor: one weight per column, read from index 0
     * @param dst receives {@code type.byteSize(n)} bytes of blocks
     * @param off byte offset in {@code dst} of the first block
     * @throws UnsupportedTensorTypeException for a type with no weighted variant here
     */
    public static void quantizeRow(GgmlType type, float[] row, int n, float[] importance, MemorySegment dst, long off) {
        switch (type) {
            case Q8_0, F32, F16, BF16 -> Quantizer.quantize(type, row, 0, n, dst, off); // llama.cpp ignores it for these
            case Q4_0, Q4_1, Q5_0, Q5_1 -> legacy(type, row, n, importance, dst, off);
            case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> {
                KQuantizer k = new KQuantizer();
                for (int b = 0; b < n / 256; b++) {
                    long at = off + (long) b * type.bytesPerBlock();
                    switch (type) {
                        case Q4_K -> k.weightedK(row, 256 * b, importance, 256 * b, 15, dst, at);
                        case Q5_K -> k.weightedK(row, 256 * b, importance, 256 * b, 31, dst, at);
                        case Q2_K -> k.weightedQ2(row, 256 * b, importance, 256 * b, dst, at);
                        case Q3_K -> k.weightedQ3(row, 256 * b, importance, 256 * b, dst, at);
                        default -> k.q6_k(row, 256 * b, importance, 256 * b, dst, at);
                    }
                }
            }
            case IQ4_NL, IQ4_XS -> {
                NonLinearQuantizer q = new NonLinearQuantizer();
                int block = type.blockSize();
                for (int b = 0; b < n / block; b++) {
                    long at = off + (long) b * type.bytesPerBlock();
                    if (type == GgmlType.IQ4_NL) {
                        q.iq4nl(row, b * block, importance, b * block, dst, at);
                    } else {
                        q.iq4xs(row, b * block, importance, b * block, dst, at);
                    }
                }
            }
            default -> throw new UnsupportedTensorTypeException(type, "(quantize with an importance matrix)");
        }
    }

    private static void legacy(GgmlType type, float[] x, int n, float[] qw, MemorySegment y, long off) {
        float sumX2 = 0;
        for (int j = 0; j < n; j++) {
            sumX2 += x[j] * x[j];
        }
        float sigma2 = sumX2 / n;
        float[] weight = new float[32];
        byte[] levels = new byte[32];
        KQuantizer fit = new KQuantizer();
        for (int b = 0; b < n / 32; b++) {
            int xo = 32 * b;
            long yo = off + (long) b * type.bytesPerBlock();
            for (int j = 0; j < 32; j++) {
                weight[j] = qw[xo + j] * (float) Math.sqrt(sigma2 + x[xo + j] * x[xo + j]);
            }
            switch (type) {
                case Q4_0 -> {
                    float d = symmetric(32, 8, x, xo, levels, weight);
                    y.set(SHORT_LE, yo, Half.fromFloat(d));
                    for (int j = 0; j < 16; j++) {
                        y.set(ValueLayout.JAVA_BYTE, yo + 2 + j, (byte) (levels[j] | levels[j + 16] << 4));
                    }
                }
                case Q5_0 -> {
                    float d = symmetric(32, 16, x, xo, levels, weight);
                    y.set(SHORT_LE, yo, Half.fromFloat(d));
                    y.set(BlockLayouts.INT_LE, yo + 2, packFifth(levels, y, yo + 6));
                }
                case Q4_1, Q5_1 -> {
                    int nmax = type == GgmlType.Q4_1 ? 15 : 31;
                    float d = fit.weightedScaleAndMin(x, xo, weight, nmax, levels);
                    y.set(SHORT_LE, yo, Half.fromFloat(d));
                    y.set(SHORT_LE, yo + 2, Half.fromFloat(-fit.lastMin()));
                    if (type == GgmlType.Q4_1) {
                        for (int j = 0; j < 16; j++) {
                            y.set(ValueLayout.JAVA_BYTE, yo + 4 + j, (byte) (levels[j] | levels[j + 16] << 4));
                        }
                    } else {
                        y.set(BlockLayouts.INT_LE, yo + 4, packFifth(levels, y, yo + 8));
                    }
                }
                default -> throw new AssertionError(type);
            }
        }
    }

    /** Low four bits of each level two to a byte at {@code at}; returns the fifth bits as Q5's {@code qh}. */
    private static int packFifth(byte[] levels, MemorySegment y, long at) {
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int a = levels[j];
            int b = levels[j + 16];
            y.set(ValueLayout.JAVA_BYTE, at + j, (byte) ((a & 0x0F) | (b & 0x0F) << 4));
            qh |= ((a & 0x10) >> 4) << j;
            qh |= ((b & 0x10) >> 4) << (j + 16);
        }
        return qh;
    }

    /** llama.cpp's {@code make_qx_quants} with weights {@code w[0 .. n)} (rmse_type 1); levels +nmax to {@code levels}. */
    static float symmetric(int n, int nmax, float[] x, int xo, byte[] levels, float[] w) {
        return KQuantizer.makeQx(n, nmax, x, xo, levels, 0, w, 0);
    }
}
