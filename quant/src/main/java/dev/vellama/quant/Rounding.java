package dev.vellama.quant;

/** The two roundings ggml's quantizers use, reproduced exactly. */
final class Rounding {
    private Rounding() {}

    /**
     * ggml's {@code nearest_int}: adds 1.5·2^23 so the float adder rounds to nearest even, then reads the
     * integer from the mantissa bits. Valid for |v| ≤ 2^22, as in ggml.
     */
    static int nearestInt(float v) {
        float shifted = v + 12582912.f;
        return (Float.floatToRawIntBits(shifted) & 0x007FFFFF) - 0x00400000;
    }

    /** C's {@code roundf}: halves away from zero. */
    static float roundHalfAway(float v) {
        float a = Math.abs(v);
        float f = (float) Math.floor(a);
        if (a - f >= 0.5f) {
            f += 1f;
        }
        return Math.copySign(f, v);
    }
}
