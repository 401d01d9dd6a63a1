package dev.vellama.runtime;

import dev.vellama.runtime.model.KvCache;

/**
 * How a session runs.
 *
 * @param contextSize positions the KV cache holds (0: 4096, or the model's training context when smaller)
 * @param batchSize   prompt tokens per forward chunk (llama.cpp's {@code --batch}, default 512)
 * @param threads     compute threads (0: all available processors)
 * @param device      where the forward pass runs
 * @param gpuLayers   with {@link Device#CUDA}: layers whose weights and KV cache live on the GPU, the first ones
 *                    first, as llama.cpp's {@code -ngl}; {@link Integer#MAX_VALUE} for the whole model
 * @param kvCache     precision of the CPU KV cache: F16 (llama.cpp's default) or F32
 */
public record SessionOptions(int contextSize, int batchSize, int threads, Device device, int gpuLayers,
                             KvCache.Precision kvCache) {
    public static final int DEFAULT_CONTEXT = 4096;
    public static final int DEFAULT_BATCH = 512;
    public static final int ALL_LAYERS = Integer.MAX_VALUE;

    /** Where a session computes. */
    public enum Device { CPU, CUDA }

    public SessionOptions {
        if (contextSize < 0 || batchSize < 0 || threads < 0 || gpuLayers < 0) {
            throw new IllegalArgumentException("context, batch, threads and GPU layers must not be negative");
        }
        java.util.Objects.requireNonNull(device);
        java.util.Objects.requireNonNull(kvCache);
    }

    /** A CPU session with an F16 cache. */
    public SessionOptions(int contextSize, int batchSize, int threads) {
        this(contextSize, batchSize, threads, Device.CPU, ALL_LAYERS, KvCache.Precision.F16);
    }

    /** A session on {@code device} with an F16 cache. */
    public SessionOptions(int contextSize, int batchSize, int threads, Device device, int gpuLayers) {
        this(contextSize, batchSize, threads, device, gpuLayers, KvCache.Precision.F16);
    }

    public static SessionOptions defaults() {
        return new SessionOptions(0, DEFAULT_BATCH, 0);
    }

    public SessionOptions withContextSize(int n) {
        return new SessionOptions(n, batchSize, threads, device, gpuLayers, kvCache);
    }

    public SessionOptions withBatchSize(int n) {
        return new SessionOptions(contextSize, n, threads, device, gpuLayers, kvCache);
    }

    public SessionOptions withThreads(int n) {
        return new SessionOptions(contextSize, batchSize, n, device, gpuLayers, kvCache);
    }

    /** Runs on {@code device}, with {@code gpuLayers} layers offloaded when that is CUDA. */
    public SessionOptions withDevice(Device d, int gpuLayers) {
        return new SessionOptions(contextSize, batchSize, threads, d, gpuLayers, kvCache);
    }

    /** Stores the KV cache at {@code precision} (CPU sessions; the CUDA pass keeps F16). */
    public SessionOptions withKvCache(KvCache.Precision precision) {
        return new SessionOptions(contextSize, batchSize, threads, device, gpuLayers, precision);
    }
}
