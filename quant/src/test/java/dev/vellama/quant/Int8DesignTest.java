package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.vellama.gguf.GgmlType;
import jdk.incubator.vector.VectorSpecies;

/**
 * Both matvec designs of Q8_0, Q4_0, Q4_K and Q6_K (int8 activations and dequantize-and-FMA, selected with
 * -Dvellama.matvec.q8_0=… / -Dvellama.matvec.q4_0=… / -Dvellama.matvec.q4_k=… / q6_k=…) against the scalar reference.
 */
class Int8DesignTest {

    static java.util.stream.Stream<VectorSpecies<Float>> widths() {
        return KernelTestSupport.widths();
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> cases() {
        return KernelTestSupport.widths().flatMap(w -> java.util.stream.Stream.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K)
                .flatMap(t -> java.util.stream.Stream.of("int8", "fma").map(d -> org.junit.jupiter.params.provider.Arguments.of(w, t, d))));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matvecMatchesScalarInEitherDesign(VectorSpecies<Float> species, GgmlType type, String design) {
        String key = "vellama.matvec." + type.name().toLowerCase(java.util.Locale.ROOT);
        String before = System.getProperty(key);
        System.setProperty(key, design);
        try (Kernels v = VectorKernelsFactory.freshlyDefined(species, 2); Kernels s = Kernels.scalar(1)) {
            double e = nmseAgainstScalar(v, s, SyntheticWeights.heap(type, 41, type == GgmlType.Q4_K || type == GgmlType.Q6_K ? 256 * 3 : 32 * 11, 8));
            assertTrue(e < 5e-4, type + " " + design + ": NMSE " + e);
            // the K-quant int8 designs need hardware 256-bit vectors and Q4_0's needs 8 float lanes; else fma runs
            boolean kQuant = type == GgmlType.Q4_K || type == GgmlType.Q6_K;
            boolean int8Runs = kQuant ? jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256
                    : type != GgmlType.Q4_0 || species.length() >= 8;
            if (design.equals("int8") && int8Runs) {
                assertTrue(e > 1e-9, "the int8 design quantizes activations, so it cannot be exact; was it selected?");
            } else {
                assertTrue(e < 1e-9, "the fma design only reorders float sums; NMSE " + e);
            }
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    /** Q4_0 takes the int8 design by default wherever floats have 8 lanes or more. */
    @org.junit.jupiter.api.Test
    void q4_0DefaultsToInt8Activations() {
        org.junit.jupiter.api.Assumptions.assumeTrue(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() >= 8, "needs 256-bit vectors");
        try (Kernels v = Kernels.create(2); Kernels s = Kernels.scalar(1)) {
            double e = nmseAgainstScalar(v, s, SyntheticWeights.heap(GgmlType.Q4_0, 9, 4096 + 32, 8));
            assertTrue(e < 5e-4 && e > 1e-9, "int8 activations: close to the scalar result but not exact; NMSE " + e);
        }
    }

    /** NMSE of {@code v}'s matvec against the scalar kernels' on random activations. */
    private static double nmseAgainstScalar(Kernels v, Kernels s, WeightMatrix w) {
        float[] x = KernelTestSupport.randomFloats(w.cols(), 9);
        float[] want = new float[w.rows()];
        float[] got = new float[w.rows()];
        s.matvec(w, x, want);
        v.matvec(w, x, got);
        return KernelTestSupport.nmse(want, got);
    }
}
