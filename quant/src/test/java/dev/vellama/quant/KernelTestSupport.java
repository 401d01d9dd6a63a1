package dev.vellama.quant;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Random inputs, error measures and the vector widths every kernel test runs at. */
final class KernelTestSupport {
    private KernelTestSupport() {}

    static Stream<VectorSpecies<Float>> widths() {
        return Stream.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512);
    }

    static float[] randomFloats(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }

    /** Normalized mean squared error of {@code got} against {@code want}, as llama.cpp's test-backend-ops measures. */
    static double nmse(float[] want, float[] got) {
        double err = 0;
        double ref = 0;
        for (int i = 0; i < want.length; i++) {
            double d = (double) got[i] - want[i];
            err += d * d;
            ref += (double) want[i] * want[i];
        }
        return ref == 0 ? err : err / ref;
    }
}
