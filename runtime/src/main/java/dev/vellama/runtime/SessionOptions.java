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
 * @param cacheTypeK  how the KV cache stores keys (llama.cpp's {@code -ctk}; F16 by default; on CUDA F16, Q8_0 or Q4_0)
 * @param cacheTypeV  how it stores values ({@code -ctv})
 */
public record SessionOptions(int contextSize, int batchSize, int threads, Device device, int gpuLayers,
                             CacheType cacheTypeK, CacheType cacheTypeV) {
    public static final int DEFAULT_CONTEXT = 4096;
    public static final int DEFAULT_BATCH = 512;
    public static final int ALL_LAYERS = Integer.MAX_VALUE;

    /** Where a session computes. */
    public enum Device {
        /** The CPU, with the session's compute threads. */
        CPU,
        /** An NVIDIA GPU through CUDA, for the layers offloaded to it. */
        CUDA
    }

    /**
     * Checks the components.
     *
     * @throws IllegalArgumentException if a size, the threads or the GPU layers are negative
     * @throws NullPointerException     if the device or a cache type is null
     */
    public SessionOptions {
        if (contextSize < 0 || batchSize < 0 || threads < 0 || gpuLayers < 0) {
            throw new IllegalArgumentException("context, batch, threads and GPU layers must not be negative");
        }
        java.util.Objects.requireNonNull(device);
        java.util.Objects.requireNonNull(cacheTypeK);
        java.util.Objects.requireNonNull(cacheTypeV);
    }

    /**
     * A CPU session with an F16 cache.
     *
     * @param contextSize positions the KV cache holds (0: the default)
     * @param batchSize   prompt tokens per forward chunk
     * @param threads     compute threads (0: all available processors)
     */
    public SessionOptions(int contextSize, int batchSize, int threads) {
        this(contextSize, batchSize, threads, Device.CPU, ALL_LAYERS, CacheType.F16, CacheType.F16);
    }

    /**
     * A session on {@code device} with an F16 cache.
     *
     * @param contextSize positions the KV cache holds (0: the default)
     * @param batchSize   prompt tokens per forward chunk
     * @param threads     compute threads (0: all available processors)
     * @param device      where the forward pass runs
     * @param gpuLayers   with CUDA, layers offloaded to the GPU ({@link #ALL_LAYERS} for the whole model)
     */
    public SessionOptions(int contextSize, int batchSize, int threads, Device device, int gpuLayers) {
        this(contextSize, batchSize, threads, device, gpuLayers, CacheType.F16, CacheType.F16);
    }

    /** {@return a CPU session with the default context, batches of 512, all processors and an F16 cache} */
    public static SessionOptions defaults() {
        return new SessionOptions(0, DEFAULT_BATCH, 0);
    }

    /**
     * These options with another context size.
     *
     * @param n positions the KV cache holds (0: the default)
     * @return a new options record
     */
    public SessionOptions withContextSize(int n) {
        return new SessionOptions(n, batchSize, threads, device, gpuLayers, cacheTypeK, cacheTypeV);
    }

    /**
     * These options with another batch size.
     *
     * @param n prompt tokens per forward chunk
     * @return a new options record
     */
    public SessionOptions withBatchSize(int n) {
        return new SessionOptions(contextSize, n, threads, device, gpuLayers, cacheTypeK, cacheTypeV);
    }

    /**
     * These options with another thread count.
     *
     * @param n compute threads (0: all available processors)
     * @return a new options record
     */
    public SessionOptions withThreads(int n) {
        return new SessionOptions(contextSize, batchSize, n, device, gpuLayers, cacheTypeK, cacheTypeV);
    }

    /**
     * Runs on {@code d}, with {@code gpuLayers} layers offloaded when that is CUDA.
     *
     * @param d         where the forward pass runs
     * @param gpuLayers with CUDA, layers offloaded to the GPU ({@link #ALL_LAYERS} for the whole model)
     * @return a new options record
     */
    public SessionOptions withDevice(Device d, int gpuLayers) {
        return new SessionOptions(contextSize, batchSize, threads, d, gpuLayers, cacheTypeK, cacheTypeV);
    }

    /**
     * Stores keys and values as {@code type} (CPU sessions; the CUDA pass keeps F16).
     *
     * @param type the cache type of both keys and values
     * @return a new options record
     */
    public SessionOptions withKvCache(CacheType type) {
        return withCacheTypes(type, type);
    }

    /**
     * Stores keys as {@code keys} and values as {@code values}, as llama.cpp's {@code -ctk} and {@code -ctv}.
     *
     * @param keys   the cache type of keys
     * @param values the cache type of values
     * @return a new options record
     */
    public SessionOptions withCacheTypes(CacheType keys, CacheType values) {
        return new SessionOptions(contextSize, batchSize, threads, device, gpuLayers, keys, values);
    }
}
