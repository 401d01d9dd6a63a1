package dev.vellama.runtime;

/**
 * How a session runs.
 *
 * @param contextSize positions the KV cache holds (0: 4096, or the model's training context when smaller)
 * @param batchSize   prompt tokens per forward chunk (llama.cpp's {@code --batch}, default 512)
 * @param threads     compute threads (0: all available processors)
 */
public record SessionOptions(int contextSize, int batchSize, int threads) {
    public static final int DEFAULT_CONTEXT = 4096;
    public static final int DEFAULT_BATCH = 512;

    public SessionOptions {
        if (contextSize < 0 || batchSize < 0 || threads < 0) {
            throw new IllegalArgumentException("context, batch and threads must not be negative");
        }
    }

    public static SessionOptions defaults() {
        return new SessionOptions(0, DEFAULT_BATCH, 0);
    }

    public SessionOptions withContextSize(int n) {
        return new SessionOptions(n, batchSize, threads);
    }

    public SessionOptions withBatchSize(int n) {
        return new SessionOptions(contextSize, n, threads);
    }

    public SessionOptions withThreads(int n) {
        return new SessionOptions(contextSize, batchSize, n);
    }
}
