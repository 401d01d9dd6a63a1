package dev.vellama.runtime.model;

import dev.vellama.quant.Kernels;

/**
 * Keys and values of every past position, per layer: IEEE halves by default, as llama.cpp's F16 cache, or F32 on
 * request (twice the memory, no rounding). Keys are stored after RoPE. Row {@code p} of a layer holds all kv heads of
 * position {@code p}.
 */
public final class KvCache {
    /** How the cache stores values. */
    public enum Precision {
        F16(2), F32(4);

        final int bytes;

        Precision(int bytes) {
            this.bytes = bytes;
        }
    }

    private final Precision precision;
    private final short[][] halfKeys;
    private final short[][] halfValues;
    private final float[][] floatKeys;
    private final float[][] floatValues;
    private final int capacity;
    private final int rowWidth;

    public KvCache(int layers, int capacity, int rowWidth) {
        this(layers, 0, capacity, rowWidth, Precision.F16);
    }

    /** An F16 cache for layers {@code firstLayer ..} only (the layers a partly offloaded model keeps on the CPU). */
    public KvCache(int layers, int firstLayer, int capacity, int rowWidth) {
        this(layers, firstLayer, capacity, rowWidth, Precision.F16);
    }

    public KvCache(int layers, int firstLayer, int capacity, int rowWidth, Precision precision) {
        this.precision = precision;
        this.capacity = capacity;
        this.rowWidth = rowWidth;
        int size = Math.multiplyExact(capacity, rowWidth);
        boolean half = precision == Precision.F16;
        halfKeys = half ? new short[layers][] : null;
        halfValues = half ? new short[layers][] : null;
        floatKeys = half ? null : new float[layers][];
        floatValues = half ? null : new float[layers][];
        for (int l = firstLayer; l < layers; l++) {
            if (half) {
                halfKeys[l] = new short[size];
                halfValues[l] = new short[size];
            } else {
                floatKeys[l] = new float[size];
                floatValues[l] = new float[size];
            }
        }
    }

    /** Bytes a cache of this shape takes. */
    public static long bytesFor(int layers, int capacity, int rowWidth, Precision precision) {
        return 2L * precision.bytes * layers * capacity * rowWidth;
    }

    public int capacity() {
        return capacity;
    }

    public Precision precision() {
        return precision;
    }

    /** q · (key at {@code offset} of layer {@code layer}) over n values. */
    float dotKey(Kernels k, int layer, int offset, float[] q, int qOff, int n) {
        return precision == Precision.F16 ? k.dotF16(halfKeys[layer], offset, q, qOff, n)
                : k.dot(floatKeys[layer], offset, q, qOff, n);
    }

    /** y += a · (value at {@code offset} of layer {@code layer}) over n values. */
    void addValue(Kernels k, float a, int layer, int offset, float[] y, int yOff, int n) {
        if (precision == Precision.F16) {
            k.axpyF16(a, halfValues[layer], offset, y, yOff, n);
        } else {
            k.axpy(a, floatValues[layer], offset, y, yOff, n);
        }
    }

    /** Stores one position's keys and values (rowWidth floats each, from the given offsets). */
    void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        int base = pos * rowWidth;
        if (precision == Precision.F32) {
            System.arraycopy(k, kOff, floatKeys[layer], base, rowWidth);
            System.arraycopy(v, vOff, floatValues[layer], base, rowWidth);
            return;
        }
        short[] kc = halfKeys[layer];
        short[] vc = halfValues[layer];
        for (int i = 0; i < rowWidth; i++) {
            kc[base + i] = Float.floatToFloat16(k[kOff + i]);
            vc[base + i] = Float.floatToFloat16(v[vOff + i]);
        }
    }
}
