package dev.vellama.bench;

import java.lang.foreign.Arena;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Kernels;
import dev.vellama.quant.SyntheticWeights;
import dev.vellama.quant.WeightMatrix;

/** One random weight matrix of a type and shape, off-heap like a mapped model, and kernels with a thread count. */
final class KernelState implements AutoCloseable {
    final Arena arena = Arena.ofShared();
    final WeightMatrix w;
    final Kernels kernels;

    KernelState(String type, String shape, int threads, String impl) {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]);
        int cols = Integer.parseInt(rc[1]);
        this.w = SyntheticWeights.offHeap(arena, GgmlType.valueOf(type), rows, cols, 42);
        this.kernels = impl.equals("scalar") ? Kernels.scalar(threads) : Kernels.create(threads);
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
