package dev.vellama.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import dev.vellama.gguf.GgmlType;

/**
 * Random weight matrices of any supported type, for tests and benchmarks: random quant bytes with the block
 * scales overwritten by small halves, so every bit pattern of the quants is exercised and values stay finite.
 */
public final class SyntheticWeights {
    private SyntheticWeights() {}

    /**
     * A matrix on the Java heap.
     *
     * @param type the storage type, one of {@link WeightMatrix#SUPPORTED_TYPES}
     * @param rows number of rows
     * @param cols elements per row, a multiple of the type's block size
     * @param seed seed of the random generator; the same seed gives the same bytes
     * @return a new matrix over a heap byte array, named {@code synthetic.TYPE}
     */
    public static WeightMatrix heap(GgmlType type, int rows, int cols, long seed) {
        MemorySegment seg = MemorySegment.ofArray(new byte[Math.toIntExact(rows * type.byteSize(cols))]);
        fill(type, seg, seed);
        return new WeightMatrix("synthetic." + type, type, seg, rows, cols);
    }

    /**
     * A matrix in off-heap memory of {@code arena}, aligned to 64 bytes like a mapped file's tensors.
     *
     * @param arena allocates the memory and decides how long it lives
     * @param type the storage type, one of {@link WeightMatrix#SUPPORTED_TYPES}
     * @param rows number of rows
     * @param cols elements per row, a multiple of the type's block size
     * @param seed seed of the random generator; the same seed gives the same bytes
     * @return a new matrix over the allocated memory, named {@code synthetic.TYPE}
     */
    public static WeightMatrix offHeap(Arena arena, GgmlType type, int rows, int cols, long seed) {
        MemorySegment seg = arena.allocate(rows * type.byteSize(cols), 64);
        fill(type, seg, seed);
        return new WeightMatrix("synthetic." + type, type, seg, rows, cols);
    }

    /**
     * Fills {@code seg} (whole blocks of {@code type}) with random weights.
     *
     * @param type the storage type of the blocks
     * @param seg the memory to overwrite, all of it
     * @param seed seed of the random generator; the same seed gives the same bytes
     * @throws UnsupportedTensorTypeException if {@code type} is not one of {@link WeightMatrix#SUPPORTED_TYPES}
     */
    public static void fill(GgmlType type, MemorySegment seg, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long size = seg.byteSize();
        switch (type) {
            case F32 -> {
                for (long o = 0; o < size; o += 4) {
                    seg.set(BlockLayouts.FLOAT_LE, o, (float) gaussian(rnd));
                }
                return;
            }
            case F16 -> {
                for (long o = 0; o < size; o += 2) {
                    seg.set(BlockLayouts.SHORT_LE, o, Half.fromFloat((float) gaussian(rnd)));
                }
                return;
            }
            case BF16 -> {
                for (long o = 0; o < size; o += 2) {
                    seg.set(BlockLayouts.SHORT_LE, o, Half.floatToBf16((float) gaussian(rnd)));
                }
                return;
            }
            default -> {
            }
        }
        for (long o = 0; o < size; o++) {
            seg.set(ValueLayout.JAVA_BYTE, o, (byte) rnd.nextInt(256));
        }
        if (type == GgmlType.MXFP4) {
            // E8M0 exponents whose half-scale is 2^-11..2^-7, so the ±12 levels give weights of about 0.001 to 0.05
            for (long block = 0; block < size; block += type.bytesPerBlock()) {
                seg.set(ValueLayout.JAVA_BYTE, block, (byte) (117 + rnd.nextInt(5)));
            }
            return;
        }
        int[] scaleFields = switch (type) {
            case Q8_0, Q4_0, Q5_0, IQ4_NL, IQ4_XS -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> throw new UnsupportedTensorTypeException(type, "(synthetic weights)");
        };
        for (long block = 0; block < size; block += type.bytesPerBlock()) {
            for (int field : scaleFields) {
                float scale = (float) (0.001 + 0.02 * rnd.nextDouble()) * (rnd.nextBoolean() ? 1 : -1);
                seg.set(BlockLayouts.SHORT_LE, block + field, Half.fromFloat(scale));
            }
        }
    }

    private static double gaussian(SplittableRandom rnd) {
        // Sum of uniforms: close enough to normal for weights, cheaper than Box-Muller.
        double s = 0;
        for (int i = 0; i < 4; i++) {
            s += rnd.nextDouble() - 0.5;
        }
        return s;
    }
}
