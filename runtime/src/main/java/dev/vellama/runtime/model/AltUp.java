package dev.vellama.runtime.model;

import dev.vellama.quant.Kernels;
import dev.vellama.quant.WeightMatrix;
import dev.vellama.runtime.ModelConfig;

/**
 * Gemma 3n's four residual streams (AltUp) and its low-rank residual (LAuReL), as llama.cpp's gemma3n computes them.
 * The embedding becomes stream 0 and, through three projections rescaled to its magnitude, streams 1–3. Each layer
 * predicts every stream as a mix of all four ({@link #predict}), runs attention and the feed-forward block on the
 * prediction of stream 0 only, then corrects every stream by what that layer changed ({@link #correct}). After the
 * last layer the streams are brought back and averaged ({@link #merge}). Stream 0 is the pass's residual array; this
 * class holds the others and its scratch.
 */
final class AltUp {
    static final int STREAMS = 4;

    /** W·X for n rows, as the pass multiplies (so a batch of sequences gives each what it gives alone). */
    @FunctionalInterface
    interface Projection {
        void apply(WeightMatrix m, float[] in, int n, float[] out);
    }

    private final ModelConfig c;
    private final Kernels k;
    private final float[][] streams;     // streams 1..3, [row][embedding]
    private final float[][] predictions; // the layer's predictions of streams 0..3
    private final float[] normed;
    private final float[] modalities;   // [row][stream]
    private final float[] coefficients;  // [row][stream²], or [row][stream] when correcting
    private final float[] magnitudes;    // [row]
    private final float[] projected;
    private float[] rank = new float[0];
    private final float[] ones;

    AltUp(ModelConfig c, Kernels k, int maxBatch) {
        this.c = c;
        this.k = k;
        int width = maxBatch * c.embeddingLength();
        streams = new float[STREAMS - 1][width];
        predictions = new float[STREAMS][width];
        normed = new float[width];
        projected = new float[width];
        modalities = new float[maxBatch * STREAMS];
        coefficients = new float[maxBatch * STREAMS * STREAMS];
        magnitudes = new float[maxBatch];
        ones = new float[c.embeddingLength()];
        java.util.Arrays.fill(ones, 1f);
    }

    /** The prediction of stream 0, which the layer's attention and feed-forward block run on. */
    float[] active() {
        return predictions[0];
    }

    /** Streams 1–3 from the n embedded rows in {@code x} (stream 0): each projected, then rescaled to x's magnitude. */
    void expand(float[] x, int n, WeightMatrix[] projection, Projection p) {
        int d = c.embeddingLength();
        magnitudes(x, n, magnitudes);
        float[] own = new float[n];
        for (int i = 0; i < STREAMS - 1; i++) {
            p.apply(projection[i], x, n, streams[i]);
            magnitudes(streams[i], n, own);
            for (int t = 0; t < n; t++) {
                for (int e = t * d; e < (t + 1) * d; e++) {
                    streams[i][e] = streams[i][e] * magnitudes[t] / own[t];
                }
            }
        }
    }

    /**
     * Every stream's prediction for layer {@code W}: the modalities of stream 0 mix the four streams,
     * P_j = X_j + Σ_a c[j·4 + a]·X_a with c the prediction coefficients of those modalities.
     */
    void predict(ModelWeights.AltUpWeights W, float[] x, int n, Projection p) {
        int d = c.embeddingLength();
        modalities(W, x, n, p);
        p.apply(W.predictCoef(), modalities, n, coefficients);
        for (int j = 0; j < STREAMS; j++) {
            float[] dst = predictions[j];
            float[] own = stream(x, j);
            for (int t = 0; t < n; t++) {
                int cb = t * STREAMS * STREAMS + j * STREAMS;
                for (int e = t * d; e < (t + 1) * d; e++) {
                    float sum = 0f;
                    for (int a = 0; a < STREAMS; a++) {
                        sum += stream(x, a)[e] * coefficients[cb + a];
                    }
                    dst[e] = sum + own[e];
                }
            }
        }
    }

    /**
     * LAuReL beside attention: the normed active row through the low-rank pair, normed, plus itself, into {@code out}
     * (n rows; {@code in} holds the active prediction normed by the layer's attention norm).
     */
    void laurel(ModelWeights.AltUpWeights W, float[] in, int n, float[] out, Projection p) {
        int d = c.embeddingLength();
        int r = W.laurelLeft().rows();
        if (rank.length < n * r) {
            rank = new float[n * r];
        }
        p.apply(W.laurelLeft(), in, n, rank);
        p.apply(W.laurelRight(), rank, n, out);
        for (int t = 0; t < n; t++) {
            k.rmsnorm(out, t * d, out, t * d, W.laurelPostNorm(), d, c.rmsEps());
        }
        k.add(out, 0, in, 0, n * d);
    }

    /**
     * Corrects every stream by what the layer did: with {@code activated} the layer's output from the active
     * prediction, X_j = (activated − P_0)·(c_j + 1) + P_j, c the correction coefficients of activated's modalities.
     * Leaves stream 0 in {@code x}.
     */
    void correct(ModelWeights.AltUpWeights W, float[] x, float[] activated, int n, Projection p) {
        int d = c.embeddingLength();
        modalities(W, activated, n, p);
        p.apply(W.correctCoef(), modalities, n, coefficients);
        float[] p0 = predictions[0];
        for (int j = 0; j < STREAMS; j++) {
            float[] dst = stream(x, j);
            float[] pj = predictions[j];
            for (int t = 0; t < n; t++) {
                float cj = coefficients[t * STREAMS + j] + 1f;
                for (int e = t * d; e < (t + 1) * d; e++) {
                    dst[e] = (activated[e] - p0[e]) * cj + pj[e];
                }
            }
        }
    }

    /** Adds {@code v} (n rows) to streams 1–3, as the per-layer input joins them. */
    void addToOthers(float[] v, int n) {
        for (float[] s : streams) {
            k.add(s, 0, v, 0, n * c.embeddingLength());
        }
    }

    /**
     * The streams back into {@code x}: streams 1–3 through their unembedding projections, each rescaled to stream 0's
     * magnitude, added to stream 0 in order and averaged.
     */
    void merge(float[] x, int n, WeightMatrix[] unembedding, Projection p) {
        int d = c.embeddingLength();
        magnitudes(x, n, magnitudes);
        float[] own = new float[n];
        for (int i = 0; i < STREAMS - 1; i++) {
            p.apply(unembedding[i], streams[i], n, projected);
            magnitudes(projected, n, own);
            for (int t = 0; t < n; t++) {
                for (int e = t * d; e < (t + 1) * d; e++) {
                    x[e] += projected[e] * magnitudes[t] / own[t];
                }
            }
        }
        k.scale(x, 0, n * d, 1f / STREAMS);
    }

    /** Per row, tanh of the router on the row normed by the router's norm and divided by the embedding width. */
    private void modalities(ModelWeights.AltUpWeights W, float[] x, int n, Projection p) {
        int d = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            k.rmsnorm(normed, t * d, x, t * d, W.routerNorm(), d, c.rmsEps());
        }
        k.scale(normed, 0, n * d, 1f / d);
        p.apply(W.router(), normed, n, modalities);
        for (int i = 0; i < n * STREAMS; i++) {
            modalities[i] = (float) Math.tanh(modalities[i]);
        }
    }

    private float[] stream(float[] x, int j) {
        return j == 0 ? x : streams[j - 1];
    }

    /** Each row's Euclidean norm: the squares in float, summed in double as ggml's sum_rows does. */
    private void magnitudes(float[] v, int n, float[] out) {
        int d = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            double sum = 0;
            for (int e = t * d; e < (t + 1) * d; e++) {
                float sq = v[e] * v[e];
                sum += sq;
            }
            out[t] = (float) Math.sqrt((float) sum);
        }
    }

    /** A row vector of ones of the embedding width, for norms without a weight. */
    float[] ones() {
        return ones;
    }
}
