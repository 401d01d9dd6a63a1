package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;

import java.util.Arrays;

import dev.vellama.quant.Kernels;

/**
 * Causal attention of a chunk of query rows over one sequence's KV cache, tiled as flash attention is: the cache is
 * read a tile of positions at a time (each kv head's keys and values converted once into buffers small enough to stay
 * in the core's cache), and the softmax is computed online, with a running maximum and sum per query row and the
 * output rescaled whenever the maximum grows. So the memory a thread needs does not grow with the context, and the
 * cache is read once per kv head and chunk, not copied whole per token.
 *
 * <p>Keys come feature by feature from an F32/F16 cache (scores as a vector times a matrix) and position by position
 * from a block-type cache (scores as dot products, with no transpose of the tile).
 *
 * <p>Work is split by query heads: a call handles heads {@code [part·H/parts, (part+1)·H/parts)}. Query rows that
 * share one tile's keys go through the kernels together: for one token (decode), the query heads of a kv head's
 * group; for a chunk, up to {@link #ROWS} tokens of one head.
 */
final class TiledAttention {
    /** Positions per tile: a tile of 64-wide heads is 64 KiB of keys and as much of values. */
    static final int TILE = 256;
    /** Query rows per pass over a tile (the kernels' register block is six). */
    private static final int ROWS = 6;

    private final ModelConfig c;
    private final Kernels k;
    // per part: one tile of keys [dim][position] and values [position][dim] (of all the part's kv heads side by
    // side for an F32/F16 cache), the scores of a group of rows, and each
    // (head, row)'s running maximum and sum
    private final float[][] keys;
    private final float[][] values;
    private final float[][] scores;
    private final float[][] maxima;
    private final float[][] sums;

    TiledAttention(ModelConfig c, Kernels k, int maxBatch) {
        this.c = c;
        this.k = k;
        int parts = k.threads();
        int hd = c.maxHeadDim();
        int headsPerPart = (c.headCount() + parts - 1) / parts + 1;
        int group = 1;
        int kvHeads = 1;
        for (int l = 0; l < c.layerCount(); l++) {
            group = Math.max(group, c.headCount() / c.headCountKv(l));
            kvHeads = Math.max(kvHeads, c.headCountKv(l));
        }
        keys = new float[parts][hd * TILE];
        values = new float[parts][TILE * hd * kvHeads];
        scores = new float[parts][Math.max(ROWS, group) * TILE];
        maxima = new float[parts][headsPerPart * maxBatch];
        sums = new float[parts][headsPerPart * maxBatch];
    }

    /**
     * Attention of query heads {@code [part·H/parts, (part+1)·H/parts)} for rows {@code firstRow .. firstRow+n-1} of
     * {@code q} (tokens at positions {@code pos ..}) over {@code cache}, into the same rows of {@code att}; each token
     * sees its own position and those before it, the last {@code window} of them for a sliding-window layer.
     * A {@code chunked} layer's token sees instead the positions of its chunk of {@code window} up to its own.
     * {@code sinks}, when not null, holds each query head's sink logit.
     */
    void attend(int layer, int part, int parts, KvCache cache, float[] q, float[] att, int firstRow, int n, int pos, int window,
                boolean chunked, float[] sinks) {
        int hd = c.headDim(layer);
        int qd = c.queryDim(layer);
        int group = c.headCount() / c.headCountKv(layer);
        int h0 = part * c.headCount() / parts;
        int h1 = (part + 1) * c.headCount() / parts;
        if (h0 == h1) {
            return;
        }
        // the first position any row sees: its window's start, or (chunked) the start of the first row's chunk
        int from = chunked ? pos / window * window : Math.max(0, pos + 1 - window);
        int to = pos + n;
        float[] mx = maxima[part];
        float[] sum = sums[part];
        Arrays.fill(mx, 0, (h1 - h0) * n, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0, (h1 - h0) * n, 0f);
        for (int h = h0; h < h1; h++) {
            for (int t = 0; t < n; t++) {
                int o = (firstRow + t) * qd + h * hd;
                Arrays.fill(att, o, o + hd, 0f);
            }
        }
        int g0 = h0 / group;
        int g1 = (h1 - 1) / group;
        // An F32/F16 cache holds a position's values of all kv heads side by side: one copy per tile takes those of
        // all the part's kv heads (a head's own copy converted 64 halves at a time, too short for the compiler's
        // vector loop: it was a fifth of decode at depth 4096). Each head still sees its tiles in order.
        boolean valueRows = cache.valuesInRows();
        int span = valueRows ? (g1 - g0 + 1) * hd : hd;
        for (int tile = from; tile < to; tile += TILE) {
            int len = Math.min(TILE, to - tile);
            if (valueRows) {
                cache.copyValues(layer, g0 * hd, span, tile, tile + len, values[part]);
            }
            for (int g = g0; g <= g1; g++) {
                int ha = Math.max(h0, g * group);
                int hb = Math.min(h1, (g + 1) * group);
                if (cache.keysByPosition()) {
                    cache.copyKeyRows(layer, g * hd, hd, tile, tile + len, keys[part]);
                } else {
                    cache.copyKeys(layer, g * hd, hd, tile, tile + len, keys[part], len);
                }
                if (!valueRows) {
                    cache.copyValues(layer, g * hd, hd, tile, tile + len, values[part]);
                }
                int vOff = valueRows ? (g - g0) * hd : 0;
                if (n == 1) {
                    // one token: the group's query heads are the rows, all seeing the whole tile
                    rows(part, cache.keysByPosition(), q, att, firstRow * qd + ha * hd, hd, hd, hb - ha, pos + 1, 0, ha - h0,
                            1, tile, len, from, window, chunked, vOff, span);
                    continue;
                }
                for (int h = ha; h < hb; h++) {
                    for (int t0 = 0; t0 < n; t0 += ROWS) {
                        int count = Math.min(ROWS, n - t0);
                        int firstSeen = chunked ? (pos + t0) / window * window : Math.max(from, pos + t0 + 1 - window);
                        int lastEnd = pos + t0 + count;
                        if (tile >= lastEnd || tile + len <= firstSeen) {
                            continue; // the tile lies after these tokens, or before their window
                        }
                        rows(part, cache.keysByPosition(), q, att, (firstRow + t0) * qd + h * hd, hd, qd, count, pos + t0 + 1,
                                1, (h - h0) * n + t0, 1, tile, len, from, window, chunked, vOff, span);
                    }
                }
            }
        }
        for (int h = h0; h < h1; h++) {
            for (int t = 0; t < n; t++) {
                int st = (h - h0) * n + t;
                int o = (firstRow + t) * qd + h * hd;
                if (sinks != null) {
                    addSink(sinks[h], st, mx, sum, att, o, hd);
                }
                k.scale(att, o, hd, 1f / sum[st]);
            }
        }
    }

    /**
     * A head's learned sink logit joins the softmax's denominator and adds no value (gpt-oss; ggml's softmax with
     * sinks): where it exceeds the running maximum, the sum and the output so far shrink to the sink's scale first.
     */
    private void addSink(float sink, int st, float[] mx, float[] sum, float[] att, int o, int hd) {
        if (sink > mx[st]) {
            float shrink = (float) Math.exp(mx[st] - sink);
            k.scale(att, o, hd, shrink);
            sum[st] = sum[st] * shrink + 1f;
            mx[st] = sink;
        } else {
            sum[st] += (float) Math.exp(sink - mx[st]);
        }
    }

    /**
     * One tile for {@code count} query rows at {@code off + i·stride} of q (and of att): row i ends (exclusively) at
     * position {@code end0 + i·endStep}; its running maximum and sum are at {@code state0 + i·stateStep}; the tile's
     * values of position j are at {@code vOff + j·vStride} of the part's value buffer.
     */
    private void rows(int part, boolean keysByPosition, float[] q, float[] att, int off, int hd, int stride, int count, int end0,
            int endStep, int state0, int stateStep, int tile, int len, int from, int window, boolean chunked, int vOff,
            int vStride) {
        float[] s = scores[part];
        float[] mx = maxima[part];
        float[] sum = sums[part];
        float scale = c.attentionScale();
        float softcap = c.attnSoftcap();
        if (keysByPosition) { // block types: keys position by position, each score one dot product
            k.dotRows(q, off, stride, count, keys[part], 0, len, hd, s, 0, TILE);
        } else {                // F32/F16: keys feature by feature, scores as a vector times a matrix
            Arrays.fill(s, 0, count * TILE, 0f);
            k.vecmatBatch(q, off, stride, count, hd, keys[part], 0, len, s, 0, TILE, len);
        }
        for (int i = 0; i < count; i++) {
            int end = end0 + i * endStep;
            int start = chunked ? Math.max(from, (end - 1) / window * window) : Math.max(from, end - window);
            int lo = Math.max(start, tile) - tile;
            int hi = Math.min(end, tile + len) - tile;
            int row = i * TILE;
            if (hi <= lo) {
                Arrays.fill(s, row, row + len, 0f); // this row sees nothing of the tile
                continue;
            }
            k.scale(s, row + lo, hi - lo, scale);
            if (softcap > 0) {
                for (int j = row + lo; j < row + hi; j++) {
                    s[j] = softcap * (float) Math.tanh(s[j] / softcap);
                }
            }
            int st = state0 + i * stateStep;
            float before = mx[st];
            float now = Math.max(before, k.max(s, row + lo, hi - lo));
            float tileSum = k.expShifted(s, row + lo, hi - lo, now);
            Arrays.fill(s, row, row + lo, 0f);
            Arrays.fill(s, row + hi, row + len, 0f);
            if (before != now && before != Float.NEGATIVE_INFINITY) {
                float shrink = (float) Math.exp(before - now);
                sum[st] *= shrink;
                k.scale(att, off + i * stride, hd, shrink);
            }
            sum[st] += tileSum;
            mx[st] = now;
        }
        k.vecmatBatch(s, 0, TILE, count, len, values[part], vOff, vStride, att, off, stride, hd);
    }
}
