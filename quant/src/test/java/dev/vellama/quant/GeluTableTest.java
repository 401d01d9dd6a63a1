package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** llama.cpp's CPU GELU: an F16 table, exact at the table's points and clamped outside ±10. */
class GeluTableTest {
    private static double exact(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    @Test
    void valuesAreTheFormulaAtTheF16InputRoundedToF16() {
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 100_000; i++) {
            float x = (float) (r.nextDouble() * 20 - 10);
            float h = Float.float16ToFloat(Float.floatToFloat16(x));
            float y = GeluTable.gelu(x);
            assertEquals(y, Float.float16ToFloat(Float.floatToFloat16(y)), "an F16 value");
            // one F16 step of the result at most from the formula at the rounded input; far left, where 1 + tanh
            // cancels in single precision as ggml evaluates it, within 0.5·|x|·2^-23 of it
            double step = Math.max(Math.ulp(Float.float16ToFloat(Float.floatToFloat16((float) exact(h)))) * 8192, 6e-7);
            assertTrue(Math.abs(y - exact(h)) <= step, x + ": " + y + " against " + exact(h));
        }
    }

    @Test
    void clampedOutsideTenAndZeroAtZero() {
        assertEquals(0f, GeluTable.gelu(-10f));
        assertEquals(0f, GeluTable.gelu(-1e9f));
        assertEquals(10f, GeluTable.gelu(10f));
        assertEquals(123.5f, GeluTable.gelu(123.5f));
        assertEquals(0f, GeluTable.gelu(0f));
        assertTrue(Float.isNaN(GeluTable.gelu(Float.NaN)));
    }

    @Test
    void bothKernelFamiliesUseIt() {
        float[] x = {-3f, -0.5f, 0.1f, 1f, 2.5f, 7f};
        float[] a = x.clone();
        try (ScalarKernels k = new ScalarKernels(1)) {
            k.gelu(a, 0, a.length);
        }
        for (int i = 0; i < x.length; i++) {
            assertEquals(GeluTable.gelu(x[i]), a[i]);
        }
    }
}
