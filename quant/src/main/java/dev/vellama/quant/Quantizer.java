package dev.vellama.quant;

import java.lang.foreign.MemorySegment;

import dev.vellama.gguf.GgmlType;

/**
 * Float rows to ggml blocks, byte for byte as llama.cpp's reference quantizers (no importance matrix) write them,
 * for the legacy, k-quant and IQ4 types and MXFP4, plus F32/F16/BF16.
 */
public final class Quantizer {
    private Quantizer() {}

    /**
     * Whether {@link #quantize} can write this type.
     *
     * @param type a ggml storage type
     * @return true if there is a quantizer (or plain conversion) for it
     */
    public static boolean canQuantize(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, MXFP4 -> true;
            default -> false;
        };
    }

    /**
     * Quantizes all of {@code src} (a multiple of the block size) to a new byte array.
     *
     * @param type the target type
     * @param src the values; their count must be a whole number of the type's blocks
     * @return the encoded blocks, {@code type.byteSize(src.length)} bytes, owned by the caller
     * @throws UnsupportedTensorTypeException if {@link #canQuantize} is false for {@code type}
     * @throws IllegalArgumentException if {@code src.length} is not a whole number of blocks
     */
    public static byte[] quantize(GgmlType type, float[] src) {
        byte[] out = new byte[Math.toIntExact(type.byteSize(src.length))];
        quantize(type, src, 0, src.length, MemorySegment.ofArray(out), 0);
        return out;
    }

    /**
     * Quantizes {@code count} values of {@code src} from {@code srcOff} into {@code dst} at byte {@code dstOff}.
     *
     * @param type the target type
     * @param src the values to encode
     * @param srcOff index in {@code src} of the first value
     * @param count number of values, a multiple of the type's block size
     * @param dst receives {@code type.byteSize(count)} bytes of blocks
     * @param dstOff byte offset in {@code dst} of the first block
     * @throws UnsupportedTensorTypeException if {@link #canQuantize} is false for {@code type}
     * @throws IllegalArgumentException if {@code count} is not a whole number of blocks
     */
    public static void quantize(GgmlType type, float[] src, int srcOff, int count, MemorySegment dst, long dstOff) {
        quantize(type, src, srcOff, count, dst, dstOff, NonLinearQuantizer.FILE_TRIES);
    }

    /**
     * {@link #quantize(GgmlType, float[], int, int, MemorySegment, long)} as llama.cpp converts values while it runs
     * ({@code quantize_row_*_ref}: its KV cache, copies between types) rather than as llama-quantize writes a file.
     * The two differ only for IQ4_NL and IQ4_XS, whose run-time conversion tries no scales beyond the first fit.
     *
     * @param type the target type
     * @param src the values to encode
     * @param srcOff index in {@code src} of the first value
     * @param count number of values, a multiple of the type's block size
     * @param dst receives {@code type.byteSize(count)} bytes of blocks
     * @param dstOff byte offset in {@code dst} of the first block
     * @throws UnsupportedTensorTypeException if {@link #canQuantize} is false for {@code type}
     * @throws IllegalArgumentException if {@code count} is not a whole number of blocks
     */
    public static void quantizeReference(GgmlType type, float[] src, int srcOff, int count, MemorySegment dst,
                                         long dstOff) {
        quantize(type, src, srcOff, count, dst, dstOff, -1);
    }

    private static void quantize(GgmlType type, float[] src, int srcOff, int count, MemorySegment dst, long dstOff,
                                 int nonLinearTries) {
        if (!canQuantize(type)) {
            throw new UnsupportedTensorTypeException(type, "(quantize)");
        }
        if (count % type.blockSize() != 0) {
            throw new IllegalArgumentException(count + " values is not a multiple of " + type + "'s block size " + type.blockSize());
        }
        int bs = type.blockSize();
        int bpb = type.bytesPerBlock();
        int blocks = count / bs;
        KQuantizer k = type.name().endsWith("_K") ? new KQuantizer() : null;
        NonLinearQuantizer nl = type == GgmlType.IQ4_NL || type == GgmlType.IQ4_XS ? new NonLinearQuantizer(nonLinearTries)
                : null;
        for (int b = 0; b < blocks; b++) {
            int x = srcOff + b * bs;
            long y = dstOff + (long) b * bpb;
            switch (type) {
                case F32 -> dst.set(BlockLayouts.FLOAT_LE, y, src[x]);
                case F16 -> dst.set(BlockLayouts.SHORT_LE, y, Half.fromFloat(src[x]));
                case BF16 -> dst.set(BlockLayouts.SHORT_LE, y, Half.floatToBf16(src[x]));
                case Q8_0 -> LegacyQuantizer.q8_0(src, x, dst, y);
                case Q4_0 -> LegacyQuantizer.q4_0(src, x, dst, y);
                case Q4_1 -> LegacyQuantizer.q4_1(src, x, dst, y);
                case Q5_0 -> LegacyQuantizer.q5_0(src, x, dst, y);
                case Q5_1 -> LegacyQuantizer.q5_1(src, x, dst, y);
                case MXFP4 -> LegacyQuantizer.mxfp4(src, x, dst, y);
                case IQ4_NL -> nl.iq4nl(src, x, dst, y);
                case IQ4_XS -> nl.iq4xs(src, x, dst, y);
                case Q2_K -> k.q2_k(src, x, dst, y);
                case Q3_K -> k.q3_k(src, x, dst, y);
                case Q4_K -> k.q4_k(src, x, dst, y);
                case Q5_K -> k.q5_k(src, x, dst, y);
                case Q6_K -> k.q6_k(src, x, dst, y);
                default -> throw new UnsupportedTensorTypeException(type, "(quantize)");
            }
        }
    }
}
