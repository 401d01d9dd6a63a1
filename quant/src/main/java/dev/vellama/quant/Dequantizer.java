package dev.vellama.quant;

import static dev.vellama.quant.BlockLayouts.FLOAT_LE;
import static dev.vellama.quant.BlockLayouts.IQ4NL_LEVELS;
import static dev.vellama.quant.BlockLayouts.INT_LE;
import static dev.vellama.quant.BlockLayouts.QK_K;
import static dev.vellama.quant.BlockLayouts.bits16;
import static dev.vellama.quant.BlockLayouts.f16;
import static dev.vellama.quant.BlockLayouts.i8;
import static dev.vellama.quant.BlockLayouts.q3kScale;
import static dev.vellama.quant.BlockLayouts.scaleMinK4;
import static dev.vellama.quant.BlockLayouts.u8;

import java.lang.foreign.MemorySegment;

import dev.vellama.gguf.GgmlType;

/**
 * Scalar reference decoding of ggml blocks to floats, bit for bit what llama.cpp's dequantization returns: each
 * value is computed with the same float operations in the same order (for example Q4_K forms {@code d·sc} and
 * {@code dmin·m} first, then {@code d1·q − m1}).
 */
public final class Dequantizer {
    private Dequantizer() {}

    /**
     * Decodes {@code count} values (a multiple of the type's block size) starting at byte {@code offset} of
     * {@code src} into {@code dst[dstOff..]}.
     *
     * @param type the storage type of the bytes
     * @param src the encoded tensor data, little-endian as in GGUF
     * @param offset byte offset of the first block in {@code src}
     * @param dst receives the decoded floats
     * @param dstOff index in {@code dst} of the first value written
     * @param count number of values to decode, a multiple of the type's block size
     * @throws IllegalArgumentException if {@code count} is not a whole number of blocks
     * @throws UnsupportedTensorTypeException if {@code type} has no decoder
     */
    public static void dequantize(GgmlType type, MemorySegment src, long offset, float[] dst, int dstOff, int count) {
        if (count % type.blockSize() != 0) {
            throw new IllegalArgumentException(count + " values is not a multiple of " + type + "'s block size " + type.blockSize());
        }
        switch (type) {
            case F32 -> {
                MemorySegment.copy(src, FLOAT_LE, offset, dst, dstOff, count);
                return;
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = f16(src, offset + 2L * i);
                }
                return;
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = Half.bf16ToFloat(bits16(src, offset + 2L * i));
                }
                return;
            }
            default -> {
            }
        }
        BlockDecoder decoder = switch (type) {
            case Q8_0 -> Dequantizer::q8_0;
            case Q4_0 -> Dequantizer::q4_0;
            case Q4_1 -> Dequantizer::q4_1;
            case Q5_0 -> Dequantizer::q5_0;
            case Q5_1 -> Dequantizer::q5_1;
            case IQ4_NL -> Dequantizer::iq4_nl;
            case MXFP4 -> Dequantizer::mxfp4;
            case Q2_K -> Dequantizer::q2_k;
            case Q3_K -> Dequantizer::q3_k;
            case Q4_K -> Dequantizer::q4_k;
            case Q5_K -> Dequantizer::q5_k;
            case Q6_K -> Dequantizer::q6_k;
            case IQ4_XS -> Dequantizer::iq4_xs;
            default -> throw new UnsupportedTensorTypeException(type, "(dequantize)");
        };
        long bytesPerBlock = type.bytesPerBlock();
        for (int b = 0; b < count / type.blockSize(); b++) {
            decoder.decode(src, offset + b * bytesPerBlock, dst, dstOff + type.blockSize() * b);
        }
    }

    /** The decoder of one block: bytes at {@code o} of {@code s} to values at {@code y[yo..]}. */
    @FunctionalInterface
    private interface BlockDecoder {
        void decode(MemorySegment s, long o, float[] y, int yo);
    }

    /**
     * {@link #dequantize(GgmlType, MemorySegment, long, float[], int, int)} from a byte array (a KV cache's blocks):
     * Q8_0 and Q4_0 in plain loops over the array, which the JIT turns into vector conversions, as a tile of a
     * cache is decoded for every token; other types through the general path.
     *
     * @param type the storage type of the bytes
     * @param src the encoded blocks, little-endian as in GGUF
     * @param offset index in {@code src} of the first block's first byte
     * @param dst receives the decoded floats
     * @param dstOff index in {@code dst} of the first value written
     * @param count number of values to decode, a multiple of the type's block size
     * @throws IllegalArgumentException if {@code count} is not a whole number of blocks
     * @throws IndexOutOfBoundsException if the blocks run past {@code src} or the values past {@code dst}
     * @throws UnsupportedTensorTypeException if {@code type} has no decoder
     */
    public static void dequantize(GgmlType type, byte[] src, int offset, float[] dst, int dstOff, int count) {
        if (count % type.blockSize() != 0) {
            throw new IllegalArgumentException(count + " values is not a multiple of " + type + "'s block size " + type.blockSize());
        }
        java.util.Objects.checkFromIndexSize(offset, Math.toIntExact(type.byteSize(count)), src.length);
        java.util.Objects.checkFromIndexSize(dstOff, count, dst.length);
        if (type == GgmlType.Q8_0) {
            for (int b = 0, o = offset, y = dstOff; b < count / 32; b++, o += 34, y += 32) {
                float d = Float.float16ToFloat((short) ((src[o] & 0xff) | (src[o + 1] << 8)));
                for (int j = 0; j < 32; j++) {
                    dst[y + j] = src[o + 2 + j] * d;
                }
            }
        } else if (type == GgmlType.Q4_0) {
            for (int b = 0, o = offset, y = dstOff; b < count / 32; b++, o += 18, y += 32) {
                float d = Float.float16ToFloat((short) ((src[o] & 0xff) | (src[o + 1] << 8)));
                for (int j = 0; j < 16; j++) {
                    dst[y + j] = ((src[o + 2 + j] & 15) - 8) * d;
                }
                for (int j = 0; j < 16; j++) {
                    dst[y + 16 + j] = (((src[o + 2 + j] >> 4) & 15) - 8) * d;
                }
            }
        } else {
            dequantize(type, MemorySegment.ofArray(src), offset, dst, dstOff, count);
        }
    }

    /**
     * Decodes one full row of {@code w}.
     *
     * @param w the matrix
     * @param row row index, 0-based
     * @param dst receives {@code w.cols()} floats
     * @param dstOff index in {@code dst} of the first value written
     */
    public static void dequantizeRow(WeightMatrix w, int row, float[] dst, int dstOff) {
        dequantize(w.type(), w.data(), w.rowOffset(row), dst, dstOff, w.cols());
    }

    static void q8_0(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o);
        for (int j = 0; j < 32; j++) {
            y[yo + j] = i8(s, o + 2 + j) * d;
        }
    }

    static void q4_0(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, o + 2 + j);
            y[yo + j] = ((q & 15) - 8) * d;
            y[yo + j + 16] = ((q >> 4) - 8) * d;
        }
    }

    static void q4_1(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o);
        float m = f16(s, o + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, o + 4 + j);
            y[yo + j] = (q & 15) * d + m;
            y[yo + j + 16] = (q >> 4) * d + m;
        }
    }

    static void q5_0(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o);
        int qh = s.get(INT_LE, o + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, o + 6 + j);
            int lo = (q & 15) | ((qh >>> j) & 1) << 4;
            int hi = (q >> 4) | ((qh >>> (j + 16)) & 1) << 4;
            y[yo + j] = (lo - 16) * d;
            y[yo + j + 16] = (hi - 16) * d;
        }
    }

    static void q5_1(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o);
        float m = f16(s, o + 2);
        int qh = s.get(INT_LE, o + 4);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, o + 8 + j);
            int lo = (q & 15) | ((qh >>> j) & 1) << 4;
            int hi = (q >> 4) | ((qh >>> (j + 16)) & 1) << 4;
            y[yo + j] = lo * d + m;
            y[yo + j + 16] = hi * d + m;
        }
    }

    static void iq4_nl(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, o + 2 + j);
            y[yo + j] = d * IQ4NL_LEVELS[q & 15];
            y[yo + j + 16] = d * IQ4NL_LEVELS[q >> 4];
        }
    }

    /** One MXFP4 block: an E8M0 exponent byte, then 16 bytes of two E2M1 codes (low nibbles first half). */
    static void mxfp4(MemorySegment s, long o, float[] y, int yo) {
        float d = BlockLayouts.e8m0Half(u8(s, o));
        for (int j = 0; j < 16; j++) {
            int q = u8(s, o + 1 + j);
            y[yo + j] = BlockLayouts.MXFP4_LEVELS[q & 15] * d;
            y[yo + j + 16] = BlockLayouts.MXFP4_LEVELS[q >> 4] * d;
        }
    }

    static void q2_k(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o + 80);
        float dmin = f16(s, o + 82);
        int is = 0;
        int out = yo;
        for (int half = 0; half < 2; half++) {
            long qs = o + 16 + 32L * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    int sc = u8(s, o + is++);
                    float dl = d * (sc & 15);
                    float ml = dmin * (sc >> 4);
                    for (int l = 0; l < 16; l++) {
                        y[out++] = dl * ((u8(s, qs + 16 * part + l) >> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    static void q3_k(MemorySegment s, long o, float[] y, int yo) {
        float dAll = f16(s, o + 108);
        int is = 0;
        int mask = 1;
        int out = yo;
        for (int half = 0; half < 2; half++) {
            long qs = o + 32 + 32L * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    float dl = dAll * q3kScale(s, o + 96, is++);
                    for (int l = 0; l < 16; l++) {
                        int idx = 16 * part + l;
                        int q = ((u8(s, qs + idx) >> shift) & 3) - ((u8(s, o + idx) & mask) != 0 ? 0 : 4);
                        y[out++] = dl * q;
                    }
                }
                mask <<= 1;
            }
        }
    }

    static void q4_k(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o);
        float dmin = f16(s, o + 2);
        for (int c = 0; c < 4; c++) {
            int sm0 = scaleMinK4(s, o + 4, 2 * c);
            int sm1 = scaleMinK4(s, o + 4, 2 * c + 1);
            float d1 = d * (sm0 & 0xFF);
            float m1 = dmin * (sm0 >> 8);
            float d2 = d * (sm1 & 0xFF);
            float m2 = dmin * (sm1 >> 8);
            long qs = o + 16 + 32L * c;
            int base = yo + 64 * c;
            for (int l = 0; l < 32; l++) {
                int q = u8(s, qs + l);
                y[base + l] = d1 * (q & 15) - m1;
                y[base + 32 + l] = d2 * (q >> 4) - m2;
            }
        }
    }

    static void q5_k(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o);
        float dmin = f16(s, o + 2);
        for (int c = 0; c < 4; c++) {
            int sm0 = scaleMinK4(s, o + 4, 2 * c);
            int sm1 = scaleMinK4(s, o + 4, 2 * c + 1);
            float d1 = d * (sm0 & 0xFF);
            float m1 = dmin * (sm0 >> 8);
            float d2 = d * (sm1 & 0xFF);
            float m2 = dmin * (sm1 >> 8);
            long qs = o + 48 + 32L * c;
            int base = yo + 64 * c;
            for (int l = 0; l < 32; l++) {
                int q = u8(s, qs + l);
                int h = u8(s, o + 16 + l);
                y[base + l] = d1 * ((q & 15) + ((h >> (2 * c)) & 1) * 16) - m1;
                y[base + 32 + l] = d2 * ((q >> 4) + ((h >> (2 * c + 1)) & 1) * 16) - m2;
            }
        }
    }

    static void q6_k(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o + 208);
        for (int half = 0; half < 2; half++) {
            long ql = o + 64L * half;
            long qh = o + 128 + 32L * half;
            long sc = o + 192 + 8L * half;
            int base = yo + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int low = u8(s, ql + l);
                int low32 = u8(s, ql + l + 32);
                int h = u8(s, qh + l);
                int q1 = ((low & 15) | (h & 3) << 4) - 32;
                int q2 = ((low32 & 15) | ((h >> 2) & 3) << 4) - 32;
                int q3 = ((low >> 4) | ((h >> 4) & 3) << 4) - 32;
                int q4 = ((low32 >> 4) | ((h >> 6) & 3) << 4) - 32;
                y[base + l] = d * i8(s, sc + is) * q1;
                y[base + l + 32] = d * i8(s, sc + is + 2) * q2;
                y[base + l + 64] = d * i8(s, sc + is + 4) * q3;
                y[base + l + 96] = d * i8(s, sc + is + 6) * q4;
            }
        }
    }

    static void iq4_xs(MemorySegment s, long o, float[] y, int yo) {
        float d = f16(s, o);
        int scalesH = bits16(s, o + 2) & 0xFFFF;
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((u8(s, o + 4 + ib / 2) >> (4 * (ib % 2))) & 15) | ((scalesH >> (2 * ib)) & 3) << 4;
            float dl = d * (ls - 32);
            long qs = o + 8 + 16L * ib;
            int base = yo + 32 * ib;
            for (int j = 0; j < 16; j++) {
                int q = u8(s, qs + j);
                y[base + j] = dl * IQ4NL_LEVELS[q & 15];
                y[base + j + 16] = dl * IQ4NL_LEVELS[q >> 4];
            }
        }
    }
}
