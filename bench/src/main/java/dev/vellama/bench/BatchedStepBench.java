package dev.vellama.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import dev.vellama.gguf.GgufFile;
import dev.vellama.quant.Kernels;
import dev.vellama.quant.WeightMatrix;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.model.ModelWeights;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * Where a continuous-batching decode step goes: N sequences' next tokens as N one-row steps against one N-row
 * step ({@code ForwardPass.forwardBatch}), then each distinct weight type's matrix as N matvecs against one
 * {@code matvecMany}. Alternates the two in every round, so the machine's drift hits both. Not a test.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     dev.vellama.bench.BatchedStepBench MODEL.gguf [SEQUENCES=4] [THREADS=2] [ROUNDS=8]
 * </pre>
 */
public final class BatchedStepBench {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: BatchedStepBench MODEL.gguf [SEQUENCES] [THREADS] [ROUNDS]");
        }
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        try (GgufFile file = GgufFile.open(Path.of(args[0])); Kernels k = Kernels.create(threads)) {
            ModelConfig c = ModelConfig.fromGguf(file.metadata(), Tokenizer.fromGguf(file.metadata()).vocabSize());
            ModelWeights w = new ModelWeights(file, c);
            int positions = rounds * 2 + 4;
            ForwardPass pass = new ForwardPass(c, w, k, positions, n);
            KvCache[] caches = new KvCache[n];
            int[] tokens = new int[n];
            int[] logitRows = new int[n];
            for (int i = 0; i < n; i++) {
                caches[i] = new KvCache(c.layerCount(), 0, positions, c.kvDim());
                tokens[i] = 100 + i;
                logitRows[i] = i;
            }
            System.out.printf(Locale.ROOT, "%d sequences, %s%n", n, k.description());
            for (int round = 0; round < rounds; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    ForwardPass.Segment one = new ForwardPass.Segment(caches[i], 0, 1, 2 * round);
                    pass.forwardBatch(new int[] {tokens[i]}, 1, new ForwardPass.Segment[] {one}, 1, new int[] {0}, 1);
                }
                long singles = System.nanoTime() - t0;
                ForwardPass.Segment[] segments = new ForwardPass.Segment[n];
                for (int i = 0; i < n; i++) {
                    segments[i] = new ForwardPass.Segment(caches[i], i, 1, 2 * round + 1);
                }
                t0 = System.nanoTime();
                pass.forwardBatch(tokens, n, segments, n, logitRows, n);
                long batch = System.nanoTime() - t0;
                System.out.printf(Locale.ROOT, "step, round %d: %d one-row steps %.1f ms, one %d-row step %.1f ms (%.2fx)%n",
                        round, n, singles / 1e6, n, batch / 1e6, (double) singles / batch);
            }
            for (WeightMatrix m : distinctTypes(w)) {
                float[] x = new float[n * m.cols()];
                Arrays.fill(x, 0.01f);
                float[] y = new float[n * m.rows()];
                for (int round = 0; round < rounds; round++) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < n; i++) {
                        k.matvec(m, x, y);
                    }
                    long singles = System.nanoTime() - t0;
                    t0 = System.nanoTime();
                    k.matvecMany(m, x, n, y);
                    long batch = System.nanoTime() - t0;
                    System.out.printf(Locale.ROOT, "%s %s %dx%d, round %d: %d matvec %.2f ms, matvecMany %.2f ms (%.2fx)%n",
                            m.name(), m.type(), m.rows(), m.cols(), round, n, singles / 1e6, batch / 1e6, (double) singles / batch);
                }
            }
        }
    }

    /** The output matrix and the first layer's matrices, one per weight type. */
    private static WeightMatrix[] distinctTypes(ModelWeights w) {
        java.util.Map<dev.vellama.gguf.GgmlType, WeightMatrix> byType = new java.util.LinkedHashMap<>();
        byType.put(w.output.type(), w.output);
        var l = w.layers[0];
        for (WeightMatrix m : new WeightMatrix[] {l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down()}) {
            if (m != null) {
                byType.putIfAbsent(m.type(), m);
            }
        }
        return byType.values().toArray(WeightMatrix[]::new);
    }
}
