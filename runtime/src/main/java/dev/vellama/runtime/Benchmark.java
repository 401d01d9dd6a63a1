package dev.vellama.runtime;

import java.util.SplittableRandom;

/**
 * The two measurements of llama-bench on a session: prompt processing (a batch of random tokens evaluated from an
 * empty cache, logits of the last only) and generation (random tokens decoded one at a time from an empty cache,
 * no sampling). Each returns elapsed nanoseconds.
 */
public final class Benchmark {
    private Benchmark() {}

    public static long promptProcessing(Session session, int tokens, long seed) {
        int[] ids = randomTokens(session, tokens, seed);
        session.reset();
        long t0 = System.nanoTime();
        session.prefill(ids, false, 0);
        long elapsed = System.nanoTime() - t0;
        session.reset();
        return elapsed;
    }

    public static long generation(Session session, int tokens, long seed) {
        int[] ids = randomTokens(session, tokens, seed);
        session.reset();
        long t0 = System.nanoTime();
        session.prefill(new int[] {ids[0]}, false, 0);
        for (int i = 1; i < tokens; i++) {
            session.step(ids[i]);
        }
        long elapsed = System.nanoTime() - t0;
        session.reset();
        return elapsed;
    }

    private static int[] randomTokens(Session session, int n, long seed) {
        if (n < 1 || n > session.contextSize()) {
            throw new IllegalArgumentException(n + " tokens do not fit a context of " + session.contextSize());
        }
        SplittableRandom r = new SplittableRandom(seed);
        int vocab = session.model().config().vocabSize();
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(vocab);
        }
        return ids;
    }
}
