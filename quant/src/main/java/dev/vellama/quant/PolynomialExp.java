package dev.vellama.quant;

/**
 * e^x in single precision as ggml's vector kernels compute it ({@code ggml_v_expf}, used by its SiLU and softmax):
 * x = n·ln 2 + b with n rounded to an integer, a degree-5 polynomial for e^b, then the result scaled by 2^n. Every
 * step is a correctly rounded IEEE operation (fused multiply-adds, products, sums, exact scalings), so it gives the
 * same bits interpreted or compiled, on every machine; {@code Math.exp} and the Vector API's {@code EXP} may
 * differ in the last bit between the interpreter and compiled code. This scalar form is what the vector kernels
 * use for the elements after their last whole vector, so an element's value does not depend on where it falls.
 * Accuracy: within 2 ulps of the exact value where the result is a normal float.
 */
final class PolynomialExp {
    static final float ROUNDER = 0x1.8p23f;
    static final float LOG2E = 0x1.715476p+0f;
    static final float LN2_HI = 0x1.62e4p-1f;
    static final float LN2_LO = 0x1.7f7d1cp-20f;
    static final float C5 = 0x1.0e4020p-7f;
    static final float C4 = 0x1.573e2ep-5f;
    static final float C3 = 0x1.555e66p-3f;
    static final float C2 = 0x1.fffdb6p-2f;
    static final float C1 = 0x1.ffffecp-1f;
    /** Beyond this |n| the result is 0 or infinity. */
    static final float LIMIT = 192f;

    private PolynomialExp() {}

    /**
     * e^x.
     *
     * @param x the exponent
     * @return e^x: 0 far below, infinity far above, NaN for NaN
     */
    static float exp(float x) {
        float n = Math.fma(x, LOG2E, ROUNDER) - ROUNDER;
        if (Math.abs(n) > LIMIT) {
            return n <= 0 ? 0f : Float.POSITIVE_INFINITY;
        }
        float b = Math.fma(-n, LN2_LO, Math.fma(-n, LN2_HI, x));
        float u = b * b;
        float j = Math.fma(Math.fma(Math.fma(b, C5, C4), u, Math.fma(b, C3, C2)), u, Math.fma(b, C1, 1f));
        int k = (int) n;
        int k1 = k >> 1;
        return j * pow2(k1) * pow2(k - k1);
    }

    /** 2^k for k in [-126, 127], exactly. */
    static float pow2(int k) {
        return Float.intBitsToFloat((k + 127) << 23);
    }
}
