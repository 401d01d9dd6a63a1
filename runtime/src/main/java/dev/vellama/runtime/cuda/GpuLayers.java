package dev.vellama.runtime.cuda;

/**
 * The {@code --gpu-layers} setting, as llama.cpp's {@code -ngl}: the first N transformer layers (their weights and
 * KV cache) run on the GPU and the rest on the CPU; a value above the layer count, or {@code all}, also puts the
 * token embedding, the final norm and the output projection there.
 */
public final class GpuLayers {
    /** Everything on the GPU. */
    public static final int ALL = Integer.MAX_VALUE;

    private GpuLayers() {}

    /** Parses {@code all} or a non-negative count. */
    public static int parse(String value) {
        String v = value.trim();
        if (v.equalsIgnoreCase("all")) {
            return ALL;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new IllegalArgumentException("--gpu-layers must be 'all' or a count of 0 or more, not " + value);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--gpu-layers must be 'all' or a count of 0 or more, not '" + value + "'");
        }
    }

    /** How many of {@code layerCount} layers go to the GPU. */
    public static int layersOnGpu(int gpuLayers, int layerCount) {
        return Math.min(gpuLayers, layerCount);
    }

    /** Whether the embedding, final norm and output projection go to the GPU too. */
    public static boolean outputOnGpu(int gpuLayers, int layerCount) {
        return gpuLayers > layerCount;
    }
}
