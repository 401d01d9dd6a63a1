package dev.vellama.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;

/**
 * Bytes the generating thread allocates per decoded token (greedy, end of text ignored), four rounds of
 * {@code TOKENS}; the first includes start-up and JIT compilation. Not a test.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     dev.vellama.bench.AllocationPerToken MODEL.gguf [TOKENS=200] [THREADS=2]
 * </pre>
 */
public final class AllocationPerToken {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: AllocationPerToken MODEL.gguf [TOKENS] [THREADS]");
        }
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Model m = Model.load(Path.of(args[0]));
             Session s = m.newSession(SessionOptions.defaults().withContextSize(tokens + 16).withThreads(threads))) {
            GenerationParams p = GenerationParams.greedy().toBuilder().maxTokens(tokens).ignoreEos(true).build();
            for (int round = 0; round < 4; round++) {
                long thread = Thread.currentThread().threadId();
                long before = mx.getThreadAllocatedBytes(thread);
                GenerationResult r = s.generate(new int[] {1, 100, 200}, p, null);
                long after = mx.getThreadAllocatedBytes(thread);
                System.out.printf("round %d: %d tokens, %.0f bytes allocated per token, %.1f tokens/s%n", round,
                        r.tokens().size(), (after - before) / (double) r.tokens().size(),
                        r.timings().generationTokensPerSecond());
            }
        }
    }
}
