package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.vellama.gguf.GgmlType;
import jdk.incubator.vector.VectorSpecies;

/** The int8-activation Q8_0 matvec design (selected by -Dvellama.matvec.q8_0=int8) against the scalar reference. */
class Int8DesignTest {

    static java.util.stream.Stream<VectorSpecies<Float>> widths() {
        return KernelTestSupport.widths();
    }

    @ParameterizedTest
    @MethodSource("widths")
    void q8_0Int8MatvecMatchesScalar(VectorSpecies<Float> species) {
        String key = "vellama.matvec.q8_0";
        String before = System.getProperty(key);
        System.setProperty(key, "int8");
        try (Kernels v = VectorKernelsFactory.freshlyDefined(species, 2); Kernels s = Kernels.scalar(1)) {
            WeightMatrix w = SyntheticWeights.heap(GgmlType.Q8_0, 41, 32 * 11, 8);
            float[] x = KernelTestSupport.randomFloats(w.cols(), 9);
            float[] want = new float[w.rows()];
            float[] got = new float[w.rows()];
            s.matvec(w, x, want);
            v.matvec(w, x, got);
            double e = KernelTestSupport.nmse(want, got);
            assertTrue(e < 5e-4, "NMSE " + e);
            assertTrue(e > 1e-9, "the int8 design quantizes activations, so it cannot be exact; was it selected?");
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }
}
