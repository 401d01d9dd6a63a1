package dev.vellama.quant;

/**
 * Conversions between float and the two 16-bit float formats found in GGUF files: IEEE half (F16) and bfloat16
 * (BF16). Halves round to nearest even, as ggml's F16C path and {@link Float#floatToFloat16} do.
 */
public final class Half {
    private Half() {}

    /**
     * The float value of IEEE half bits (exact).
     *
     * @param half the 16 bits of an F16 value
     * @return the same value as a float
     */
    public static float toFloat(short half) {
        return Float.float16ToFloat(half);
    }

    /**
     * Float to IEEE half bits, round to nearest even.
     *
     * @param value the float to narrow; out-of-range values become infinities
     * @return the 16 bits of the nearest F16 value
     */
    public static short fromFloat(float value) {
        return Float.floatToFloat16(value);
    }

    /**
     * The float value of bfloat16 bits (exact: bfloat16 is the top half of a float).
     *
     * @param bf16 the 16 bits of a BF16 value
     * @return the same value as a float
     */
    public static float bf16ToFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xFFFF) << 16);
    }

    /**
     * Float to bfloat16 bits, round to nearest even; NaN stays a quiet NaN, as ggml writes it.
     *
     * @param value the float to narrow
     * @return the 16 bits of the nearest BF16 value
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + (0x7FFF + ((bits >>> 16) & 1))) >>> 16);
    }
}
