package dev.vellama.runtime.model;

/**
 * Keys and values of every past position, per layer: IEEE halves by default, as llama.cpp's F16 cache, or F32 on
 * request (twice the memory, no rounding). Keys are stored after RoPE, feature by feature (all positions of
 * feature {@code f} lie together), so attention reads them as rows of a matrix times the query, with no
 * horizontal sums; values are stored position by position (row {@code p} holds all kv heads of position p).
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

    /**
     * Keys of features {@code [feature, feature + count)} (one kv head) at positions {@code [from, to)} as floats:
     * {@code dst[d * stride + p - from]}.
     */
    void copyKeys(int layer, int feature, int count, int from, int to, float[] dst, int stride) {
        int n = to - from;
        for (int d = 0; d < count; d++) {
            int src = (feature + d) * capacity + from;
            int at = d * stride;
            if (precision == Precision.F32) {
                System.arraycopy(floatKeys[layer], src, dst, at, n);
            } else {
                toFloats(halfKeys[layer], src, dst, at, n);
            }
        }
    }

    /** Values of features {@code [feature, feature + count)} at positions {@code [from, to)}: {@code dst[(p - from) * count + d]}. */
    void copyValues(int layer, int feature, int count, int from, int to, float[] dst) {
        for (int p = from; p < to; p++) {
            int src = p * rowWidth + feature;
            int at = (p - from) * count;
            if (precision == Precision.F32) {
                System.arraycopy(floatValues[layer], src, dst, at, count);
            } else {
                toFloats(halfValues[layer], src, dst, at, count);
            }
        }
    }

    /** A plain loop on purpose: C2 turns it into vector half-to-float conversions. */
    private static void toFloats(short[] src, int from, float[] dst, int at, int n) {
        for (int i = 0; i < n; i++) {
            dst[at + i] = Float.float16ToFloat(src[from + i]);
        }
    }

    /** Turns one position's key row (all kv heads, rowWidth floats) to where it now lies; see {@link #shift}. */
    @FunctionalInterface
    public interface KeyRotation {
        void rotate(int layer, float[] keyRow);
    }

    /**
     * Forgets positions {@code [keep, keep + discard)} of the first {@code length}: the cells after them move down by
     * {@code discard} and their keys are turned by {@code rotation} to their new positions (keys are stored after
     * RoPE, which is a rotation, so turning by −discard equals having computed them there). Values do not depend
     * on the position and only move. llama.cpp's context shift does the same (seq_rm, seq_add and its K-shift).
     */
    public void shift(int keep, int discard, int length, KeyRotation rotation) {
        if (keep < 0 || discard < 1 || length > capacity || keep + discard > length) {
            throw new IllegalArgumentException("cannot forget " + discard + " cells after " + keep + " of " + length);
        }
        float[] row = new float[rowWidth];
        int layers = precision == Precision.F32 ? floatKeys.length : halfKeys.length;
        for (int l = 0; l < layers; l++) {
            if ((precision == Precision.F32 ? floatKeys[l] : halfKeys[l]) == null) {
                continue; // a layer kept on the GPU
            }
            for (int p = keep; p + discard < length; p++) {
                int src = p + discard;
                if (precision == Precision.F32) {
                    float[] kc = floatKeys[l];
                    for (int f = 0; f < rowWidth; f++) {
                        row[f] = kc[f * capacity + src];
                    }
                    rotation.rotate(l, row);
                    for (int f = 0; f < rowWidth; f++) {
                        kc[f * capacity + p] = row[f];
                    }
                    System.arraycopy(floatValues[l], src * rowWidth, floatValues[l], p * rowWidth, rowWidth);
                } else {
                    short[] kc = halfKeys[l];
                    for (int f = 0; f < rowWidth; f++) {
                        row[f] = Float.float16ToFloat(kc[f * capacity + src]);
                    }
                    rotation.rotate(l, row);
                    for (int f = 0; f < rowWidth; f++) {
                        kc[f * capacity + p] = Float.floatToFloat16(row[f]);
                    }
                    System.arraycopy(halfValues[l], src * rowWidth, halfValues[l], p * rowWidth, rowWidth);
                }
            }
        }
    }

    /** Layers whose cells this cache holds (a partly offloaded model keeps the first ones on the GPU). */
    public boolean holdsLayer(int layer) {
        return (precision == Precision.F32 ? floatKeys[layer] : halfKeys[layer]) != null;
    }

    public int layers() {
        return precision == Precision.F32 ? floatKeys.length : halfKeys.length;
    }

    public int rowWidth() {
        return rowWidth;
    }

    /** A sink and source of cell data, so the cache's layout stays here and the file format elsewhere. */
    public interface CellStream {
        /** Moves {@code n} values between the stream and {@code a[from ..]}: out of the array when saving, into it when loading. */
        void halves(short[] a, int from, int n) throws java.io.IOException;

        void floats(float[] a, int from, int n) throws java.io.IOException;
    }

    /**
     * Streams the first {@code length} positions of a layer, keys (feature by feature) then values (position by
     * position), in this cache's precision: to {@code stream} when saving, from it when loading.
     */
    public void transfer(int layer, int length, CellStream stream) throws java.io.IOException {
        if (length < 0 || length > capacity) {
            throw new IllegalArgumentException(length + " positions in a cache of " + capacity);
        }
        for (int f = 0; f < rowWidth; f++) {
            if (precision == Precision.F32) {
                stream.floats(floatKeys[layer], f * capacity, length);
            } else {
                stream.halves(halfKeys[layer], f * capacity, length);
            }
        }
        if (precision == Precision.F32) {
            stream.floats(floatValues[layer], 0, length * rowWidth);
        } else {
            stream.halves(halfValues[layer], 0, length * rowWidth);
        }
    }

    /** Stores one position's keys and values (rowWidth floats each, from the given offsets). */
    void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        int base = pos * rowWidth;
        if (precision == Precision.F32) {
            float[] kc = floatKeys[layer];
            for (int f = 0; f < rowWidth; f++) {
                kc[f * capacity + pos] = k[kOff + f];
            }
            System.arraycopy(v, vOff, floatValues[layer], base, rowWidth);
            return;
        }
        short[] kc = halfKeys[layer];
        short[] vc = halfValues[layer];
        for (int f = 0; f < rowWidth; f++) {
            kc[f * capacity + pos] = Float.floatToFloat16(k[kOff + f]);
            vc[base + f] = Float.floatToFloat16(v[vOff + f]);
        }
    }
}
