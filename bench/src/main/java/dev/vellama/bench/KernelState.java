package dev.vellama.bench;

import java.lang.foreign.Arena;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Kernels;
import dev.vellama.quant.SyntheticWeights;
import dev.vellama.quant.WeightMatrix;

/**
 * Random weight matrices of a type and shape, off-heap like a mapped model, and kernels with a thread count. With
 * one matrix, a matrix of a few MB stays in the last-level cache between calls; {@code copies} distinct matrices
 * used in turn (16 of 2048×8192 Q4_0 are 151 MB) make every call read its weights from memory, as decode does.
 */
final class KernelState implements AutoCloseable {
    final Arena arena = Arena.ofShared();
    final WeightMatrix w;
    private final WeightMatrix[] copies;
    private int next;
    final Kernels kernels;

    KernelState(String type, String shape, int threads, String impl) {
        this(type, shape, threads, impl, 1);
    }

    KernelState(String type, String shape, int threads, String impl, int copies) {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]);
        int cols = Integer.parseInt(rc[1]);
        this.copies = new WeightMatrix[copies];
        for (int i = 0; i < copies; i++) {
            this.copies[i] = SyntheticWeights.offHeap(arena, GgmlType.valueOf(type), rows, cols, 42 + i);
        }
        this.w = this.copies[0];
        this.kernels = impl.equals("scalar") ? Kernels.scalar(threads) : Kernels.create(threads);
    }

    /** The matrices in turn. */
    WeightMatrix nextMatrix() {
        WeightMatrix m = copies[next];
        next = next + 1 == copies.length ? 0 : next + 1;
        return m;
    }

    static float[] activations(int n) {
        float[] x = new float[n];
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    @Override
    public void close() {
        kernels.close();
        arena.close();
    }
}
