package dev.vellama.runtime.cuda;

import java.util.Arrays;

import dev.vellama.quant.Kernels;
import dev.vellama.quant.WeightMatrix;
import dev.vellama.runtime.model.Architecture;
import dev.vellama.runtime.model.ModelConfig;
import dev.vellama.runtime.model.ModelWeights;

/**
 * The layers that stay on the CPU when only the first ones are offloaded ({@code --gpu-layers N} below the layer
 * count), and the final norm and output projection when those stay too. It computes what the CPU
 * {@code ForwardPass} computes for the same layers, with its own F16 cache for them.
 */
final class CpuLayers {
    private final ModelConfig c;
    private final ModelWeights w;
    private final Kernels k;
    private final RopeTable rope;
    private final RopeTable localRope; // sliding-window layers of Gemma 3 use their own base
    private final boolean neox;
    private final int first;
    private final int capacity;
    private final short[][] keys;
    private final short[][] values;
    private final float[] xb;
    private final float[] q;
    private final float[] kv;
    private final float[] vv;
    private final float[] att;
    private final float[] out;
    private final float[] gate;
    private final float[] up;
    private final float[] fused;   // fused qkv or gate|up projections before they are split
    private final float[] scores;
    private final float[] cos;
    private final float[] sin;
    private final float[] logits;
    private float[] allLogits = new float[0];

    /** Layers {@code first ..} of the model, for chunks of up to maxBatch tokens. */
    CpuLayers(ModelConfig c, ModelWeights w, Kernels k, RopeTable rope, RopeTable localRope, int first, int capacity,
              int maxBatch) {
        this.c = c;
        this.w = w;
        this.k = k;
        this.rope = rope;
        this.localRope = localRope;
        this.neox = c.architecture().ropeStyle() == Architecture.RopeStyle.NEOX;
        this.first = first;
        this.capacity = capacity;
        int layers = c.layerCount() - first;
        keys = new short[layers][Math.multiplyExact(capacity, c.kvDim())];
        values = new short[layers][capacity * c.kvDim()];
        int d = c.embeddingLength();
        xb = new float[maxBatch * d];
        out = new float[maxBatch * d];
        q = new float[maxBatch * c.queryDim()];
        att = new float[maxBatch * c.queryDim()];
        kv = new float[maxBatch * c.kvDim()];
        vv = new float[maxBatch * c.kvDim()];
        gate = new float[maxBatch * c.maxFeedForward()];
        up = new float[maxBatch * c.maxFeedForward()];
        Architecture a = c.architecture();
        int fusedWidth = Math.max(a.fusedQkv() ? c.queryDim() + 2 * c.kvDim() : 0, a.fusedGateUp() ? 2 * c.maxFeedForward() : 0);
        fused = new float[maxBatch * fusedWidth];
        scores = new float[c.headCount() * capacity];
        cos = new float[rope.pairs];
        sin = new float[rope.pairs];
        logits = new float[c.vocabSize()];
    }

    /** Runs the CPU layers over the residual stream x[n][d] in place. */
    void layers(float[] x, int n, int pos) {
        for (int l = first; l < c.layerCount(); l++) {
            attention(l, w.layers[l], x, n, pos);
            feedForward(w.layers[l], c.feedForwardLength()[l], x, n);
        }
    }

    /** Final norm and output projection of the last token. */
    float[] outputLast(float[] x, int n) {
        int d = c.embeddingLength();
        k.rmsnorm(xb, 0, x, (n - 1) * d, w.outputNorm, d, c.rmsEps());
        k.matvec(w.output, xb, logits);
        softcap(logits, c.vocabSize(), c.finalSoftcap());
        return logits;
    }

    /** Final norm and output projection of every token, [n][vocab]. */
    float[] outputAll(float[] x, int n) {
        int d = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, w.outputNorm, d, c.rmsEps());
        }
        int need = n * c.vocabSize();
        if (allLogits.length < need) {
            allLogits = new float[need];
        }
        project(w.output, xb, n, allLogits);
        softcap(allLogits, need, c.finalSoftcap());
        return allLogits;
    }

    private void attention(int l, ModelWeights.Layer L, float[] x, int n, int pos) {
        int d = c.embeddingLength();
        int qd = c.queryDim();
        int kvd = c.kvDim();
        int hd = c.headDim();
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, L.attnNorm(), d, c.rmsEps());
        }
        if (L.wqkv() != null) {
            int width = qd + 2 * kvd;
            project(L.wqkv(), xb, n, fused);
            for (int t = 0; t < n; t++) {
                System.arraycopy(fused, t * width, q, t * qd, qd);
                System.arraycopy(fused, t * width + qd, kv, t * kvd, kvd);
                System.arraycopy(fused, t * width + qd + kvd, vv, t * kvd, kvd);
            }
        } else {
            project(L.wq(), xb, n, q);
            project(L.wk(), xb, n, kv);
            project(L.wv(), xb, n, vv);
        }
        boolean sliding = c.slidingWindow() > 0 && c.architecture().slidingWindowLayer(l);
        RopeTable layerRope = sliding ? localRope : rope;
        short[] kc = keys[l - first];
        short[] vc = values[l - first];
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
            System.arraycopy(layerRope.cos, (pos + t) * layerRope.pairs, cos, 0, layerRope.pairs);
            System.arraycopy(layerRope.sin, (pos + t) * layerRope.pairs, sin, 0, layerRope.pairs);
            k.rope(q, t * qd, c.headCount(), hd, c.ropeDims(), cos, sin, neox);
            k.rope(kv, t * kvd, c.headCountKv(), hd, c.ropeDims(), cos, sin, neox);
            int base = (pos + t) * kvd;
            for (int i = 0; i < kvd; i++) {
                kc[base + i] = Float.floatToFloat16(kv[t * kvd + i]);
                vc[base + i] = Float.floatToFloat16(vv[t * kvd + i]);
            }
        }
        int group = c.headCount() / c.headCountKv();
        float scale = c.attentionScale();
        int window = sliding ? c.slidingWindow() : Integer.MAX_VALUE;
        float softcap = c.attnSoftcap();
        k.parallelFor(c.headCount(), (h0, h1) -> {
            for (int h = h0; h < h1; h++) {
                int kvOff = (h / group) * hd;
                int s = h * capacity;
                for (int t = 0; t < n; t++) {
                    int qOff = t * qd + h * hd;
                    int len = pos + t + 1;
                    int start = Math.max(0, len - window); // a sliding window sees its last `window` positions
                    for (int p = start; p < len; p++) {
                        float score = scale * k.dotF16(kc, p * kvd + kvOff, q, qOff, hd);
                        scores[s + p] = softcap > 0 ? softcap * (float) Math.tanh(score / softcap) : score;
                    }
                    k.softmax(scores, s + start, len - start);
                    Arrays.fill(att, qOff, qOff + hd, 0f);
                    for (int p = start; p < len; p++) {
                        k.axpyF16(scores[s + p], vc, p * kvd + kvOff, att, qOff, hd);
                    }
                }
            }
        });
        project(L.wo(), att, n, out);
        residual(L.postAttnNorm(), x, n);
    }

    private void feedForward(ModelWeights.Layer L, int ff, float[] x, int n) {
        int d = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, L.ffnNorm(), d, c.rmsEps());
        }
        if (L.gate() == null) {
            // fused gate|up: the first ff outputs of each token are the gate, the next ff the up projection
            project(L.up(), xb, n, fused);
            for (int t = 0; t < n; t++) {
                System.arraycopy(fused, t * 2 * ff, gate, t * ff, ff);
                System.arraycopy(fused, t * 2 * ff + ff, up, t * ff, ff);
            }
        } else {
            project(L.gate(), xb, n, gate);
            project(L.up(), xb, n, up);
        }
        if (c.architecture().geluFeedForward()) {
            k.gelu(gate, 0, n * ff);
            for (int i = 0; i < n * ff; i++) {
                gate[i] *= up[i];
            }
        } else {
            k.swiglu(gate, up, n * ff);
        }
        project(L.down(), gate, n, out);
        residual(L.postFfnNorm(), x, n);
    }

    /** x += out, out first normed where the architecture norms block outputs (Gemma). */
    private void residual(float[] postNorm, float[] x, int n) {
        int d = c.embeddingLength();
        if (postNorm != null) {
            for (int t = 0; t < n; t++) {
                k.rmsnorm(out, t * d, out, t * d, postNorm, d, c.rmsEps());
            }
        }
        k.add(x, 0, out, 0, n * d);
    }

    private static void softcap(float[] v, int n, float cap) {
        if (cap > 0) {
            for (int i = 0; i < n; i++) {
                v[i] = cap * (float) Math.tanh(v[i] / cap);
            }
        }
    }

    private void project(WeightMatrix m, float[] in, int n, float[] dst) {
        if (n == 1) {
            k.matvec(m, in, dst);
        } else {
            k.matmul(m, in, n, dst);
        }
    }
}
