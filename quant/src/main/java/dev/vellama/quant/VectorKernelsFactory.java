package dev.vellama.quant;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Instantiates {@link VectorKernels} for one float species. C2 compiles Vector API code into SIMD instructions
 * only when the species is a compile-time constant; an instance field is not one. So the class is defined again
 * as a hidden class per species, with the species as its class data, which it reads into {@code static final}
 * fields: one source, every width, constants everywhere.
 */
final class VectorKernelsFactory {
    private static final Map<VectorSpecies<Float>, MethodHandle> CONSTRUCTORS = new ConcurrentHashMap<>();
    private static final byte[] TEMPLATE = templateBytes();

    private VectorKernelsFactory() {}

    static Kernels create(int threads, String forcedBits) {
        return withSpecies(species(forcedBits), threads);
    }

    /** Vector kernels at an explicit width (tests run every width in one JVM through this). */
    static Kernels withSpecies(VectorSpecies<Float> species, int threads) {
        MethodHandle ctor = CONSTRUCTORS.computeIfAbsent(species, VectorKernelsFactory::define);
        try {
            return (Kernels) ctor.invoke(threads);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot instantiate vector kernels for " + species, t);
        }
    }

    /**
     * Vector kernels from a newly defined class, which reads the system properties that select kernel designs
     * again (tests compare the designs in one JVM through this).
     */
    static Kernels freshlyDefined(VectorSpecies<Float> species, int threads) {
        try {
            return (Kernels) define(species).invoke(threads);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot instantiate vector kernels for " + species, t);
        }
    }

    private static MethodHandle define(VectorSpecies<Float> species) {
        try {
            MethodHandles.Lookup hidden = MethodHandles.lookup().defineHiddenClassWithClassData(TEMPLATE, species, true);
            return hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class, int.class))
                    .asType(MethodType.methodType(Kernels.class, int.class));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot define vector kernels for " + species, e);
        }
    }

    private static byte[] templateBytes() {
        try (InputStream in = VectorKernelsFactory.class.getResourceAsStream("VectorKernels.class")) {
            if (in == null) {
                throw new IllegalStateException("VectorKernels.class not found beside " + VectorKernelsFactory.class);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The preferred float species, or the one {@code bits} (128, 256 or 512) names. */
    static VectorSpecies<Float> species(String bits) {
        if (bits == null || bits.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        int b;
        try {
            b = Integer.parseInt(bits.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-Dvellama.vector.bits must be 128, 256 or 512, got '" + bits + "'");
        }
        return switch (b) {
            case 128 -> FloatVector.SPECIES_128;
            case 256 -> FloatVector.SPECIES_256;
            case 512 -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("-Dvellama.vector.bits must be 128, 256 or 512, got " + b);
        };
    }
}
