package dev.vellama.runtime;

/**
 * How a session runs.
 *
 * @param contextSize positions the KV cache holds (0: 4096, or the model's training context when smaller)
 * @param batchSize   prompt tokens per forward chunk (llama.cpp's {@code --batch}, default 512)
 * @param threads     compute threads (0: all available processors)
 * @param device      where the forward pass runs
 * @param gpuLayers   with {@link Device#CUDA}: layers whose weights and KV cache live on the GPU, the first ones
 *                    first, as llama.cpp's {@code -ngl}; {@link Integer#MAX_VALUE} for the whole model
 * @param cacheTypeK  how the CPU KV cache stores keys (llama.cpp's {@code -ctk}; F16 by default)
 * @param cacheTypeV  how it stores values ({@code -ctv})
 */
public record SessionOptions(int contextSize, int batchSize, int threads, Device device, int gpuLayers,
                             CacheType cacheTypeK, CacheType cacheTypeV) {
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
        java.util.Objects.requireNonNull(cacheTypeK);
        java.util.Objects.requireNonNull(cacheTypeV);
    }

    /** A CPU session with an F16 cache. */
    public SessionOptions(int contextSize, int batchSize, int threads) {
        this(contextSize, batchSize, threads, Device.CPU, ALL_LAYERS, CacheType.F16, CacheType.F16);
    }

    /** A session on {@code device} with an F16 cache. */
    public SessionOptions(int contextSize, int batchSize, int threads, Device device, int gpuLayers) {
        this(contextSize, batchSize, threads, device, gpuLayers, CacheType.F16, CacheType.F16);
    }

    public static SessionOptions defaults() {
        return new SessionOptions(0, DEFAULT_BATCH, 0);
    }

    public SessionOptions withContextSize(int n) {
        return new SessionOptions(n, batchSize, threads, device, gpuLayers, cacheTypeK, cacheTypeV);
    }

    public SessionOptions withBatchSize(int n) {
        return new SessionOptions(contextSize, n, threads, device, gpuLayers, cacheTypeK, cacheTypeV);
    }

    public SessionOptions withThreads(int n) {
        return new SessionOptions(contextSize, batchSize, n, device, gpuLayers, cacheTypeK, cacheTypeV);
    }

    /** Runs on {@code device}, with {@code gpuLayers} layers offloaded when that is CUDA. */
    public SessionOptions withDevice(Device d, int gpuLayers) {
        return new SessionOptions(contextSize, batchSize, threads, d, gpuLayers, cacheTypeK, cacheTypeV);
    }

    /** Stores keys and values as {@code type} (CPU sessions; the CUDA pass keeps F16). */
    public SessionOptions withKvCache(CacheType type) {
        return withCacheTypes(type, type);
    }

    /** Stores keys as {@code keys} and values as {@code values}, as llama.cpp's {@code -ctk} and {@code -ctv}. */
    public SessionOptions withCacheTypes(CacheType keys, CacheType values) {
        return new SessionOptions(contextSize, batchSize, threads, device, gpuLayers, keys, values);
    }
}
