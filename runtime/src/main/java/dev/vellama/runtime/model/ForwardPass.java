package dev.vellama.runtime.model;

import dev.vellama.quant.Kernels;
import dev.vellama.quant.WeightMatrix;

/**
 * One transformer forward pass over a chunk of tokens, for every supported architecture: embedding, per layer
 * pre-norm attention (GQA, RoPE, optional q/k/v biases and per-head q/k norms) and SwiGLU feed-forward, each with
 * a residual connection, then the final norm and the output projection. A chunk of several tokens goes through the
 * batched matrix-matrix kernels; a single token through matrix-vector. All buffers are allocated once, for the
 * largest chunk, so the token loop allocates nothing.
 */
public final class ForwardPass {
    private final ModelConfig c;
    private final ModelWeights w;
    private final Kernels k;
    private final KvCache cache;
    private final Rope rope;
    private final boolean neox;
    private final int maxBatch;

    // activations, row-major [token][feature]
    private final float[] x;       // residual stream
    private final float[] xb;      // normed input of a block
    private final float[] q;
    private final float[] kv;      // new keys
    private final float[] vv;      // new values
    private final float[] att;     // attention output, all heads
    private final float[] out;     // projection output (embedding width)
    private final float[] gate;
    private final float[] up;
    private final float[] scores;  // [head][position]
    private final float[] cos;
    private final float[] sin;
    private final float[] logits;  // one row
    private float[] allLogits = new float[0];

    public ForwardPass(ModelConfig c, ModelWeights w, Kernels k, KvCache cache, int maxBatch) {
        this.c = c;
        this.w = w;
        this.k = k;
        this.cache = cache;
        this.rope = new Rope(c, w.ropeFactors);
        this.neox = c.architecture().ropeStyle() == Architecture.RopeStyle.NEOX;
        this.maxBatch = maxBatch;
        int d = c.embeddingLength();
        x = new float[maxBatch * d];
        xb = new float[maxBatch * d];
        out = new float[maxBatch * d];
        q = new float[maxBatch * c.queryDim()];
        att = new float[maxBatch * c.queryDim()];
        kv = new float[maxBatch * c.kvDim()];
        vv = new float[maxBatch * c.kvDim()];
        gate = new float[maxBatch * c.maxFeedForward()];
        up = new float[maxBatch * c.maxFeedForward()];
        scores = new float[c.headCount() * cache.capacity()];
        cos = new float[rope.pairs()];
        sin = new float[rope.pairs()];
        logits = new float[c.vocabSize()];
    }

    public int maxBatch() {
        return maxBatch;
    }

    /**
     * Runs {@code n} tokens at positions {@code pos .. pos+n-1} (their keys and values join the cache) and returns
     * the logits of the last one (a buffer reused by the next call).
     */
    public float[] forwardLast(int[] tokens, int from, int n, int pos) {
        layers(tokens, from, n, pos);
        int d = c.embeddingLength();
        k.rmsnorm(xb, 0, x, (n - 1) * d, w.outputNorm, d, c.rmsEps());
        k.matvec(w.output, xb, logits);
        return logits;
    }

    /** Like {@link #forwardLast} but returns the logits of every token, row-major [token][vocab]. */
    public float[] forwardAll(int[] tokens, int from, int n, int pos) {
        layers(tokens, from, n, pos);
        int d = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, w.outputNorm, d, c.rmsEps());
        }
        int need = n * c.vocabSize();
        if (allLogits.length < need) {
            allLogits = new float[need];
        }
        project(w.output, xb, n, allLogits);
        return allLogits;
    }

    private void layers(int[] tokens, int from, int n, int pos) {
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("chunk of " + n + " tokens; 1 to " + maxBatch + " allowed");
        }
        if (pos + n > cache.capacity()) {
            throw new IllegalArgumentException("positions up to " + (pos + n) + " exceed the cache of " + cache.capacity());
        }
        int d = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            int id = tokens[from + t];
            if (id < 0 || id >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + c.vocabSize());
            }
            k.dequantizeRow(w.tokenEmbedding, id, x, t * d);
        }
        for (int l = 0; l < c.layerCount(); l++) {
            attention(l, w.layers[l], n, pos);
            feedForward(w.layers[l], c.feedForwardLength()[l], n);
        }
    }

    private void attention(int l, ModelWeights.Layer L, int n, int pos) {
        int d = c.embeddingLength();
        int qd = c.queryDim();
        int kvd = c.kvDim();
        int hd = c.headDim();
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, L.attnNorm(), d, c.rmsEps());
        }
        project(L.wq(), xb, n, q);
        project(L.wk(), xb, n, kv);
        project(L.wv(), xb, n, vv);
        for (int t = 0; t < n; t++) {
            if (L.bq() != null) {
                k.add(q, t * qd, L.bq(), 0, qd);
                k.add(kv, t * kvd, L.bk(), 0, kvd);
                k.add(vv, t * kvd, L.bv(), 0, kvd);
            }
            if (L.qNorm() != null) {
                for (int h = 0; h < c.headCount(); h++) {
                    k.rmsnorm(q, t * qd + h * hd, q, t * qd + h * hd, L.qNorm(), hd, c.rmsEps());
                }
                for (int h = 0; h < c.headCountKv(); h++) {
                    k.rmsnorm(kv, t * kvd + h * hd, kv, t * kvd + h * hd, L.kNorm(), hd, c.rmsEps());
                }
            }
            rope.angles(pos + t, cos, sin);
            k.rope(q, t * qd, c.headCount(), hd, c.ropeDims(), cos, sin, neox);
            k.rope(kv, t * kvd, c.headCountKv(), hd, c.ropeDims(), cos, sin, neox);
            cache.store(l, pos + t, kv, t * kvd, vv, t * kvd);
        }
        // causal attention of every token over the cache, heads split across threads
        short[] keys = cache.keys(l);
        short[] values = cache.values(l);
        int group = c.headCount() / c.headCountKv();
        int cap = cache.capacity();
        float scale = c.attentionScale();
        k.parallelFor(c.headCount(), (h0, h1) -> {
            for (int h = h0; h < h1; h++) {
                int kvOff = (h / group) * hd;
                int s = h * cap;
                for (int t = 0; t < n; t++) {
                    int qOff = t * qd + h * hd;
                    int len = pos + t + 1;
                    for (int p = 0; p < len; p++) {
                        scores[s + p] = scale * k.dotF16(keys, p * kvd + kvOff, q, qOff, hd);
                    }
                    k.softmax(scores, s, len);
                    int o = t * qd + h * hd;
                    java.util.Arrays.fill(att, o, o + hd, 0f);
                    for (int p = 0; p < len; p++) {
                        k.axpyF16(scores[s + p], values, p * kvd + kvOff, att, o, hd);
                    }
                }
            }
        });
        project(L.wo(), att, n, out);
        k.add(x, 0, out, 0, n * d);
    }

    private void feedForward(ModelWeights.Layer L, int ff, int n) {
        int d = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, L.ffnNorm(), d, c.rmsEps());
        }
        project(L.gate(), xb, n, gate);
        project(L.up(), xb, n, up);
        k.swiglu(gate, up, n * ff);
        project(L.down(), gate, n, out);
        k.add(x, 0, out, 0, n * d);
    }

    /** W·X for n rows of X: matrix-vector for one token, the batched kernel for more. */
    private void project(WeightMatrix m, float[] in, int n, float[] dst) {
        if (n == 1) {
            k.matvec(m, in, dst);
        } else {
            k.matmul(m, in, n, dst);
        }
    }
}
