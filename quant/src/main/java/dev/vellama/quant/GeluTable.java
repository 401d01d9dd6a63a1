package dev.vellama.quant;

/**
 * GELU as llama.cpp's CPU backend computes it: its input rounded to F16, the result looked up in a table of all
 * 65,536 halves (each entry ggml's tanh form computed in single precision and rounded to F16), 0 below -10 and the
 * input itself above 10 ({@code GGML_GELU_FP16}, on by default in ggml-cpu). That is up to about 0.4% from the
 * exact formula, and it is what Gemma's feed-forward gets in llama.cpp, so the engine does the same. A table is
 * also the same bits interpreted or compiled, which the Vector API's TANH is not.
 */
final class GeluTable {
    private static final short[] TABLE = build();

    private GeluTable() {}

    private static short[] build() {
        short[] t = new short[1 << 16];
        for (int i = 0; i < t.length; i++) {
            float x = Float.float16ToFloat((short) i);
            float inner = ScalarKernels.SQRT_2_OVER_PI * x * (1.0f + ScalarKernels.GELU_COEF_A * x * x);
            t[i] = Float.floatToFloat16(0.5f * x * (1.0f + (float) StrictMath.tanh(inner)));
        }
        return t;
    }

    /** GELU of x, llama.cpp's CPU way. */
    static float gelu(float x) {
        if (x <= -10.0f) {
            return 0.0f;
        }
        if (x >= 10.0f) {
            return x;
        }
        return Float.float16ToFloat(TABLE[Float.floatToFloat16(x) & 0xFFFF]);
    }

    /** GELU of {@code x[off .. off + n)} in place. */
    static void apply(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) {
            x[i] = gelu(x[i]);
        }
    }
}
