package dev.vellama.runtime;

import java.util.SplittableRandom;

/**
 * The two measurements of llama-bench on a session: prompt processing (a batch of random tokens evaluated from an
 * empty cache, logits of the last only) and generation (random tokens decoded one at a time from an empty cache,
 * no sampling). Each returns elapsed nanoseconds. With a depth, as llama-bench's {@code -d}, the cache first holds that
 * many random tokens (not timed), so the test measures attention over a long context.
 */
public final class Benchmark {
    private Benchmark() {}

    /**
     * Prompt processing of {@code tokens} random tokens from an empty cache (llama-bench's {@code pp} test).
     *
     * @param session the session to measure; its cache is reset
     * @param tokens  number of tokens in the batch
     * @param seed    seed of the random tokens
     * @return elapsed nanoseconds
     * @throws IllegalArgumentException if the tokens do not fit the session's context
     */
    public static long promptProcessing(Session session, int tokens, long seed) {
        return promptProcessing(session, tokens, 0, seed);
    }

    /**
     * Generation of {@code tokens} random tokens, one at a time, from an empty cache (llama-bench's {@code tg} test).
     *
     * @param session the session to measure; its cache is reset
     * @param tokens  number of tokens decoded
     * @param seed    seed of the random tokens
     * @return elapsed nanoseconds
     * @throws IllegalArgumentException if the tokens do not fit the session's context
     */
    public static long generation(Session session, int tokens, long seed) {
        return generation(session, tokens, 0, seed);
    }

    /**
     * Prompt processing of {@code tokens} after {@code depth} tokens already in the cache.
     *
     * @param session the session to measure; its cache ends up holding the depth's and the test's tokens
     * @param tokens  number of tokens in the timed batch
     * @param depth   random tokens put in the cache first, not timed (0: an empty cache)
     * @param seed    seed of the test's random tokens (the depth's tokens use a fixed seed of their own)
     * @return elapsed nanoseconds of the batch alone
     * @throws IllegalArgumentException if depth and tokens together do not fit the session's context
     */
    public static long promptProcessing(Session session, int tokens, int depth, long seed) {
        int[] ids = fill(session, depth, tokens, seed);
        long t0 = System.nanoTime();
        session.prefill(ids, false, 0); // evaluates what follows the depth
        long elapsed = System.nanoTime() - t0;
        return elapsed;
    }

    /**
     * Generation of {@code tokens} after {@code depth} tokens already in the cache.
     *
     * @param session the session to measure; its cache ends up holding the depth's and the test's tokens
     * @param tokens  number of tokens decoded one at a time
     * @param depth   random tokens put in the cache first, not timed (0: an empty cache)
     * @param seed    seed of the test's random tokens (the depth's tokens use a fixed seed of their own)
     * @return elapsed nanoseconds of the decoding alone
     * @throws IllegalArgumentException if depth and tokens together do not fit the session's context
     */
    public static long generation(Session session, int tokens, int depth, long seed) {
        int[] ids = fill(session, depth, tokens, seed);
        long t0 = System.nanoTime();
        session.prefill(java.util.Arrays.copyOf(ids, depth + 1), false, 0);
        for (int i = depth + 1; i < ids.length; i++) {
            session.step(ids[i]);
        }
        long elapsed = System.nanoTime() - t0;
        return elapsed;
    }

    /**
     * Brings the cache to hold the depth's tokens (the same for every test, so a cache that holds them from an
     * earlier test keeps them, as llama-bench keeps the depth's state) and returns them followed by the test's.
     */
    private static int[] fill(Session session, int depth, int tokens, long seed) {
        int[] prefix = randomTokens(session, Math.max(1, depth), DEPTH_SEED);
        int[] test = randomTokens(session, depth + tokens, seed);
        System.arraycopy(prefix, 0, test, 0, depth);
        if (depth > 0) {
            session.prefill(java.util.Arrays.copyOf(prefix, depth), false, 0);
        } else {
            session.reset();
        }
        return test;
    }

    private static final long DEPTH_SEED = 0x5eedL;

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
