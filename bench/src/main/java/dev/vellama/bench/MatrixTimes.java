package dev.vellama.bench;

import java.nio.file.Path;
import java.util.Locale;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.quant.Kernels;
import dev.vellama.quant.WeightMatrix;

/**
 * Milliseconds per matvec of one tensor of a mapped model, and per {@code matvecMany} of TOKENS tokens against
 * TOKENS matvecs, over ROUNDS rounds of 20 calls (compare the last rounds; the first ones compile). With the
 * tensor name {@code --first-products}, it times instead the first matvec of every 2-D Q4_0, Q4_K, Q5_K and Q6_K tensor:
 * the cost of making the packed copies (ROUNDS given: that many times, on fresh matrices, the later rounds with
 * the packing code compiled). A tensor name with {@code *} in it is a pattern ({@code blk.*.ffn_up.weight}):
 * each call then takes the next matching tensor, so that the weights stream from memory as in a forward pass
 * instead of sitting in the last-level cache. Run it with {@code -Dvellama.matvec.q4_0=int8} (and q4_k, q5_k, q6_k)
 * for the file-layout designs. Not a test.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     dev.vellama.bench.MatrixTimes MODEL.gguf TENSOR|--first-products [THREADS=2] [ROUNDS=6] [TOKENS=4]
 * </pre>
 */
public final class MatrixTimes {
    private static final int CALLS = 20;

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: MatrixTimes MODEL.gguf TENSOR|--first-products [THREADS] [ROUNDS] [TOKENS]");
        }
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 6;
        int tokens = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        try (GgufFile file = GgufFile.open(Path.of(args[0])); Kernels k = Kernels.create(threads)) {
            if (args[1].equals("--first-products")) {
                firstProducts(file, k, args.length > 3 ? rounds : 1);
                return;
            }
            java.util.List<WeightMatrix> ws = matrices(file, args[1]);
            WeightMatrix w = ws.getFirst();
            float[] x = new float[tokens * w.cols()];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i);
            }
            float[] one = new float[w.cols()];
            float[] out = new float[tokens * w.rows()];
            for (int round = 0; round < rounds; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < CALLS; i++) {
                    k.matvec(ws.get(i % ws.size()), x, out);
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < CALLS; i++) {
                    for (int t = 0; t < tokens; t++) {
                        System.arraycopy(x, t * w.cols(), one, 0, w.cols());
                        k.matvec(ws.get(i % ws.size()), one, out);
                    }
                }
                long t2 = System.nanoTime();
                for (int i = 0; i < CALLS; i++) {
                    k.matvecMany(ws.get(i % ws.size()), x, tokens, out);
                }
                long t3 = System.nanoTime();
                System.out.printf(Locale.ROOT, "%s %s round %d: matvec %.2f ms; %d matvecs %.2f ms, matvecMany(%d) %.2f ms%n",
                        ws.size() > 1 ? args[1] + " (" + ws.size() + " tensors)" : w.name(), w.type(), round, (t1 - t0) / 1e6 / CALLS, tokens, (t2 - t1) / 1e6 / CALLS, tokens,
                        (t3 - t2) / 1e6 / CALLS);
            }
        }
    }

    /** The tensor {@code name}, or every tensor of the same shape and type as the first that the pattern matches. */
    private static java.util.List<WeightMatrix> matrices(GgufFile file, String name) {
        if (!name.contains("*")) {
            return java.util.List.of(WeightMatrix.of(file.tensor(name)));
        }
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(name).replace("*", "\\E.*\\Q"));
        java.util.List<WeightMatrix> all = new java.util.ArrayList<>();
        for (GgufTensor t : file.tensors()) {
            if (p.matcher(t.name()).matches()) {
                WeightMatrix w = WeightMatrix.of(t);
                if (all.isEmpty() || all.getFirst().type() == w.type() && all.getFirst().rows() == w.rows() && all.getFirst().cols() == w.cols()) {
                    all.add(w);
                }
            }
        }
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no tensor matches " + name);
        }
        return all;
    }

    private static void firstProducts(GgufFile file, Kernels k, int rounds) {
        for (int round = 0; round < rounds; round++) { // later rounds pack fresh matrices with the packing code compiled
            java.util.Map<GgmlType, long[]> byType = new java.util.TreeMap<>();
            for (GgufTensor t : file.tensors()) {
                if (t.dimensions() != 2 || (t.type() != GgmlType.Q4_0 && t.type() != GgmlType.Q4_K && t.type() != GgmlType.Q5_K
                        && t.type() != GgmlType.Q6_K)) {
                    continue;
                }
                WeightMatrix w = WeightMatrix.of(t);
                float[] x = new float[w.cols()];
                float[] out = new float[w.rows()];
                long t0 = System.nanoTime();
                k.matvec(w, x, out);
                long[] sums = byType.computeIfAbsent(t.type(), ty -> new long[2]);
                sums[0] += w.byteSize();
                sums[1] += System.nanoTime() - t0;
            }
            StringBuilder line = new StringBuilder();
            long bytes = 0;
            long nanos = 0;
            for (var e : byType.entrySet()) {
                line.append(String.format(Locale.ROOT, ", %s %.0f MB %.2f s", e.getKey(), e.getValue()[0] / 1e6, e.getValue()[1] / 1e9));
                bytes += e.getValue()[0];
                nanos += e.getValue()[1];
            }
            System.out.printf(Locale.ROOT, "round %d: first matvec of %.0f MB of packed matrices: %.2f s%s%n", round,
                    bytes / 1e6, nanos / 1e9, line);
        }
    }
}
