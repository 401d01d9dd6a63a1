package dev.vellama.runtime.model;

import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufMetadata;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.Kernels;
import dev.vellama.quant.WeightMatrix;
import dev.vellama.runtime.UnsupportedModelException;

/**
 * BERT's encoder, as llama.cpp's {@code build_bert} computes it for embeddings: token + position + token-type-0
 * embeddings under a LayerNorm, then per layer bidirectional multi-head attention with biases, a residual and a
 * LayerNorm, a GELU feed-forward with biases, a residual and a LayerNorm (post-norm). No final norm: the last
 * layer's output is what embeddings pool. {@code nomic-bert} is the same frame with no position table but NEOX RoPE
 * on q and k, one fused q|k|v matrix, no biases, and a SwiGLU feed-forward. One sequence per call; not thread-safe.
 */
public final class BertPass {
    private final int d;
    private final int heads;
    private final int ff;
    private final int layers;
    private final int context;
    private final float eps;
    private final Kernels k;
    private final WeightMatrix tokenEmbedding;
    private final float[] typeRow0;
    private final WeightMatrix positions;
    private final float[] embNorm;
    private final float[] embNormBias;
    private final Layer[] layer;
    private final boolean nomic;
    private final float ropeBase;

    private record Layer(WeightMatrix wq, float[] bq, WeightMatrix wk, float[] bk, WeightMatrix wv, float[] bv,
                         WeightMatrix wo, float[] bo, float[] attnNorm, float[] attnNormBias, WeightMatrix up,
                         float[] upBias, WeightMatrix down, float[] downBias, float[] outNorm, float[] outNormBias,
                         WeightMatrix qkv, WeightMatrix gate) {}

    /** Reads a {@code bert} or {@code nomic-bert} GGUF's hyper-parameters and the tensors llama.cpp requires. */
    public BertPass(GgufFile file, Kernels kernels) {
        GgufMetadata md = file.metadata();
        String arch = file.architecture();
        this.nomic = arch.equals("nomic-bert");
        String p0 = arch + ".";
        this.d = md.getInt(p0 + "embedding_length");
        this.heads = md.getInt(p0 + "attention.head_count");
        this.ff = md.getInt(p0 + "feed_forward_length");
        this.layers = md.getInt(p0 + "block_count");
        this.context = md.getInt(p0 + "context_length");
        this.eps = md.getFloat(p0 + "attention.layer_norm_epsilon", 1e-12f);
        this.ropeBase = md.getFloat(p0 + "rope.freq_base", 10000f);
        if (d % heads != 0) {
            throw new UnsupportedModelException(arch + ": embedding length " + d + " is not a multiple of " + heads + " heads");
        }
        if (md.getBool(p0 + "attention.causal", false)) {
            throw new UnsupportedModelException(arch + ": a causal encoder is not supported");
        }
        this.k = kernels;
        this.tokenEmbedding = WeightMatrix.of(ModelWeights.tensor(file, "token_embd.weight"));
        this.typeRow0 = new float[d];
        GgufTensor types = ModelWeights.tensor(file, "token_types.weight");
        Dequantizer.dequantize(types.type(), types.data(), 0, typeRow0, 0, d);
        this.positions = nomic ? null : WeightMatrix.of(ModelWeights.tensor(file, "position_embd.weight"));
        if (tokenEmbedding.cols() != d || positions != null && (positions.rows() < context || positions.cols() != d)) {
            throw new UnsupportedModelException(arch + ": embedding tables do not match the embedding length " + d);
        }
        this.embNorm = ModelWeights.vector(file, "token_embd_norm.weight", d);
        this.embNormBias = ModelWeights.vector(file, "token_embd_norm.bias", d);
        this.layer = new Layer[layers];
        for (int i = 0; i < layers; i++) {
            String p = "blk." + i + ".";
            if (nomic) {
                layer[i] = new Layer(null, null, null, null, null, null,
                        ModelWeights.matrix(file, p + "attn_output.weight", d, d), null,
                        ModelWeights.vector(file, p + "attn_output_norm.weight", d), ModelWeights.vector(file, p + "attn_output_norm.bias", d),
                        ModelWeights.matrix(file, p + "ffn_up.weight", ff, d), null, ModelWeights.matrix(file, p + "ffn_down.weight", d, ff), null,
                        ModelWeights.vector(file, p + "layer_output_norm.weight", d), ModelWeights.vector(file, p + "layer_output_norm.bias", d),
                        ModelWeights.matrix(file, p + "attn_qkv.weight", 3 * d, d), ModelWeights.matrix(file, p + "ffn_gate.weight", ff, d));
            } else {
                layer[i] = new Layer(ModelWeights.matrix(file, p + "attn_q.weight", d, d), ModelWeights.vector(file, p + "attn_q.bias", d),
                        ModelWeights.matrix(file, p + "attn_k.weight", d, d), ModelWeights.vector(file, p + "attn_k.bias", d),
                        ModelWeights.matrix(file, p + "attn_v.weight", d, d), ModelWeights.vector(file, p + "attn_v.bias", d),
                        ModelWeights.matrix(file, p + "attn_output.weight", d, d), ModelWeights.vector(file, p + "attn_output.bias", d),
                        ModelWeights.vector(file, p + "attn_output_norm.weight", d), ModelWeights.vector(file, p + "attn_output_norm.bias", d),
                        ModelWeights.matrix(file, p + "ffn_up.weight", ff, d), ModelWeights.vector(file, p + "ffn_up.bias", ff),
                        ModelWeights.matrix(file, p + "ffn_down.weight", d, ff), ModelWeights.vector(file, p + "ffn_down.bias", d),
                        ModelWeights.vector(file, p + "layer_output_norm.weight", d), ModelWeights.vector(file, p + "layer_output_norm.bias", d),
                        null, null);
            }
        }
    }

    public int embeddingLength() {
        return d;
    }

    /** The longest sequence the position table covers. */
    public int contextLength() {
        return context;
    }

    /** The last layer's output for every token of one sequence, row-major [token][embedding]. */
    public float[] forward(int[] tokens) {
        return forward(tokens, new int[] {0, tokens.length});
    }

    /**
     * Several sequences in one pass: {@code tokens} holds them one after another, sequence i at
     * {@code [bounds[i], bounds[i+1])}. The matrices see every token together (one read of the weights for all);
     * positions restart and attention stays within each sequence, so each result equals that sequence run alone.
     */
    public float[] forward(int[] tokens, int[] bounds) {
        int n = tokens.length;
        int[] from = new int[n];
        int[] until = new int[n];
        for (int i = 0; i + 1 < bounds.length; i++) {
            int len = bounds[i + 1] - bounds[i];
            if (len <= 0 || len > context) {
                throw new dev.vellama.runtime.ContextOverflowException(len + " tokens do not fit the model's " + context + " positions");
            }
            for (int t = bounds[i]; t < bounds[i + 1]; t++) {
                from[t] = bounds[i];
                until[t] = bounds[i + 1];
            }
        }
        if (n == 0 || bounds[0] != 0 || bounds[bounds.length - 1] != n) {
            throw new IllegalArgumentException("the bounds must cover the tokens from 0 to " + n);
        }
        float[] x = new float[n * d];
        float[] row = new float[d];
        for (int t = 0; t < n; t++) {
            if (tokens[t] < 0 || tokens[t] >= tokenEmbedding.rows()) {
                throw new IllegalArgumentException("token " + tokens[t] + " is outside the vocabulary");
            }
            k.dequantizeRow(tokenEmbedding, tokens[t], x, t * d);
            if (positions != null) {
                k.dequantizeRow(positions, t - from[t], row, 0);
            }
            for (int j = 0; j < d; j++) {
                x[t * d + j] += typeRow0[j];
                if (positions != null) {
                    x[t * d + j] = row[j] + x[t * d + j]; // llama.cpp adds the position row last
                }
            }
            layerNorm(x, t * d, embNorm, embNormBias);
        }
        float[] q = new float[n * d];
        float[] kk = new float[n * d];
        float[] v = new float[n * d];
        float[] attn = new float[n * d];
        float[] o = new float[n * d];
        float[] up = new float[n * ff];
        float[] gate = nomic ? new float[n * ff] : null;
        float[] qkv = nomic ? new float[n * 3 * d] : null;
        float[] down = new float[n * d];
        float[] scores = new float[Math.min(n, context)];
        int hd = d / heads;
        float scale = (float) (1 / Math.sqrt(hd));
        for (Layer l : layer) {
            if (nomic) {
                k.matmul(l.qkv(), x, n, qkv);
                for (int t = 0; t < n; t++) {
                    System.arraycopy(qkv, t * 3 * d, q, t * d, d);
                    System.arraycopy(qkv, t * 3 * d + d, kk, t * d, d);
                    System.arraycopy(qkv, t * 3 * d + 2 * d, v, t * d, d);
                    rope(q, t * d, t - from[t], d / heads);
                    rope(kk, t * d, t - from[t], d / heads);
                }
            } else {
                project(l.wq(), l.bq(), x, n, q);
                project(l.wk(), l.bk(), x, n, kk);
                project(l.wv(), l.bv(), x, n, v);
            }
            java.util.Arrays.fill(attn, 0f);
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) {
                    int s0 = from[i];
                    int m = until[i] - s0;
                    for (int j = 0; j < m; j++) {
                        float s = 0;
                        for (int c = 0; c < hd; c++) {
                            s += kk[(s0 + j) * d + h * hd + c] * q[i * d + h * hd + c];
                        }
                        scores[j] = s * scale;
                    }
                    k.softmax(scores, 0, m);
                    for (int j = 0; j < m; j++) {
                        float p = scores[j];
                        for (int c = 0; c < hd; c++) {
                            attn[i * d + h * hd + c] += p * v[(s0 + j) * d + h * hd + c];
                        }
                    }
                }
            }
            project(l.wo(), l.bo(), attn, n, o);
            for (int t = 0; t < n; t++) {
                k.add(o, t * d, x, t * d, d);
                layerNorm(o, t * d, l.attnNorm(), l.attnNormBias());
            }
            project(l.up(), l.upBias(), o, n, up);
            if (nomic) {
                k.matmul(l.gate(), o, n, gate);
                for (int t = 0; t < n; t++) {
                    float[] g = java.util.Arrays.copyOfRange(gate, t * ff, t * ff + ff);
                    float[] u = java.util.Arrays.copyOfRange(up, t * ff, t * ff + ff);
                    k.swiglu(g, u, ff);
                    System.arraycopy(g, 0, up, t * ff, ff);
                }
            } else {
                for (int t = 0; t < n; t++) {
                    k.gelu(up, t * ff, ff);
                }
            }
            project(l.down(), l.downBias(), up, n, down);
            for (int t = 0; t < n; t++) {
                k.add(down, t * d, o, t * d, d);
                layerNorm(down, t * d, l.outNorm(), l.outNormBias());
            }
            System.arraycopy(down, 0, x, 0, n * d);
        }
        return x;
    }

    /** out = W·in (+ bias, when there is one) for each of n rows. */
    private void project(WeightMatrix w, float[] bias, float[] in, int n, float[] out) {
        k.matmul(w, in, n, out);
        if (bias == null) {
            return;
        }
        int rows = w.rows();
        for (int t = 0; t < n; t++) {
            k.add(out, t * rows, bias, 0, rows);
        }
    }

    /**
     * NEOX RoPE of every head of the row at {@code off}, position {@code pos}, as ggml computes its angles: θ starts at
     * the position and is multiplied by base^(−2/head) pair by pair, in float; dimension i pairs with i + head/2.
     */
    private void rope(float[] x, int off, int pos, int hd) {
        float thetaScale = (float) Math.pow(ropeBase, -2.0 / hd);
        for (int h = 0; h < heads; h++) {
            int b = off + h * hd;
            float theta = pos;
            for (int i = 0; i < hd / 2; i++) {
                float c = (float) Math.cos(theta);
                float sn = (float) Math.sin(theta);
                float x0 = x[b + i];
                float x1 = x[b + i + hd / 2];
                x[b + i] = x0 * c - x1 * sn;
                x[b + i + hd / 2] = x0 * sn + x1 * c;
                theta *= thetaScale;
            }
        }
    }

    /** ggml_norm (mean and variance over the row, eps inside the root), then the weight and bias. */
    private void layerNorm(float[] x, int off, float[] w, float[] b) {
        double sum = 0;
        for (int j = 0; j < d; j++) {
            sum += x[off + j];
        }
        float mean = (float) (sum / d);
        double sum2 = 0;
        for (int j = 0; j < d; j++) {
            float c = x[off + j] - mean;
            x[off + j] = c;
            sum2 += (double) c * c;
        }
        float variance = (float) (sum2 / d);
        float s = (float) (1.0 / Math.sqrt(variance + eps));
        for (int j = 0; j < d; j++) {
            x[off + j] = x[off + j] * s * w[j] + b[j];
        }
    }
}
