package dev.vellama.quant;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Builds the Vector API kernels. Kept apart from {@link KernelSelector} so that the incubator classes load only
 * once the module is known to be present.
 */
final class VectorKernelsFactory {
    private VectorKernelsFactory() {}

    static Kernels create(int threads, String forcedBits) {
        return new VectorKernels(species(forcedBits), threads);
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

    static VectorShape shapeOf(int bits) {
        return VectorShape.forBitSize(bits);
    }
}
