package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** ggml's polynomial exp: accurate where softmax and SiLU use it, and right at the edges. */
class PolynomialExpTest {
    @Test
    void withinTwoUlpsOfTheExactValueOverTheNormalRange() {
        SplittableRandom r = new SplittableRandom(5);
        int worst = 0;
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (r.nextDouble() * 175 - 87); // e^x a normal float
            float exact = (float) Math.exp(x);
            int apart = Math.abs(Float.floatToIntBits(PolynomialExp.exp(x)) - Float.floatToIntBits(exact));
            worst = Math.max(worst, apart);
        }
        assertTrue(worst <= 2, "worst " + worst + " ulps");
    }

    @Test
    void edges() {
        assertEquals(1f, PolynomialExp.exp(0f));
        assertEquals(1f, PolynomialExp.exp(-0f));
        assertEquals(0f, PolynomialExp.exp(-200f));
        assertEquals(0f, PolynomialExp.exp(Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, PolynomialExp.exp(200f));
        assertEquals(Float.POSITIVE_INFINITY, PolynomialExp.exp(89f), "overflow past the largest float");
        assertEquals(Float.POSITIVE_INFINITY, PolynomialExp.exp(Float.POSITIVE_INFINITY));
        assertTrue(Float.isNaN(PolynomialExp.exp(Float.NaN)));
        float tiny = PolynomialExp.exp(-100f); // a subnormal result, e^-100 ≈ 3.7e-44
        assertTrue(tiny > 0 && tiny < Float.MIN_NORMAL, "e^-100 = " + tiny);
        assertEquals((float) Math.exp(-100), tiny, Float.MIN_VALUE * 2);
    }
}
