package dev.vellama.runtime.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.quant.Dequantizer;

/**
 * The tensors of a model as float arrays (F32 copied, other types expanded by the quant module's dequantizer,
 * which is checked bit for bit against llama.cpp's), with the fused tensors of phi3 split the way llama.cpp
 * views them: {@code attn_qkv} rows are Q, then K, then V; {@code ffn_up} of 2·n_ff rows is gate then up; Gemma 4's
 * {@code ffn_gate_up_exps} of 2·n_ff_exp rows per expert is gate then up. Optional tensors are null when the file
 * has none (Gemma 4's layers that read an earlier layer's cache have no k, and some layers no v).
 */
final class ReferenceWeights {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final Matrix tokenEmbedding;
    final float[] outputNorm;
    final Matrix output;
    final float[] ropeFreqs;
    final float[] ropeFactorsLong;
    final float[] ropeFactorsShort;
    /**
     * Gemma 4's per-layer inputs: a row per token of n_layer slices ({@code per_layer_token_embd}), the projection
     * of the scaled embedding to the same n_layer slices, and the norm of each projected slice; null without them.
     */
    final Matrix perLayerTokenEmbedding;
    final Matrix perLayerModelProjection;
    final float[] perLayerProjectionNorm;
    /**
     * Gemma 3n: the projections of the scaled embedding to AltUp streams 1, 2, 3 ({@code altup_proj}) and of those
     * streams back after the last layer ({@code altup_unembd_proj}); null for other models.
     */
    final Matrix[] altUpProjection;
    final Matrix[] altUpUnembedding;
    final Layer[] layers;

    /** A row-major matrix: {@code rows} rows of {@code columns} values. */
    record Matrix(float[] values, int rows, int columns) {
        double[] times(double[] x) {
            if (x.length != columns) {
                throw new IllegalArgumentException("vector of " + x.length + " for a matrix of " + columns + " columns");
            }
            double[] y = new double[rows];
            for (int r = 0; r < rows; r++) {
                double s = 0;
                int o = r * columns;
                for (int c = 0; c < columns; c++) {
                    s += values[o + c] * x[c];
                }
                y[r] = s;
            }
            return y;
        }

        double[] row(int r) {
            double[] out = new double[columns];
            for (int c = 0; c < columns; c++) {
                out[c] = values[r * columns + c];
            }
            return out;
        }

        Matrix rows(int from, int count) {
            return new Matrix(Arrays.copyOfRange(values, from * columns, (from + count) * columns), count, columns);
        }
    }

    record Layer(float[] attnNorm, Matrix wq, Matrix wk, Matrix wv, float[] bq, float[] bk, float[] bv,
                 float[] qNorm, float[] kNorm, Matrix wo, float[] postAttnNorm, float[] ffnNorm,
                 Matrix gate, Matrix up, Matrix down, float[] postFfwNorm, Experts experts, float[] bo, float[] sinks,
                 DeltaNet deltaNet, Gemma4 gemma4, Gemma3n gemma3n) {}

    /**
     * What a Gemma 4 layer has beyond the others: its per-layer input's gate ({@code inp_gate}, embedding to slice),
     * projection back ({@code proj}) and norm ({@code post_norm}), null without per-layer inputs; the scalar on its
     * output ({@code layer_output_scale}, 1 without one); and, beside a dense block with experts, the router's
     * input scale ({@code ffn_gate_inp.scale}), the experts' pre-norm ({@code pre_ffw_norm_2}), the post-norms of
     * the dense block ({@code post_ffw_norm_1}) and of the experts ({@code post_ffw_norm_2}) and each expert's down
     * scale ({@code ffn_down_exps.scale}), null without experts.
     */
    record Gemma4(Matrix perLayerGate, Matrix perLayerProjection, float[] perLayerPostNorm, double outputScale,
                  float[] routerScale, float[] expertPreNorm, float[] densePostNorm, float[] expertPostNorm,
                  float[] downScale) {}

    /**
     * What a Gemma 3n layer has beyond a Gemma 3 one: its per-layer input's gate ({@code inp_gate}), projection back
     * ({@code proj}) and norm ({@code post_norm}); LAuReL's low-rank pair ({@code laurel_l}, embedding to rank, and
     * {@code laurel_r}, back) and its norm; the AltUp router ({@code altup_router}, embedding to one modality per
     * stream) and its norm, the prediction coefficients ({@code altup_predict_coef}, modalities to streams²) and the
     * correction coefficients ({@code altup_correct_coef}, modalities to streams), and the scale on the corrected
     * active stream that the per-layer input's gate reads ({@code altup_correct_scale}).
     */
    record Gemma3n(Matrix perLayerGate, Matrix perLayerProjection, float[] perLayerPostNorm, Matrix laurelLeft,
                   Matrix laurelRight, float[] laurelPostNorm, Matrix router, float[] routerNorm, Matrix predictCoef,
                   Matrix correctCoef, float[] correctScale) {}

    /**
     * A Qwen3.5 linear-attention layer: {@code qkv} gives the convolution's channels (queries of all key heads,
     * then keys, then values), {@code gate} the output gate z; the convolution's taps per channel, oldest input
     * first ({@code ssm_conv1d} of [taps, channels]); the β and α projections, dt_bias, a (= −exp(A_log)), the
     * per-head output norm and the output projection.
     */
    record DeltaNet(Matrix qkv, Matrix gate, Matrix conv, Matrix beta, Matrix alpha, float[] dtBias, float[] a,
                    float[] norm, Matrix out) {}

    /** A mixture-of-experts block: the router, each expert's matrices, and the optional shared expert. */
    record Experts(Matrix router, Matrix[] gate, Matrix[] up, Matrix[] down, float[] sharedRouter, Matrix sharedGate,
                   Matrix sharedUp, Matrix sharedDown, float[] routerBias, float[][] gateBias, float[][] upBias,
                   float[][] downBias, float[] selectionBias) {}

    ReferenceWeights(GgufFile file, ReferenceConfig c) {
        tokenEmbedding = matrix(file, "token_embd.weight");
        outputNorm = vector(file, "output_norm.weight");
        // Gemma 2 always projects with the token embedding; other models fall back to it without output.weight.
        output = file.hasTensor("output.weight") && !c.architecture.equals("gemma2")
                ? matrix(file, "output.weight") : tokenEmbedding;
        ropeFreqs = optionalVector(file, "rope_freqs.weight");
        ropeFactorsLong = optionalVector(file, "rope_factors_long.weight");
        ropeFactorsShort = optionalVector(file, "rope_factors_short.weight");
        boolean perLayer = c.perLayerInput > 0;
        perLayerTokenEmbedding = perLayer ? matrix(file, "per_layer_token_embd.weight") : null;
        perLayerModelProjection = perLayer ? matrix(file, "per_layer_model_proj.weight") : null;
        perLayerProjectionNorm = perLayer ? vector(file, "per_layer_proj_norm.weight") : null;
        boolean altUp = c.altUpStreams > 0;
        altUpProjection = altUp ? stacked(file, "altup_proj.weight") : null;
        altUpUnembedding = altUp ? stacked(file, "altup_unembd_proj.weight") : null;
        layers = new Layer[c.layers];
        if (altUp) {
            for (int i = 0; i < c.layers; i++) {
                layers[i] = gemma3nLayer(file, i);
            }
            return;
        }
        if (c.architecture.equals("gemma4")) {
            for (int i = 0; i < c.layers; i++) {
                layers[i] = gemma4Layer(file, c, i);
            }
            return;
        }
        for (int i = 0; i < c.layers; i++) {
            String p = "blk." + i + ".";
            Matrix wq = null;
            Matrix wk = null;
            Matrix wv = null;
            Matrix wo = null;
            DeltaNet deltaNet = null;
            if (c.linearLayer[i]) {
                deltaNet = new DeltaNet(matrix(file, p + "attn_qkv.weight"), matrix(file, p + "attn_gate.weight"),
                        matrix(file, p + "ssm_conv1d.weight"), matrix(file, p + "ssm_beta.weight"),
                        matrix(file, p + "ssm_alpha.weight"), vector(file, p + "ssm_dt.bias"), vector(file, p + "ssm_a"),
                        vector(file, p + "ssm_norm.weight"), matrix(file, p + "ssm_out.weight"));
            } else if (file.hasTensor(p + "attn_qkv.weight")) {
                Matrix qkv = matrix(file, p + "attn_qkv.weight");
                wq = qkv.rows(0, c.queryDim());
                wk = qkv.rows(c.queryDim(), c.kvDim());
                wv = qkv.rows(c.queryDim() + c.kvDim(), c.kvDim());
            } else {
                wq = matrix(file, p + "attn_q.weight");
                wk = matrix(file, p + "attn_k.weight");
                wv = matrix(file, p + "attn_v.weight");
            }
            if (deltaNet == null) {
                wo = matrix(file, p + "attn_output.weight");
            }
            Matrix gate = null;
            Matrix up = null;
            Matrix down = null;
            Experts experts = null;
            if (file.hasTensor(p + "ffn_gate_inp.weight")) {
                boolean shared = file.hasTensor(p + "ffn_gate_shexp.weight");
                experts = new Experts(matrix(file, p + "ffn_gate_inp.weight"), stacked(file, p + "ffn_gate_exps.weight"),
                        stacked(file, p + "ffn_up_exps.weight"), stacked(file, p + "ffn_down_exps.weight"),
                        optionalVector(file, p + "ffn_gate_inp_shexp.weight"),
                        shared ? matrix(file, p + "ffn_gate_shexp.weight") : null,
                        shared ? matrix(file, p + "ffn_up_shexp.weight") : null,
                        shared ? matrix(file, p + "ffn_down_shexp.weight") : null,
                        optionalVector(file, p + "ffn_gate_inp.bias"), perExpert(file, p + "ffn_gate_exps.bias"),
                        perExpert(file, p + "ffn_up_exps.bias"), perExpert(file, p + "ffn_down_exps.bias"),
                        optionalVector(file, p + "exp_probs_b.bias"));
            } else if (file.hasTensor(p + "ffn_gate.weight")) {
                gate = matrix(file, p + "ffn_gate.weight");
                up = matrix(file, p + "ffn_up.weight");
            } else {
                Matrix fused = matrix(file, p + "ffn_up.weight");
                gate = fused.rows(0, c.feedForward);
                up = fused.rows(c.feedForward, c.feedForward);
            }
            if (experts == null) {
                down = matrix(file, p + "ffn_down.weight");
            }
            layers[i] = new Layer(vector(file, p + "attn_norm.weight"), wq, wk, wv,
                    optionalVector(file, p + "attn_q.bias"), optionalVector(file, p + "attn_k.bias"),
                    optionalVector(file, p + "attn_v.bias"),
                    optionalVector(file, p + "attn_q_norm.weight"), optionalVector(file, p + "attn_k_norm.weight"),
                    wo,
                    c.ffnNormName.equals("ffn_norm.weight") ? optionalVector(file, p + "post_attention_norm.weight") : null,
                    vector(file, p + c.ffnNormName), gate, up, down,
                    optionalVector(file, p + "post_ffw_norm.weight"), experts,
                    optionalVector(file, p + "attn_output.bias"), optionalVector(file, p + "attn_sinks.weight"),
                    deltaNet, null, null);
        }
    }

    /**
     * A Gemma 4 layer at its own shape: q always; k, its norm and v only in layers with a cache of their own, v
     * even there optional; a dense block always, and experts beside it where the file routes.
     */
    private static Layer gemma4Layer(GgufFile file, ReferenceConfig c, int i) {
        String p = "blk." + i + ".";
        Experts experts = null;
        float[] routerScale = null;
        float[] expertPreNorm = null;
        float[] densePostNorm = null;
        float[] expertPostNorm = null;
        float[] downScale = null;
        if (c.expertsBesideDense) {
            Matrix[] gateUp = stacked(file, p + "ffn_gate_up_exps.weight");
            Matrix[] gate = new Matrix[gateUp.length];
            Matrix[] up = new Matrix[gateUp.length];
            for (int e = 0; e < gateUp.length; e++) {
                int half = gateUp[e].rows() / 2;
                gate[e] = gateUp[e].rows(0, half);
                up[e] = gateUp[e].rows(half, half);
            }
            experts = new Experts(matrix(file, p + "ffn_gate_inp.weight"), gate, up,
                    stacked(file, p + "ffn_down_exps.weight"), null, null, null, null, null, null, null, null, null);
            routerScale = vector(file, p + "ffn_gate_inp.scale");
            expertPreNorm = vector(file, p + "pre_ffw_norm_2.weight");
            densePostNorm = vector(file, p + "post_ffw_norm_1.weight");
            expertPostNorm = vector(file, p + "post_ffw_norm_2.weight");
            downScale = vector(file, p + "ffn_down_exps.scale");
        }
        boolean perLayer = c.perLayerInput > 0;
        float[] outputScale = optionalVector(file, p + "layer_output_scale.weight");
        Gemma4 extra = new Gemma4(perLayer ? matrix(file, p + "inp_gate.weight") : null,
                perLayer ? matrix(file, p + "proj.weight") : null, perLayer ? vector(file, p + "post_norm.weight") : null,
                outputScale == null ? 1 : outputScale[0], routerScale, expertPreNorm, densePostNorm, expertPostNorm,
                downScale);
        boolean ownsCache = c.kvLayer[i] == i;
        return new Layer(vector(file, p + "attn_norm.weight"), matrix(file, p + "attn_q.weight"),
                ownsCache ? matrix(file, p + "attn_k.weight") : null, optionalMatrix(file, p + "attn_v.weight"),
                null, null, null, vector(file, p + "attn_q_norm.weight"),
                ownsCache ? vector(file, p + "attn_k_norm.weight") : null, matrix(file, p + "attn_output.weight"),
                vector(file, p + "post_attention_norm.weight"), vector(file, p + "ffn_norm.weight"),
                matrix(file, p + "ffn_gate.weight"), matrix(file, p + "ffn_up.weight"), matrix(file, p + "ffn_down.weight"),
                vector(file, p + "post_ffw_norm.weight"), experts, null, null, null, extra, null);
    }

    /**
     * A Gemma 3n layer: q, k and v with per-head q and k norms (llama.cpp requires k and v even in the layers that
     * read an earlier layer's cache), post-norms, a dense GELU block, and what {@link Gemma3n} names.
     */
    private static Layer gemma3nLayer(GgufFile file, int i) {
        String p = "blk." + i + ".";
        Gemma3n extra = new Gemma3n(matrix(file, p + "inp_gate.weight"), matrix(file, p + "proj.weight"),
                vector(file, p + "post_norm.weight"), matrix(file, p + "laurel_l.weight"),
                matrix(file, p + "laurel_r.weight"), vector(file, p + "laurel_post_norm.weight"),
                matrix(file, p + "altup_router.weight"), vector(file, p + "altup_router_norm.weight"),
                matrix(file, p + "altup_predict_coef.weight"), matrix(file, p + "altup_correct_coef.weight"),
                vector(file, p + "altup_correct_scale.weight"));
        return new Layer(vector(file, p + "attn_norm.weight"), matrix(file, p + "attn_q.weight"),
                matrix(file, p + "attn_k.weight"), matrix(file, p + "attn_v.weight"), null, null, null,
                vector(file, p + "attn_q_norm.weight"), vector(file, p + "attn_k_norm.weight"),
                matrix(file, p + "attn_output.weight"), vector(file, p + "post_attention_norm.weight"),
                vector(file, p + "ffn_norm.weight"), matrix(file, p + "ffn_gate.weight"), matrix(file, p + "ffn_up.weight"),
                matrix(file, p + "ffn_down.weight"), vector(file, p + "post_ffw_norm.weight"), null, null, null, null,
                null, extra);
    }

    private static Matrix optionalMatrix(GgufFile file, String name) {
        return file.hasTensor(name) ? matrix(file, name) : null;
    }

    private static float[] floats(GgufFile file, String name) {
        if (!file.hasTensor(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' is missing");
        }
        GgufTensor t = file.tensor(name);
        float[] out = new float[Math.toIntExact(t.elementCount())];
        if (t.type() == GgmlType.F32) {
            MemorySegment.copy(t.data(), F32, 0, out, 0, out.length);
        } else {
            Dequantizer.dequantize(t.type(), t.data(), 0, out, 0, out.length);
        }
        return out;
    }

    private static Matrix matrix(GgufFile file, String name) {
        float[] values = floats(file, name);
        GgufTensor t = file.tensor(name);
        return new Matrix(values, Math.toIntExact(t.rows()), Math.toIntExact(t.columns()));
    }

    /** A 3-D tensor [columns, rows, n] as n matrices of rows × columns. */
    private static Matrix[] stacked(GgufFile file, String name) {
        float[] values = floats(file, name);
        GgufTensor t = file.tensor(name);
        int columns = Math.toIntExact(t.dim(0));
        int rows = Math.toIntExact(t.dim(1));
        Matrix[] out = new Matrix[Math.toIntExact(t.dim(2))];
        for (int e = 0; e < out.length; e++) {
            out[e] = new Matrix(Arrays.copyOfRange(values, e * rows * columns, (e + 1) * rows * columns), rows, columns);
        }
        return out;
    }

    private static float[] vector(GgufFile file, String name) {
        return floats(file, name);
    }

    /** A 2-D bias tensor [width, experts] as one vector per expert, or null when the file has none. */
    private static float[][] perExpert(GgufFile file, String name) {
        if (!file.hasTensor(name)) {
            return null;
        }
        float[] values = floats(file, name);
        GgufTensor t = file.tensor(name);
        int width = Math.toIntExact(t.dim(0));
        float[][] out = new float[Math.toIntExact(t.dim(1))][];
        for (int e = 0; e < out.length; e++) {
            out[e] = Arrays.copyOfRange(values, e * width, (e + 1) * width);
        }
        return out;
    }

    private static float[] optionalVector(GgufFile file, String name) {
        return file.hasTensor(name) ? floats(file, name) : null;
    }
}
