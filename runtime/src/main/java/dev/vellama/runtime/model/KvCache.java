package dev.vellama.runtime.model;

/**
 * Keys and values of every past position, per layer, in IEEE half precision as llama.cpp's default F16 cache.
 * Keys are stored after RoPE. Row {@code p} of a layer holds all kv heads of position {@code p}.
 */
public final class KvCache {
    private final short[][] keys;
    private final short[][] values;
    private final int capacity;
    private final int rowWidth;

    public KvCache(int layers, int capacity, int rowWidth) {
        this(layers, 0, capacity, rowWidth);
    }

    /** A cache for layers {@code firstLayer ..} only (the layers a partly offloaded model keeps on the CPU). */
    public KvCache(int layers, int firstLayer, int capacity, int rowWidth) {
        this.capacity = capacity;
        this.rowWidth = rowWidth;
        int size = Math.multiplyExact(capacity, rowWidth);
        this.keys = new short[layers][];
        this.values = new short[layers][];
        for (int l = firstLayer; l < layers; l++) {
            keys[l] = new short[size];
            values[l] = new short[size];
        }
    }

    /** Bytes a cache of this shape takes. */
    public static long bytesFor(int layers, int capacity, int rowWidth) {
        return 2L * 2 * layers * capacity * rowWidth;
    }

    public int capacity() {
        return capacity;
    }

    short[] keys(int layer) {
        return keys[layer];
    }

    short[] values(int layer) {
        return values[layer];
    }

    /** Stores one position's keys and values (rowWidth floats each, from the given offsets). */
    void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        short[] kc = keys[layer];
        short[] vc = values[layer];
        int base = pos * rowWidth;
        for (int i = 0; i < rowWidth; i++) {
            kc[base + i] = Float.floatToFloat16(k[kOff + i]);
            vc[base + i] = Float.floatToFloat16(v[vOff + i]);
        }
    }
}
