package dev.vellama.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian field readers and the shared constants of ggml's block layouts. */
final class BlockLayouts {
    private BlockLayouts() {}

    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Elements in a super-block of the K-quant and IQ4_XS types. */
    static final int QK_K = 256;

    /** The 16 non-uniform levels of IQ4_NL and IQ4_XS. */
    static final byte[] IQ4NL_LEVELS = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** MXFP4's 16 E2M1 values, doubled to integers (ggml's {@code kvalues_mxfp4}); the scale is halved to match. */
    static final byte[] MXFP4_LEVELS = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    /**
     * Half of the E8M0 scale {@code e} (2^(e−127)/2), as ggml's {@code ggml_e8m0_to_fp32_half} builds it from bits:
     * the two smallest exponents give subnormals.
     */
    static float e8m0Half(int e) {
        return Float.intBitsToFloat(e < 2 ? 0x00200000 << e : (e - 1) << 23);
    }

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    static byte i8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off);
    }

    static short bits16(MemorySegment s, long off) {
        return s.get(SHORT_LE, off);
    }

    /** An IEEE half field as float. */
    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT_LE, off));
    }

    /**
     * The 6-bit scale and min of sub-block {@code j} (0..7) of a Q4_K/Q5_K block, packed in 12 bytes at
     * {@code off}; returned as {@code scale | min << 8}.
     */
    static int scaleMinK4(MemorySegment s, long off, int j) {
        int sc;
        int m;
        if (j < 4) {
            sc = u8(s, off + j) & 63;
            m = u8(s, off + j + 4) & 63;
        } else {
            int packed = u8(s, off + j + 4);
            sc = (packed & 15) | ((u8(s, off + j - 4) >> 6) << 4);
            m = (packed >> 4) | ((u8(s, off + j) >> 6) << 4);
        }
        return sc | m << 8;
    }

    /**
     * {@link #scaleMinK4} from the 12 scale bytes already loaded as a little-endian long (bytes 0..7) and int
     * (bytes 8..11): pure register arithmetic, for inner loops.
     */
    static int scaleMinK4(long lo8, int hi4, int j) {
        int sc;
        int m;
        if (j < 4) {
            sc = (int) (lo8 >>> (8 * j)) & 63;
            m = (int) (lo8 >>> (8 * (j + 4))) & 63;
        } else {
            int packed = (hi4 >>> (8 * (j - 4))) & 0xFF;
            sc = (packed & 15) | ((int) (lo8 >>> (8 * (j - 4) + 6)) & 3) << 4;
            m = (packed >> 4) | ((int) (lo8 >>> (8 * j + 6)) & 3) << 4;
        }
        return sc | m << 8;
    }

    /**
     * All eight 6-bit scales of a Q4_K/Q5_K block at once, byte j of the result being scale j, from the 12 scale
     * bytes loaded as a little-endian long (bytes 0..7) and int (bytes 8..11). Bit-parallel within registers.
     */
    static long scalesK4(long lo8, int hi4) {
        int a = (int) lo8;
        int low = a & 0x3F3F3F3F;
        int high = (hi4 & 0x0F0F0F0F) | ((a >>> 2) & 0x30303030);
        return (low & 0xFFFFFFFFL) | (long) high << 32;
    }

    /** All eight 6-bit mins of a Q4_K/Q5_K block, byte j being min j (see {@link #scalesK4}). */
    static long minsK4(long lo8, int hi4) {
        int b = (int) (lo8 >>> 32);
        int low = b & 0x3F3F3F3F;
        int high = ((hi4 >>> 4) & 0x0F0F0F0F) | ((b >>> 2) & 0x30303030);
        return (low & 0xFFFFFFFFL) | (long) high << 32;
    }

    /** The signed 6-bit scale {@code i} (0..15) of a Q3_K block, whose 12 scale bytes start at {@code off}. */
    static int q3kScale(MemorySegment s, long off, int i) {
        int low = i < 8 ? u8(s, off + i) & 15 : u8(s, off + i - 8) >> 4;
        int high = (u8(s, off + 8 + (i & 3)) >> (2 * (i >> 2))) & 3;
        return (low | high << 4) - 32;
    }
}
