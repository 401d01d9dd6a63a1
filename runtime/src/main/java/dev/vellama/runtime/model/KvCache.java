package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;

import java.lang.foreign.MemorySegment;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.Quantizer;

/**
 * Keys and values of every past position, per layer, in the types llama.cpp offers for its cache ({@code -ctk},
 * {@code -ctv}): F16 by default, F32, or BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 in ggml's block formats, byte for byte as
 * llama.cpp quantizes a row of its cache.
 *
 * <p>Layouts. F32 and F16 keys are stored after RoPE feature by feature (all positions of feature {@code f} lie
 * together), so attention reads them as rows of a matrix times the query, with no horizontal sums; F32 and F16
 * values position by position. The other types are stored kv head by kv head, each head's positions in order, each
 * position's head slice in blocks ({@code [head][position][headDim]}), so a tile of positions of one head is one
 * run of blocks that converts in one call.
 */
public final class KvCache {
    private final GgmlType keyType;
    private final GgmlType valueType;
    private final int capacity;
    private final int rowWidth;
    private final int headDim;
    private final int layers;
    // per layer, by type: F32 floats, F16 halves, or blocks
    private final float[][] floatKeys;
    private final float[][] floatValues;
    private final short[][] halfKeys;
    private final short[][] halfValues;
    private final byte[][] blockKeys;
    private final byte[][] blockValues;
    private final MemorySegment[] keySegments;
    private final MemorySegment[] valueSegments;
    private final long keyHeadBytes;   // one position's slice of one head, in blocks
    private final long valueHeadBytes;

    /** Types a cache can hold. */
    public static boolean supports(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 -> true;
            default -> false;
        };
    }

    /** An F16 cache of every layer. */
    public KvCache(int layers, int capacity, int rowWidth) {
        this(layers, 0, capacity, rowWidth, rowWidth, GgmlType.F16, GgmlType.F16);
    }

    /** An F16 cache for layers {@code firstLayer ..} only (the layers a partly offloaded model keeps on the CPU). */
    public KvCache(int layers, int firstLayer, int capacity, int rowWidth) {
        this(layers, firstLayer, capacity, rowWidth, rowWidth, GgmlType.F16, GgmlType.F16);
    }

    /** The cache of a model's layers {@code firstLayer ..}, keys and values of the given types. */
    public static KvCache of(ModelConfig c, int firstLayer, int capacity, GgmlType keyType, GgmlType valueType) {
        return new KvCache(c.layerCount(), firstLayer, capacity, c.kvDim(), c.headDim(), keyType, valueType);
    }

    /**
     * @param rowWidth one position's keys (or values) of all kv heads
     * @param headDim  one head's share of it; block types need it to be a multiple of their block size
     */
    public KvCache(int layers, int firstLayer, int capacity, int rowWidth, int headDim, GgmlType keyType, GgmlType valueType) {
        for (GgmlType t : new GgmlType[] {keyType, valueType}) {
            if (!supports(t)) {
                throw new IllegalArgumentException("a KV cache of type " + t + " is not supported; use f32, f16, bf16, q8_0,"
                        + " q4_0, q4_1, q5_0 or q5_1");
            }
            if (rowWidth % headDim != 0 || headDim % t.blockSize() != 0) {
                throw new IllegalArgumentException("heads of " + headDim + " values do not divide into " + t + " blocks of "
                        + t.blockSize());
            }
        }
        this.keyType = keyType;
        this.valueType = valueType;
        this.capacity = capacity;
        this.rowWidth = rowWidth;
        this.headDim = headDim;
        this.layers = layers;
        int size = Math.multiplyExact(capacity, rowWidth);
        floatKeys = keyType == GgmlType.F32 ? new float[layers][] : null;
        halfKeys = keyType == GgmlType.F16 ? new short[layers][] : null;
        blockKeys = blocks(keyType) ? new byte[layers][] : null;
        floatValues = valueType == GgmlType.F32 ? new float[layers][] : null;
        halfValues = valueType == GgmlType.F16 ? new short[layers][] : null;
        blockValues = blocks(valueType) ? new byte[layers][] : null;
        keySegments = new MemorySegment[layers];
        valueSegments = new MemorySegment[layers];
        keyHeadBytes = keyType.byteSize(headDim);
        valueHeadBytes = valueType.byteSize(headDim);
        for (int l = firstLayer; l < layers; l++) {
            if (floatKeys != null) {
                floatKeys[l] = new float[size];
            } else if (halfKeys != null) {
                halfKeys[l] = new short[size];
            } else {
                blockKeys[l] = new byte[Math.toIntExact(keyType.byteSize(size))];
                keySegments[l] = MemorySegment.ofArray(blockKeys[l]);
            }
            if (floatValues != null) {
                floatValues[l] = new float[size];
            } else if (halfValues != null) {
                halfValues[l] = new short[size];
            } else {
                blockValues[l] = new byte[Math.toIntExact(valueType.byteSize(size))];
                valueSegments[l] = MemorySegment.ofArray(blockValues[l]);
            }
        }
    }

    private static boolean blocks(GgmlType t) {
        return t != GgmlType.F32 && t != GgmlType.F16;
    }

    /** Bytes a cache of this shape takes. */
    public static long bytesFor(int layers, int capacity, int rowWidth, GgmlType keyType, GgmlType valueType) {
        long cells = (long) capacity * rowWidth;
        return layers * (keyType.byteSize(cells) + valueType.byteSize(cells));
    }

    public int capacity() {
        return capacity;
    }

    public GgmlType keyType() {
        return keyType;
    }

    public GgmlType valueType() {
        return valueType;
    }

    public int layers() {
        return layers;
    }

    public int rowWidth() {
        return rowWidth;
    }

    /** Layers whose cells this cache holds (a partly offloaded model keeps the first ones on the GPU). */
    public boolean holdsLayer(int layer) {
        return floatKeys != null ? floatKeys[layer] != null : halfKeys != null ? halfKeys[layer] != null : blockKeys[layer] != null;
    }

    /** Byte offset of head {@code h}'s slice at position {@code pos} in a block layer. */
    private long offset(int h, int pos, long headBytes) {
        return ((long) h * capacity + pos) * headBytes;
    }

    /**
     * Keys of features {@code [feature, feature + count)} (one kv head) at positions {@code [from, to)} as floats:
     * {@code dst[d * stride + p - from]}. Block types convert through {@code scratch} ({@code (to − from)·count}
     * floats or more; null: one is allocated).
     */
    void copyKeys(int layer, int feature, int count, int from, int to, float[] dst, int stride, float[] scratch) {
        int n = to - from;
        if (blockKeys != null) {
            float[] rows = scratch != null && scratch.length >= n * count ? scratch : new float[n * count];
            Dequantizer.dequantize(keyType, blockKeys[layer], (int) offset(feature / headDim, from, keyHeadBytes), rows, 0, n * count);
            for (int j = 0; j < n; j++) {
                for (int d = 0; d < count; d++) {
                    dst[d * stride + j] = rows[j * count + d];
                }
            }
            return;
        }
        for (int d = 0; d < count; d++) {
            int src = (feature + d) * capacity + from;
            int at = d * stride;
            if (floatKeys != null) {
                System.arraycopy(floatKeys[layer], src, dst, at, n);
            } else {
                toFloats(halfKeys[layer], src, dst, at, n);
            }
        }
    }

    /** Whether keys are kept position by position (block types), so {@link #copyKeyRows} reads them without a transpose. */
    boolean keysByPosition() {
        return blockKeys != null;
    }

    /**
     * Keys of one kv head (features {@code [feature, feature + count)}) at positions {@code [from, to)} as floats,
     * position by position: {@code dst[(p - from) * count + d]}; block types only.
     */
    void copyKeyRows(int layer, int feature, int count, int from, int to, float[] dst) {
        Dequantizer.dequantize(keyType, blockKeys[layer], (int) offset(feature / headDim, from, keyHeadBytes), dst, 0,
                (to - from) * count);
    }

    void copyKeys(int layer, int feature, int count, int from, int to, float[] dst, int stride) {
        copyKeys(layer, feature, count, from, to, dst, stride, null);
    }

    /** Values of features {@code [feature, feature + count)} at positions {@code [from, to)}: {@code dst[(p - from) * count + d]}. */
    void copyValues(int layer, int feature, int count, int from, int to, float[] dst) {
        if (blockValues != null) {
            Dequantizer.dequantize(valueType, blockValues[layer], (int) offset(feature / headDim, from, valueHeadBytes), dst, 0,
                    (to - from) * count);
            return;
        }
        for (int p = from; p < to; p++) {
            int src = p * rowWidth + feature;
            int at = (p - from) * count;
            if (floatValues != null) {
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

    /** Stores one position's keys and values (rowWidth floats each, from the given offsets). */
    void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        storeKey(layer, pos, k, kOff);
        int base = pos * rowWidth;
        if (floatValues != null) {
            System.arraycopy(v, vOff, floatValues[layer], base, rowWidth);
        } else if (halfValues != null) {
            short[] vc = halfValues[layer];
            for (int f = 0; f < rowWidth; f++) {
                vc[base + f] = Float.floatToFloat16(v[vOff + f]);
            }
        } else {
            for (int h = 0; h < rowWidth / headDim; h++) {
                Quantizer.quantize(valueType, v, vOff + h * headDim, headDim, valueSegments[layer], offset(h, pos, valueHeadBytes));
            }
        }
    }

    private void storeKey(int layer, int pos, float[] k, int kOff) {
        if (floatKeys != null) {
            float[] kc = floatKeys[layer];
            for (int f = 0; f < rowWidth; f++) {
                kc[f * capacity + pos] = k[kOff + f];
            }
        } else if (halfKeys != null) {
            short[] kc = halfKeys[layer];
            for (int f = 0; f < rowWidth; f++) {
                kc[f * capacity + pos] = Float.floatToFloat16(k[kOff + f]);
            }
        } else {
            for (int h = 0; h < rowWidth / headDim; h++) {
                Quantizer.quantize(keyType, k, kOff + h * headDim, headDim, keySegments[layer], offset(h, pos, keyHeadBytes));
            }
        }
    }

    private void loadKey(int layer, int pos, float[] row) {
        if (floatKeys != null || halfKeys != null) {
            for (int f = 0; f < rowWidth; f++) {
                row[f] = floatKeys != null ? floatKeys[layer][f * capacity + pos] : Float.float16ToFloat(halfKeys[layer][f * capacity + pos]);
            }
        } else {
            for (int h = 0; h < rowWidth / headDim; h++) {
                Dequantizer.dequantize(keyType, keySegments[layer], offset(h, pos, keyHeadBytes), row, h * headDim, headDim);
            }
        }
    }

    private void moveValue(int layer, int src, int dst) {
        if (floatValues != null) {
            System.arraycopy(floatValues[layer], src * rowWidth, floatValues[layer], dst * rowWidth, rowWidth);
        } else if (halfValues != null) {
            System.arraycopy(halfValues[layer], src * rowWidth, halfValues[layer], dst * rowWidth, rowWidth);
        } else {
            for (int h = 0; h < rowWidth / headDim; h++) {
                System.arraycopy(blockValues[layer], (int) offset(h, src, valueHeadBytes), blockValues[layer],
                        (int) offset(h, dst, valueHeadBytes), (int) valueHeadBytes);
            }
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
     * RoPE, which is a rotation, so turning by −discard equals having computed them there; a block type's keys are
     * converted, turned and stored again, as llama.cpp's K-shift does). Values do not depend on the position and only
     * move. llama.cpp's context shift does the same (seq_rm, seq_add and its K-shift).
     */
    public void shift(int keep, int discard, int length, KeyRotation rotation) {
        if (keep < 0 || discard < 1 || length > capacity || keep + discard > length) {
            throw new IllegalArgumentException("cannot forget " + discard + " cells after " + keep + " of " + length);
        }
        float[] row = new float[rowWidth];
        for (int l = 0; l < layers; l++) {
            if (!holdsLayer(l)) {
                continue; // a layer kept on the GPU
            }
            for (int p = keep; p + discard < length; p++) {
                loadKey(l, p + discard, row);
                rotation.rotate(l, row);
                storeKey(l, p, row, 0);
                moveValue(l, p + discard, p);
            }
        }
    }

    /** A sink and source of cell data, so the cache's layout stays here and the file format elsewhere. */
    public interface CellStream {
        /** Moves {@code n} values between the stream and {@code a[from ..]}: out of the array when saving, into it when loading. */
        void halves(short[] a, int from, int n) throws java.io.IOException;

        void floats(float[] a, int from, int n) throws java.io.IOException;

        void bytes(byte[] a, int from, int n) throws java.io.IOException;
    }

    /**
     * Streams the first {@code length} positions of a layer, keys then values, in this cache's types and layouts:
     * to {@code stream} when saving, from it when loading.
     */
    public void transfer(int layer, int length, CellStream stream) throws java.io.IOException {
        if (length < 0 || length > capacity) {
            throw new IllegalArgumentException(length + " positions in a cache of " + capacity);
        }
        if (floatKeys != null || halfKeys != null) {
            for (int f = 0; f < rowWidth; f++) {
                if (floatKeys != null) {
                    stream.floats(floatKeys[layer], f * capacity, length);
                } else {
                    stream.halves(halfKeys[layer], f * capacity, length);
                }
            }
        } else {
            for (int h = 0; h < rowWidth / headDim; h++) {
                stream.bytes(blockKeys[layer], (int) offset(h, 0, keyHeadBytes), (int) (length * keyHeadBytes));
            }
        }
        if (floatValues != null) {
            stream.floats(floatValues[layer], 0, length * rowWidth);
        } else if (halfValues != null) {
            stream.halves(halfValues[layer], 0, length * rowWidth);
        } else {
            for (int h = 0; h < rowWidth / headDim; h++) {
                stream.bytes(blockValues[layer], (int) offset(h, 0, valueHeadBytes), (int) (length * valueHeadBytes));
            }
        }
    }

    /** Bytes {@link #transfer} moves for {@code length} positions of one layer. */
    public long transferBytes(int length) {
        long cells = (long) length * rowWidth;
        return keyType.byteSize(cells) + valueType.byteSize(cells);
    }
}
