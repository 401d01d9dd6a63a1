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
 * <p>Layouts. F32 and F16 keys are stored after RoPE feature by feature within blocks of 256 cells (the block's
 * positions of feature {@code f} lie together, {@code [block][feature][cell]}), so attention reads them as rows of
 * a matrix times the query, with no horizontal sums, and a tile's keys of one head as one run; F32 and F16
 * values position by position. The other types are stored kv head by kv head, each head's positions in order, each
 * position's head slice in blocks ({@code [head][position][headDim]}), so a tile of positions of one head is one
 * run of blocks that converts in one call.
 *
 * <p>Sliding-window layers (Gemma 2 and 3, Phi-3) see only the last {@code window} positions. A cache made for
 * chunks of at most {@code maxChunk} tokens gives each such layer {@code window + maxChunk} cells used as a ring
 * (position {@code p} in cell {@code (p + offset) mod ring}) when that is less than the context, so their part of the
 * cache stops growing at the window, as llama.cpp's SWA cache does. A ring forgets positions: {@link #slidingFrom()}
 * is the first one its layers still hold, and a caller that goes back to an earlier position asks {@link
 * #canContinueAt} first. Every access takes positions; only this class knows cells.
 *
 * <p>A model with linear-attention layers (Qwen3.5) keeps no cells for them: their {@link RecurrentState} belongs to
 * the cache, so a sequence's memory stays one object. Such a cache can only go on where its states stand (or start
 * again), and a context shift cannot forget tokens a state has absorbed ({@link #maxDiscard} is 0).
 *
 * <p>Layers may differ in width (Gemma 4's sliding and global layers have heads of different sizes and counts), and a
 * layer that attends over an earlier layer's keys and values keeps no cells of its own.
 */
public final class KvCache {
    private final GgmlType keyType;
    private final GgmlType valueType;
    private final int capacity;
    private final int[] rowWidth;   // per layer: one position's keys (or values) of all kv heads
    private final int[] headDim;    // per layer: one head's share of it
    private final boolean[] shared; // layers that read another layer's cells and keep none
    private final int layers;
    private final int window;       // the sliding window of the layers marked in sliding (0: no such layers)
    private final boolean[] sliding;
    private final int ring;         // cells of a bounded sliding layer; capacity when none is bounded
    private int offset;             // bounded layers: position p lies in cell (p + offset) mod ring
    private int slidingFrom;        // sliding layers hold positions [slidingFrom, the caller's length)
    /**
     * F32/F16 keys are kept feature-major (attention's scores then need no horizontal sums) in blocks of this many
     * cells: all features of cells [256b, 256b + 256) lie together, feature by feature, so a kv head's keys for a
     * tile of attention are one contiguous run instead of 64 runs a whole context apart (copying them took 30–40%
     * less time in a throwaway program at 4096 positions).
     */
    private static final int KEY_BLOCK = 256;
    // per layer, by type: F32 floats, F16 halves, or blocks
    private final float[][] floatKeys;
    private final float[][] floatValues;
    private final short[][] halfKeys;
    private final short[][] halfValues;
    private final byte[][] blockKeys;
    private final byte[][] blockValues;
    private final MemorySegment[] keySegments;
    private final MemorySegment[] valueSegments;
    private final long[] keyHeadBytes;   // per layer, one position's slice of one head, in blocks
    private final long[] valueHeadBytes;
    private final RecurrentState recurrent; // the linear-attention layers' states; null when there are none

    /** Types a cache can hold. */
    public static boolean supports(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL -> true;
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

    /** The cache of a model's layers {@code firstLayer ..}, keys and values of the given types, every position kept. */
    public static KvCache of(ModelConfig c, int firstLayer, int capacity, GgmlType keyType, GgmlType valueType) {
        return new KvCache(firstLayer, capacity, keyType, valueType, 0, new boolean[c.layerCount()], capacity, c.deltaNet(),
                Widths.of(c));
    }

    /**
     * The cache of a model's layers {@code firstLayer ..} for chunks of at most {@code maxChunk} tokens: its
     * sliding-window layers keep only the cells their window needs (see the class comment).
     */
    public static KvCache of(ModelConfig c, int firstLayer, int capacity, GgmlType keyType, GgmlType valueType, int maxChunk) {
        return new KvCache(firstLayer, capacity, keyType, valueType, c.slidingWindow(), slidingLayers(c), maxChunk,
                c.deltaNet(), Widths.of(c));
    }

    private static boolean[] slidingLayers(ModelConfig c) {
        boolean[] s = new boolean[c.layerCount()];
        for (int l = 0; l < s.length; l++) {
            s[l] = c.slidingLayer(l);
        }
        return s;
    }

    /** Each layer's row width and head size, and which layers keep no cells because they read another's. */
    private record Widths(int[] rowWidth, int[] headDim, boolean[] shared) {
        static Widths uniform(int layers, int rowWidth, int headDim) {
            int[] rows = new int[layers];
            int[] heads = new int[layers];
            java.util.Arrays.fill(rows, rowWidth);
            java.util.Arrays.fill(heads, headDim);
            return new Widths(rows, heads, new boolean[layers]);
        }

        static Widths of(ModelConfig c) {
            int n = c.layerCount();
            int[] rows = new int[n];
            int[] heads = new int[n];
            boolean[] shared = new boolean[n];
            for (int l = 0; l < n; l++) {
                rows[l] = c.kvDim(l);
                heads[l] = c.headDim(l);
                shared[l] = c.kvLayer(l) != l;
            }
            return new Widths(rows, heads, shared);
        }
    }

    /**
     * Cells a bounded sliding layer gets (its window and a chunk), or {@code capacity} when bounding saves nothing
     * or no layer of {@code sliding} slides: the CPU cache's rings, and the CUDA pass's for the layers it holds.
     */
    public static int ringCells(int capacity, int window, boolean[] sliding, int maxChunk) {
        boolean any = false;
        for (boolean s : sliding) {
            any |= s;
        }
        long cells = (long) window + Math.max(1, maxChunk);
        return any && window > 0 && cells < capacity ? (int) cells : capacity;
    }

    /**
     * @param rowWidth one position's keys (or values) of all kv heads
     * @param headDim  one head's share of it; block types need it to be a multiple of their block size
     */
    public KvCache(int layers, int firstLayer, int capacity, int rowWidth, int headDim, GgmlType keyType, GgmlType valueType) {
        this(layers, firstLayer, capacity, rowWidth, headDim, keyType, valueType, 0, new boolean[layers], capacity);
    }

    /**
     * A cache whose layers marked in {@code sliding} see the last {@code window} positions only, written in chunks of
     * at most {@code maxChunk} tokens (a {@code maxChunk} of {@code capacity} or more keeps every position).
     */
    public KvCache(int layers, int firstLayer, int capacity, int rowWidth, int headDim, GgmlType keyType, GgmlType valueType,
                   int window, boolean[] sliding, int maxChunk) {
        this(layers, firstLayer, capacity, rowWidth, headDim, keyType, valueType, window, sliding, maxChunk,
                ModelConfig.DeltaNet.NONE);
    }

    /**
     * As {@link #KvCache(int, int, int, int, int, GgmlType, GgmlType, int, boolean[], int)}, with the linear-attention
     * layers of {@code deltaNet} holding a {@link RecurrentState} instead of cells.
     */
    public KvCache(int layers, int firstLayer, int capacity, int rowWidth, int headDim, GgmlType keyType, GgmlType valueType,
                   int window, boolean[] sliding, int maxChunk, ModelConfig.DeltaNet deltaNet) {
        this(firstLayer, capacity, keyType, valueType, window, sliding, maxChunk, deltaNet, Widths.uniform(layers, rowWidth, headDim));
    }

    private KvCache(int firstLayer, int capacity, GgmlType keyType, GgmlType valueType, int window, boolean[] sliding,
                    int maxChunk, ModelConfig.DeltaNet deltaNet, Widths widths) {
        int layers = widths.rowWidth().length;
        for (GgmlType t : new GgmlType[] {keyType, valueType}) {
            if (!supports(t)) {
                throw new IllegalArgumentException("a KV cache of type " + t + " is not supported; use f32, f16, bf16, q8_0,"
                        + " q4_0, q4_1, q5_0 or q5_1");
            }
            for (int l = 0; l < layers; l++) {
                int rw = widths.rowWidth()[l];
                int hd = widths.headDim()[l];
                if (hd <= 0 || rw % hd != 0 || hd % t.blockSize() != 0) {
                    throw new IllegalArgumentException("heads of " + hd + " values do not divide into " + t + " blocks of "
                            + t.blockSize());
                }
            }
        }
        if (sliding.length != layers || window < 0) {
            throw new IllegalArgumentException("a window of " + window + " over " + sliding.length + " of " + layers + " layers");
        }
        this.keyType = keyType;
        this.valueType = valueType;
        this.capacity = capacity;
        this.rowWidth = widths.rowWidth().clone();
        this.headDim = widths.headDim().clone();
        this.shared = widths.shared().clone();
        this.layers = layers;
        this.window = window;
        this.sliding = window > 0 ? sliding.clone() : new boolean[layers];
        this.ring = ringCells(capacity, window, this.sliding, maxChunk);
        floatKeys = keyType == GgmlType.F32 ? new float[layers][] : null;
        halfKeys = keyType == GgmlType.F16 ? new short[layers][] : null;
        blockKeys = blocks(keyType) ? new byte[layers][] : null;
        floatValues = valueType == GgmlType.F32 ? new float[layers][] : null;
        halfValues = valueType == GgmlType.F16 ? new short[layers][] : null;
        blockValues = blocks(valueType) ? new byte[layers][] : null;
        keySegments = new MemorySegment[layers];
        valueSegments = new MemorySegment[layers];
        keyHeadBytes = new long[layers];
        valueHeadBytes = new long[layers];
        for (int l = 0; l < layers; l++) {
            keyHeadBytes[l] = keyType.byteSize(headDim[l]);
            valueHeadBytes[l] = valueType.byteSize(headDim[l]);
        }
        this.recurrent = deltaNet.present() ? new RecurrentState(deltaNet, firstLayer) : null;
        for (int l = firstLayer; l < layers; l++) {
            if (deltaNet.inLayer(l) || shared[l]) {
                continue; // a linear-attention layer keeps its state, a sharing layer reads another's cells
            }
            int size = Math.multiplyExact(cells(l), rowWidth[l]);
            int keySize = Math.multiplyExact(blocksOf(cells(l)) * KEY_BLOCK, rowWidth[l]);
            if (floatKeys != null) {
                floatKeys[l] = new float[keySize];
            } else if (halfKeys != null) {
                halfKeys[l] = new short[keySize];
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

    /** Bytes a cache of this shape takes, every position kept. */
    public static long bytesFor(int layers, int capacity, int rowWidth, GgmlType keyType, GgmlType valueType) {
        long cells = (long) capacity * rowWidth;
        return layers * (keyType.byteSize(cells) + valueType.byteSize(cells));
    }

    /** Bytes {@link #of(ModelConfig, int, int, GgmlType, GgmlType, int)} of all layers takes. */
    public static long bytesFor(ModelConfig c, int capacity, GgmlType keyType, GgmlType valueType, int maxChunk) {
        boolean[] s = slidingLayers(c);
        int ring = ringCells(capacity, c.slidingWindow(), s, maxChunk);
        long total = RecurrentState.bytesFor(c.deltaNet());
        for (int l = 0; l < c.layerCount(); l++) {
            if (!c.deltaNet().inLayer(l) && c.kvLayer(l) == l) {
                total += bytesFor(1, s[l] ? ring : capacity, c.kvDim(l), keyType, valueType);
            }
        }
        return total;
    }

    /** Bytes this cache holds on the heap. */
    public long bytes() {
        long total = recurrent == null ? 0 : recurrent.bytes();
        for (int l = 0; l < layers; l++) {
            if (holdsLayer(l)) {
                total += bytesFor(1, cells(l), rowWidth[l], keyType, valueType);
            }
        }
        return total;
    }

    /** Positions the cache holds at most (the context). */
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

    /** {@return the widest layer's row: one position's keys (or values) of all its kv heads} */
    public int rowWidth() {
        int max = 0;
        for (int w : rowWidth) {
            max = Math.max(max, w);
        }
        return max;
    }

    /**
     * One position's keys (or values) of all kv heads of a layer.
     *
     * @param layer layer index, from 0
     * @return its row width
     */
    public int rowWidth(int layer) {
        return rowWidth[layer];
    }

    /** Whether layer {@code layer} attends through the sliding window. */
    public boolean slidingLayer(int layer) {
        return sliding[layer];
    }

    /** Whether the sliding-window layers keep only their window's cells (a ring), not every position. */
    public boolean bounded() {
        return ring < capacity;
    }

    /** The longest chunk of tokens one forward pass may write: a ring must still hold the window before it. */
    public int maxChunk() {
        return bounded() ? ring - window + 1 : capacity;
    }

    /** Layers whose cells this cache holds (a partly offloaded model keeps the first ones on the GPU). */
    public boolean holdsLayer(int layer) {
        return floatKeys != null ? floatKeys[layer] != null : halfKeys != null ? halfKeys[layer] != null : blockKeys[layer] != null;
    }

    /** The first position whose cells the sliding-window layers still hold (0 when they hold them all). */
    public int slidingFrom() {
        return slidingFrom;
    }

    /**
     * Whether a token at position {@code pos} can be evaluated on what the cache holds of positions before it: its
     * sliding-window layers must still hold the window before it (a ring has forgotten older positions; a caller
     * going back further starts again from position 0). Always true without sliding layers or at position 0.
     */
    public boolean canContinueAt(int pos) {
        if (recurrent != null && !recurrent.canContinueAt(pos)) {
            return false; // a recurrent state holds one position only
        }
        return window == 0 || pos == 0 || Math.max(0, pos - window + 1) >= slidingFrom;
    }

    /** The linear-attention layers' states, or null for a model without such layers. */
    public RecurrentState recurrent() {
        return recurrent;
    }

    /**
     * The most positions a context shift ({@link #shift}) may forget after the first {@code keep} of {@code length}:
     * all but the kept ones, unless the sliding-window layers' ring would lose what the window of the next position
     * needs (a ring keeps no cells of the kept prefix once it has turned past them).
     */
    public int maxDiscard(int keep, int length) {
        if (recurrent != null) {
            return 0; // the states have absorbed every token; none can be taken out
        }
        if (window == 0 || !bounded() && slidingFrom <= keep) {
            return length - keep;
        }
        return Math.max(0, Math.min(length - keep, length - keep - window + 1));
    }

    private int cells(int layer) {
        return sliding[layer] ? ring : capacity;
    }

    /** The cell of {@code pos} in {@code layer}. */
    private int cell(int layer, int pos) {
        if (sliding[layer] && ring < capacity) {
            int c = pos + offset;
            return c >= ring ? c % ring : c;
        }
        return pos;
    }

    /** How many of the positions {@code [pos, pos + n)} lie in consecutive cells from {@code pos}'s. */
    private int run(int layer, int pos, int n) {
        return Math.min(n, cells(layer) - cell(layer, pos));
    }

    /** Blocks of {@link #KEY_BLOCK} cells that hold {@code cells} cells. */
    private static int blocksOf(int cells) {
        return (cells + KEY_BLOCK - 1) / KEY_BLOCK;
    }

    /** {@link #run} within one block of F32/F16 keys: the positions whose keys of a feature are one run of memory. */
    private int keyRun(int layer, int pos, int n) {
        return Math.min(run(layer, pos, n), KEY_BLOCK - cell(layer, pos) % KEY_BLOCK);
    }

    /** Index of feature {@code f} of cell {@code c} in an F32/F16 layer's keys (see {@link #KEY_BLOCK}). */
    private static int keyIndex(int rowWidth, int f, int c) {
        return (c / KEY_BLOCK * rowWidth + f) * KEY_BLOCK + c % KEY_BLOCK;
    }

    /** Byte offset of head {@code h}'s slice in cell {@code cell} of a block layer. */
    private long offset(int layer, int h, int cell, long headBytes) {
        return ((long) h * cells(layer) + cell) * headBytes;
    }

    /**
     * Keys of features {@code [feature, feature + count)} (one kv head) at positions {@code [from, to)} as floats:
     * {@code dst[d * stride + p - from]}. Block types convert through a buffer of their own (attention reads them
     * with {@link #copyKeyRows} instead).
     */
    void copyKeys(int layer, int feature, int count, int from, int to, float[] dst, int stride) {
        int n = to - from;
        if (blockKeys != null) {
            float[] rows = new float[n * count];
            copyKeyRows(layer, feature, count, from, to, rows);
            for (int j = 0; j < n; j++) {
                for (int d = 0; d < count; d++) {
                    dst[d * stride + j] = rows[j * count + d];
                }
            }
            return;
        }
        int rowWidth = this.rowWidth[layer];
        for (int done = 0; done < n; ) {
            int c0 = cell(layer, from + done);
            int len = keyRun(layer, from + done, n - done);
            for (int d = 0; d < count; d++) {
                int src = keyIndex(rowWidth, feature + d, c0);
                int at = d * stride + done;
                if (floatKeys != null) {
                    System.arraycopy(floatKeys[layer], src, dst, at, len);
                } else {
                    toFloats(halfKeys[layer], src, dst, at, len);
                }
            }
            done += len;
        }
    }

    /**
     * Whether values are kept as one row of all kv heads per position (F32, F16), so that {@link #copyValues} takes
     * features of several heads at once; block types keep each head's values apart.
     */
    boolean valuesInRows() {
        return blockValues == null;
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
        int n = to - from;
        for (int done = 0; done < n; ) {
            int len = run(layer, from + done, n - done);
            Dequantizer.dequantize(keyType, blockKeys[layer],
                    (int) offset(layer, feature / headDim[layer], cell(layer, from + done), keyHeadBytes[layer]), dst,
                    done * count, len * count);
            done += len;
        }
    }

    /** Values of features {@code [feature, feature + count)} at positions {@code [from, to)}: {@code dst[(p - from) * count + d]}. */
    void copyValues(int layer, int feature, int count, int from, int to, float[] dst) {
        int n = to - from;
        for (int done = 0; done < n; ) {
            int c0 = cell(layer, from + done);
            int len = run(layer, from + done, n - done);
            if (blockValues != null) {
                Dequantizer.dequantize(valueType, blockValues[layer],
                        (int) offset(layer, feature / headDim[layer], c0, valueHeadBytes[layer]), dst, done * count, len * count);
            } else {
                for (int j = 0; j < len; j++) {
                    int src = (c0 + j) * rowWidth[layer] + feature;
                    int at = (done + j) * count;
                    if (floatValues != null) {
                        System.arraycopy(floatValues[layer], src, dst, at, count);
                    } else {
                        toFloats(halfValues[layer], src, dst, at, count);
                    }
                }
            }
            done += len;
        }
    }

    /**
     * One position's keys and values of a layer (rowWidth floats each) into the starts of {@code k} and {@code v},
     * decoded from the cache's types: what a device pass copies back into its own cache.
     */
    public void readRow(int layer, int pos, float[] k, float[] v) {
        loadKey(layer, pos, k);
        if (blockValues == null) {
            copyValues(layer, 0, rowWidth[layer], pos, pos + 1, v);
            return;
        }
        // block types keep each head's values apart ([head][position][headDim])
        int hd = headDim[layer];
        for (int h = 0; h < rowWidth[layer] / hd; h++) {
            Dequantizer.dequantize(valueType, valueSegments[layer], offset(layer, h, cell(layer, pos), valueHeadBytes[layer]),
                    v, h * hd, hd);
        }
    }

    /**
     * Stores one position's keys and values of a layer (rowWidth floats each, from the given offsets) in the cache's
     * types, as the forward pass stores them: what a device pass copies out of its own cache. Written in increasing
     * positions (position 0 starts the cache over), a ring keeps the last of them.
     */
    public void writeRow(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        store(layer, pos, k, kOff, v, vOff);
    }

    /** A plain loop on purpose: C2 turns it into vector half-to-float conversions. */
    private static void toFloats(short[] src, int from, float[] dst, int at, int n) {
        for (int i = 0; i < n; i++) {
            dst[at + i] = Float.float16ToFloat(src[from + i]);
        }
    }

    /**
     * Stores one position's keys and values (rowWidth floats each, from the given offsets). Writing position 0
     * starts the cache over; a ring forgets the position a window and a chunk before.
     */
    void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        if (pos == 0) {
            slidingFrom = 0;
        } else if (sliding[layer] && bounded()) {
            slidingFrom = Math.max(slidingFrom, pos + 1 - ring);
        }
        storeKey(layer, pos, k, kOff);
        int c = cell(layer, pos);
        int width = rowWidth[layer];
        int hd = headDim[layer];
        int base = c * width;
        if (floatValues != null) {
            System.arraycopy(v, vOff, floatValues[layer], base, width);
        } else if (halfValues != null) {
            short[] vc = halfValues[layer];
            for (int f = 0; f < width; f++) {
                vc[base + f] = Float.floatToFloat16(v[vOff + f]);
            }
        } else {
            for (int h = 0; h < width / hd; h++) {
                Quantizer.quantizeReference(valueType, v, vOff + h * hd, hd, valueSegments[layer], offset(layer, h, c, valueHeadBytes[layer]));
            }
        }
    }

    private void storeKey(int layer, int pos, float[] k, int kOff) {
        int c = cell(layer, pos);
        int rowWidth = this.rowWidth[layer];
        int headDim = this.headDim[layer];
        int at = keyIndex(rowWidth, 0, c);
        if (floatKeys != null) {
            float[] kc = floatKeys[layer];
            for (int f = 0; f < rowWidth; f++) {
                kc[at + f * KEY_BLOCK] = k[kOff + f];
            }
        } else if (halfKeys != null) {
            short[] kc = halfKeys[layer];
            for (int f = 0; f < rowWidth; f++) {
                kc[at + f * KEY_BLOCK] = Float.floatToFloat16(k[kOff + f]);
            }
        } else {
            for (int h = 0; h < rowWidth / headDim; h++) {
                Quantizer.quantizeReference(keyType, k, kOff + h * headDim, headDim, keySegments[layer], offset(layer, h, c, keyHeadBytes[layer]));
            }
        }
    }

    private void loadKey(int layer, int pos, float[] row) {
        int c = cell(layer, pos);
        int rowWidth = this.rowWidth[layer];
        int headDim = this.headDim[layer];
        if (floatKeys != null || halfKeys != null) {
            int at = keyIndex(rowWidth, 0, c);
            for (int f = 0; f < rowWidth; f++) {
                int i = at + f * KEY_BLOCK;
                row[f] = floatKeys != null ? floatKeys[layer][i] : Float.float16ToFloat(halfKeys[layer][i]);
            }
        } else {
            for (int h = 0; h < rowWidth / headDim; h++) {
                Dequantizer.dequantize(keyType, keySegments[layer], offset(layer, h, c, keyHeadBytes[layer]), row, h * headDim, headDim);
            }
        }
    }

    /** Moves a value row between positions of a layer that keeps every position (its cells are its positions). */
    private void moveValue(int layer, int src, int dst) {
        int rowWidth = this.rowWidth[layer];
        int headDim = this.headDim[layer];
        long valueHeadBytes = this.valueHeadBytes[layer];
        if (floatValues != null) {
            System.arraycopy(floatValues[layer], src * rowWidth, floatValues[layer], dst * rowWidth, rowWidth);
        } else if (halfValues != null) {
            System.arraycopy(halfValues[layer], src * rowWidth, halfValues[layer], dst * rowWidth, rowWidth);
        } else {
            for (int h = 0; h < rowWidth / headDim; h++) {
                System.arraycopy(blockValues[layer], (int) offset(layer, h, src, valueHeadBytes), blockValues[layer],
                        (int) offset(layer, h, dst, valueHeadBytes), (int) valueHeadBytes);
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
     * move. llama.cpp's context shift does the same (seq_rm, seq_add and its K-shift). A ring's cells do not move:
     * its keys are turned in place and the ring's origin moves instead; what it held of the kept prefix is lost, which
     * {@link #maxDiscard} allows for.
     */
    public void shift(int keep, int discard, int length, KeyRotation rotation) {
        if (keep < 0 || discard < 1 || length > capacity || keep + discard > length || discard > maxDiscard(keep, length)) {
            throw new IllegalArgumentException("cannot forget " + discard + " cells after " + keep + " of " + length);
        }
        float[] row = new float[rowWidth()];
        boolean ringMoves = false;
        for (int l = 0; l < layers; l++) {
            if (!holdsLayer(l)) {
                continue; // a layer kept on the GPU
            }
            if (sliding[l] && bounded()) {
                ringMoves = true;
                for (int p = Math.max(keep + discard, slidingFrom); p < length; p++) {
                    loadKey(l, p, row);
                    rotation.rotate(l, row);
                    storeKey(l, p, row, 0);
                }
                continue;
            }
            for (int p = keep; p + discard < length; p++) {
                loadKey(l, p + discard, row);
                rotation.rotate(l, row);
                storeKey(l, p, row, 0);
                moveValue(l, p + discard, p);
            }
        }
        if (ringMoves) {
            offset = (offset + discard) % ring;
        }
        if (bounded() || slidingFrom > keep) {
            slidingFrom = Math.max(keep, slidingFrom - discard);
        }
    }

    /** A sink and source of cell data, so the cache's layout stays here and the file format elsewhere. */
    public interface CellStream {
        /** Moves {@code n} values between the stream and {@code a[from ..]}: out of the array when saving, into it when loading. */
        void halves(short[] a, int from, int n) throws java.io.IOException;

        void floats(float[] a, int from, int n) throws java.io.IOException;

        void bytes(byte[] a, int from, int n) throws java.io.IOException;

        /** Passes over {@code n} bytes of the stream (loading only: cells a ring has no room for). */
        default void skip(long n) throws java.io.IOException {
            throw new UnsupportedOperationException("this stream cannot skip");
        }
    }

    /**
     * Streams positions {@code [from, length)} of a layer, keys then values, in this cache's types and layouts (keys
     * feature by feature or head by head, values position by position or head by head): to {@code stream} when
     * saving, from it when loading. When loading, the stream may hold {@code skip} more positions before
     * {@code from} in each run, which are passed over.
     */
    public void transfer(int layer, int from, int length, int skip, CellStream stream) throws java.io.IOException {
        if (recurrent != null && recurrent.holdsLayer(layer)) {
            recurrent.transfer(layer, length, stream); // the state after the last position, whatever the range
            return;
        }
        if (shared[layer]) {
            return; // its cells are another layer's
        }
        int rowWidth = this.rowWidth[layer];
        long keyHeadBytes = this.keyHeadBytes[layer];
        long valueHeadBytes = this.valueHeadBytes[layer];
        if (from < 0 || from > length || length > capacity || skip < 0 || skip > from
                || length - from > cells(layer)) {
            throw new IllegalArgumentException("positions " + from + " to " + length + " in a cache of " + capacity);
        }
        int n = length - from;
        int heads = rowWidth / headDim[layer];
        if (floatKeys != null || halfKeys != null) {
            for (int f = 0; f < rowWidth; f++) {
                skip(stream, (long) skip * (floatKeys != null ? 4 : 2));
                for (int done = 0; done < n; ) {
                    int c = cell(layer, from + done);
                    int at = keyIndex(rowWidth, f, c);
                    int len = keyRun(layer, from + done, n - done);
                    if (floatKeys != null) {
                        stream.floats(floatKeys[layer], at, len);
                    } else {
                        stream.halves(halfKeys[layer], at, len);
                    }
                    done += len;
                }
            }
        } else {
            for (int h = 0; h < heads; h++) {
                skip(stream, skip * keyHeadBytes);
                transferBlocks(layer, blockKeys[layer], h, from, n, keyHeadBytes, stream);
            }
        }
        if (floatValues != null || halfValues != null) {
            skip(stream, (long) skip * rowWidth * (floatValues != null ? 4 : 2));
            for (int done = 0; done < n; ) {
                int at = cell(layer, from + done) * rowWidth;
                int len = run(layer, from + done, n - done);
                if (floatValues != null) {
                    stream.floats(floatValues[layer], at, len * rowWidth);
                } else {
                    stream.halves(halfValues[layer], at, len * rowWidth);
                }
                done += len;
            }
        } else {
            for (int h = 0; h < heads; h++) {
                skip(stream, skip * valueHeadBytes);
                transferBlocks(layer, blockValues[layer], h, from, n, valueHeadBytes, stream);
            }
        }
    }

    private static void skip(CellStream stream, long bytes) throws java.io.IOException {
        if (bytes > 0) {
            stream.skip(bytes);
        }
    }

    private void transferBlocks(int layer, byte[] data, int h, int from, int n, long headBytes, CellStream stream)
            throws java.io.IOException {
        for (int done = 0; done < n; ) {
            int len = run(layer, from + done, n - done);
            stream.bytes(data, (int) offset(layer, h, cell(layer, from + done), headBytes), (int) (len * headBytes));
            done += len;
        }
    }

    /**
     * After a load: the sliding-window layers hold positions from {@code from} on (what the saved session held of
     * them, or less when this cache's ring is smaller).
     */
    public void restoredFrom(int from) {
        slidingFrom = window > 0 ? from : 0;
    }

    /** The most positions a sliding-window layer of this cache can hold. */
    public int slidingCells() {
        return ring;
    }

    /** Bytes {@link #transfer} moves for {@code positions} positions of layer {@code layer}. */
    public long transferBytes(int layer, int positions) {
        if (recurrent != null && recurrent.holdsLayer(layer)) {
            return recurrent.transferBytes();
        }
        if (shared[layer]) {
            return 0;
        }
        long cells = (long) positions * rowWidth[layer];
        return keyType.byteSize(cells) + valueType.byteSize(cells);
    }

    /** Bytes {@link #transfer} moves for {@code positions} positions of one attention layer of the widest rows. */
    public long transferBytes(int positions) {
        long cells = (long) positions * rowWidth();
        return keyType.byteSize(cells) + valueType.byteSize(cells);
    }
}
