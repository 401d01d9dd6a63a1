package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.Architecture;
import dev.vellama.runtime.RopeScaling;
import dev.vellama.runtime.UnsupportedModelException;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.UnsupportedTensorTypeException;
import dev.vellama.quant.WeightMatrix;

/**
 * The tensors of a model, named as llama.cpp names them. Matrices stay in the mapped file in their own type;
 * small vectors (norms, biases, rope factors) are read once into float arrays. Every shape is checked against the
 * configuration at load, so a wrong file fails here with a message instead of in the middle of a forward pass.
 */
public final class ModelWeights {
    public final WeightMatrix tokenEmbedding;
    public final float[] outputNorm;
    /** The output projection; the token embedding itself when the model ties them. */
    public final WeightMatrix output;
    /** llama3-style RoPE frequency factors (rope_freqs.weight), or null. */
    public final float[] ropeFactors;
    /** LongRoPE factors for contexts beyond / within the original one (Phi-3), or null. */
    public final float[] ropeFactorsLong;
    public final float[] ropeFactorsShort;
    public final Layer[] layers;
    /**
     * Gemma 4's per-layer inputs, or null: each token's row of {@code per_layer_token_embd} (a slice per layer), the
     * projection of the scaled embedding to the same width ({@code per_layer_model_proj}) and the norm of each slice of
     * it ({@code per_layer_proj_norm}).
     */
    public final WeightMatrix perLayerEmbedding;
    public final WeightMatrix perLayerProjection;
    public final float[] perLayerProjectionNorm;
    /**
     * Gemma 3n's AltUp projections, or null: {@code altupProjection[i]} makes stream i + 1 from the embedding
     * ({@code altup_proj}), {@code altupUnembedding[i]} brings it back before the streams are averaged
     * ({@code altup_unembd_proj}); embedding × embedding each.
     */
    public final WeightMatrix[] altupProjection;
    public final WeightMatrix[] altupUnembedding;

    /**
     * One transformer block. Optional parts are null when the architecture has none: with a fused {@code wqkv}
     * there are no wq/wk/wv, with a fused gate|up in {@code up} there is no {@code gate}, and a mixture-of-experts
     * block has {@code experts} instead of gate, up and down. {@code bo} is the attention output's bias and
     * {@code sinks} one learned logit per query head that joins each softmax's denominator (gpt-oss), else null. A
     * linear-attention layer has {@code deltaNet} and none of the attention matrices; a gated-attention layer
     * (Qwen3.5) has a {@code wq} of twice the query width, each head's query followed by its output gate. Gemma 4's
     * layers may lack {@code wv} (the keys' projection serves as values) or, when they read an earlier layer's cache,
     * {@code wk} and {@code kNorm} too; they may take a per-layer input ({@code perLayerInput}) and scale their output by
     * {@code outputScale} (1 for the others).
     */
    public record Layer(float[] attnNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wqkv,
                        WeightMatrix wo, float[] bq, float[] bk, float[] bv, float[] qNorm, float[] kNorm,
                        float[] postAttnNorm, float[] ffnNorm, WeightMatrix gate, WeightMatrix up, WeightMatrix down,
                        float[] postFfnNorm, ExpertWeights experts, float[] bo, float[] sinks, DeltaNetWeights deltaNet,
                        PerLayerInputWeights perLayerInput, float outputScale, AltUpWeights altUp) {}

    /**
     * A Gemma 3n layer's AltUp and LAuReL weights, as llama.cpp names them.
     *
     * @param router         stream count × embedding ({@code altup_router}): the modalities, tanh of the router on
     *                       the active stream normed by {@code routerNorm} and divided by the embedding width
     * @param routerNorm     {@code altup_router_norm}
     * @param predictCoef    streams² × streams ({@code altup_predict_coef}): each stream's mix of all from the modalities
     * @param correctCoef    streams × streams ({@code altup_correct_coef}): how much of the layer's innovation each
     *                       stream takes, less one
     * @param correctScale   the corrected active stream's scale before the per-layer input gate ({@code altup_correct_scale})
     * @param laurelLeft     rank × embedding ({@code laurel_l})
     * @param laurelRight    embedding × rank ({@code laurel_r})
     * @param laurelPostNorm {@code laurel_post_norm}
     */
    public record AltUpWeights(WeightMatrix router, float[] routerNorm, WeightMatrix predictCoef, WeightMatrix correctCoef,
                               float[] correctScale, WeightMatrix laurelLeft, WeightMatrix laurelRight,
                               float[] laurelPostNorm) {}

    /**
     * Where a Gemma 4 layer takes its slice of the per-layer inputs: the layer's output through {@code gate} (slice
     * width × embedding, {@code inp_gate}) and GELU, times the slice, back through {@code projection} (embedding ×
     * slice width, {@code proj}), RMS-normed with {@code postNorm} ({@code post_norm}) and added to the output.
     */
    public record PerLayerInputWeights(WeightMatrix gate, WeightMatrix projection, float[] postNorm) {}

    /**
     * A linear-attention layer (Qwen3.5's gated delta net), tensors as llama.cpp names them.
     *
     * @param qkv   q, k and v of every head, conv channels × embedding ({@code attn_qkv})
     * @param gate  the output gate z, value width × embedding ({@code attn_gate})
     * @param conv  the causal convolution, {@code convKernel} taps per channel, the last tap on the current token
     *              ({@code ssm_conv1d}, [channel][tap])
     * @param beta  the delta rule's write strength per value head before its sigmoid ({@code ssm_beta})
     * @param alpha the decay's input per value head ({@code ssm_alpha})
     * @param dtBias added to alpha before the softplus ({@code ssm_dt.bias})
     * @param a     −exp(A_log) per value head ({@code ssm_a}): the decay's log is a·softplus(alpha + dtBias)
     * @param norm  the RMSNorm of each value head's output, head size ({@code ssm_norm})
     * @param out   the output projection, embedding × value width ({@code ssm_out})
     */
    public record DeltaNetWeights(WeightMatrix qkv, WeightMatrix gate, float[] conv, WeightMatrix beta, WeightMatrix alpha,
                                  float[] dtBias, float[] a, float[] norm, WeightMatrix out) {}

    /**
     * The feed-forward block of a mixture-of-experts layer. Expert {@code e}'s matrices are views of slice
     * {@code e} of the file's 3-D {@code ffn_*_exps} tensors, read in place from the mapping like any matrix.
     *
     * @param router       expert count × embedding ({@code ffn_gate_inp}): the logits that choose the experts
     * @param gate         each expert's gate projection, expert width × embedding
     * @param up           each expert's up projection
     * @param down         each expert's down projection, embedding × expert width
     * @param sharedRouter the shared expert's gate vector ({@code ffn_gate_inp_shexp}), or null where it has none
     *                     (no shared expert, or one that always runs in full, as GLM's)
     * @param sharedGate   the shared expert's gate projection, or null
     * @param sharedUp     the shared expert's up projection, or null
     * @param sharedDown   the shared expert's down projection, or null
     * @param routerBias   added to the router's logits ({@code ffn_gate_inp.bias}), or null
     * @param gateBias     each expert's gate bias, [expert][expert width] ({@code ffn_gate_exps.bias}), or null
     * @param upBias       each expert's up bias, [expert][expert width], or null
     * @param downBias     each expert's down bias, [expert][embedding], or null
     * @param selectionBias added to the scores that choose the experts, not to their weights ({@code exp_probs_b}),
     *                      or null
     * @param gemma4        Gemma 4's norms and scales around experts that run beside the dense block, or null
     */
    public record ExpertWeights(WeightMatrix router, WeightMatrix[] gate, WeightMatrix[] up, WeightMatrix[] down,
                                float[] sharedRouter, WeightMatrix sharedGate, WeightMatrix sharedUp,
                                WeightMatrix sharedDown, float[] routerBias, float[] gateBias, float[] upBias,
                                float[] downBias, float[] selectionBias, Gemma4Experts gemma4) {
        /** {@return the bytes one token reads: the router, {@code used} experts and the shared expert} */
        long bytesPerToken(int used) {
            long sum = router.byteSize() + (long) used * (gate[0].byteSize() + up[0].byteSize() + down[0].byteSize());
            return sharedGate == null ? sum : sum + sharedGate.byteSize() + sharedUp.byteSize() + sharedDown.byteSize();
        }
    }

    /**
     * What a Gemma 4 mixture-of-experts layer adds around its experts, which run beside the dense feed-forward block:
     * the router reads the residual RMS-normed without a weight, scaled by 1/√embedding and by {@code routerScale}
     * ({@code ffn_gate_inp.scale}); the experts read it normed by {@code expertNorm} ({@code pre_ffw_norm_2}); each
     * expert's output is scaled by its {@code downScale} ({@code ffn_down_exps.scale}); the dense block's output is
     * normed by {@code denseOutNorm} ({@code post_ffw_norm_1}) and the experts' sum by {@code expertOutNorm}
     * ({@code post_ffw_norm_2}) before the two are added.
     */
    public record Gemma4Experts(float[] routerScale, float[] expertNorm, float[] downScale, float[] denseOutNorm,
                                float[] expertOutNorm) {}

    public ModelWeights(GgufFile file, ModelConfig c) {
        try {
            int d = c.embeddingLength();
            tokenEmbedding = matrix(file, "token_embd.weight", c.vocabSize(), d);
            outputNorm = vector(file, "output_norm.weight", d);
            Architecture a = c.architecture();
            boolean separateOutput = !a.tiedOutput() && file.hasTensor("output.weight");
            output = separateOutput ? matrix(file, "output.weight", c.vocabSize(), d) : tokenEmbedding;
            // Gemma 4: the global layers' "proportional" RoPE, pairs past the rotated part divided by 1e30
            ropeFactors = file.hasTensor("rope_freqs.weight") ? vector(file, "rope_freqs.weight", c.ropeDims() / 2) : null;
            boolean longRope = c.ropeScaling().type() == RopeScaling.Type.LONGROPE || file.hasTensor("rope_factors_long.weight");
            ropeFactorsLong = longRope ? vector(file, "rope_factors_long.weight", c.ropeDims() / 2) : null;
            ropeFactorsShort = longRope ? vector(file, "rope_factors_short.weight", c.ropeDims() / 2) : null;
            for (String bias : new String[] {"ffn_gate.bias", "ffn_up.bias", "ffn_down.bias"}) {
                if (file.hasTensor("blk.0." + bias)) {
                    throw new UnsupportedModelException("feed-forward biases (" + bias + ") are not supported");
                }
            }
            int perLayer = c.layout().perLayerInput();
            int allLayers = perLayer * c.layerCount();
            perLayerEmbedding = perLayer > 0 ? matrix(file, "per_layer_token_embd.weight", c.vocabSize(), allLayers) : null;
            perLayerProjection = perLayer > 0 ? matrix(file, "per_layer_model_proj.weight", allLayers, d) : null;
            perLayerProjectionNorm = perLayer > 0 ? vector(file, "per_layer_proj_norm.weight", perLayer) : null;
            boolean altup = a == Architecture.GEMMA3N;
            altupProjection = altup ? expertMatrices(file, "altup_proj.weight", 3, d, d) : null;
            altupUnembedding = altup ? expertMatrices(file, "altup_unembd_proj.weight", 3, d, d) : null;
            layers = new Layer[c.layerCount()];
            for (int i = 0; i < layers.length; i++) {
                String p = "blk." + i + ".";
                int ff = c.feedForwardLength()[i];
                boolean bias = a.requiresQkvBias() || file.hasTensor(p + "attn_q.bias");
                boolean fused = a.fusedQkv();
                boolean dense = !c.experts().inLayer(i);
                boolean qkNorm = a.qkNorm() || a == Architecture.GLM4MOE && file.hasTensor(p + "attn_q_norm.weight");
                ModelConfig.DeltaNet dn = c.deltaNet();
                if (dn.inLayer(i)) {
                    layers[i] = new Layer(vector(file, p + "attn_norm.weight", d), null, null, null, null, null, null, null,
                            null, null, null, null, vector(file, p + a.ffnNormName(), d),
                            dense ? matrix(file, p + "ffn_gate.weight", ff, d) : null,
                            dense ? matrix(file, p + "ffn_up.weight", ff, d) : null,
                            dense ? matrix(file, p + "ffn_down.weight", d, ff) : null, null,
                            dense ? null : experts(file, p, c), null, null, deltaNet(file, p, dn, d), null, 1f, null);
                    continue;
                }
                if (a == Architecture.GEMMA4 || a == Architecture.GEMMA3N) {
                    layers[i] = gemma4Layer(file, p, c, i);
                    continue;
                }
                int qRows = a.deltaNet() ? 2 * c.queryDim() : c.queryDim(); // Qwen3.5: each head's query, then its gate
                layers[i] = new Layer(
                        vector(file, p + "attn_norm.weight", d),
                        fused ? null : matrix(file, p + "attn_q.weight", qRows, d),
                        fused ? null : matrix(file, p + "attn_k.weight", c.kvDim(), d),
                        fused ? null : matrix(file, p + "attn_v.weight", c.kvDim(), d),
                        fused ? matrix(file, p + "attn_qkv.weight", c.queryDim() + 2 * c.kvDim(), d) : null,
                        matrix(file, p + "attn_output.weight", d, c.queryDim()),
                        bias ? vector(file, p + "attn_q.bias", c.queryDim()) : null,
                        bias ? vector(file, p + "attn_k.bias", c.kvDim()) : null,
                        bias ? vector(file, p + "attn_v.bias", c.kvDim()) : null,
                        qkNorm ? vector(file, p + "attn_q_norm.weight", c.headDim()) : null,
                        qkNorm ? vector(file, p + "attn_k_norm.weight", c.headDim()) : null,
                        a.postNorms() ? vector(file, p + "post_attention_norm.weight", d) : null,
                        vector(file, p + a.ffnNormName(), d),
                        !dense || a.fusedGateUp() ? null : matrix(file, p + "ffn_gate.weight", ff, d),
                        dense ? matrix(file, p + "ffn_up.weight", a.fusedGateUp() ? 2 * ff : ff, d) : null,
                        dense ? matrix(file, p + "ffn_down.weight", d, ff) : null,
                        a.postNorms() ? vector(file, p + "post_ffw_norm.weight", d) : null,
                        dense ? null : experts(file, p, c),
                        a == Architecture.GPT_OSS || a == Architecture.MISTRAL3 && file.hasTensor(p + "attn_output.bias")
                                ? vector(file, p + "attn_output.bias", d) : null,
                        a == Architecture.GPT_OSS ? vector(file, p + "attn_sinks.weight", c.headCount()) : null, null, null, 1f,
                        null);
            }
        } catch (UnsupportedTensorTypeException e) {
            throw new UnsupportedModelException(e.getMessage(), e);
        }
    }

    /**
     * A Gemma 4 (or Gemma 3n) layer at its own shape: k and its norm only where the layer keeps a cache, v only where
     * the file has it, the per-layer input's matrices where the model has per-layer inputs, the output scalar where
     * there is one, and Gemma 3n's AltUp and LAuReL weights.
     */
    private static Layer gemma4Layer(GgufFile file, String p, ModelConfig c, int l) {
        int d = c.embeddingLength();
        int hd = c.headDim(l);
        int ff = c.feedForwardLength()[l];
        boolean owns = c.kvLayer(l) == l;
        int perLayer = c.layout().perLayerInput();
        return new Layer(vector(file, p + "attn_norm.weight", d),
                matrix(file, p + "attn_q.weight", c.queryDim(l), d),
                owns ? matrix(file, p + "attn_k.weight", c.kvDim(l), d) : null,
                owns && file.hasTensor(p + "attn_v.weight") ? matrix(file, p + "attn_v.weight", c.kvDim(l), d) : null,
                null,
                matrix(file, p + "attn_output.weight", d, c.queryDim(l)),
                null, null, null,
                vector(file, p + "attn_q_norm.weight", hd),
                owns ? vector(file, p + "attn_k_norm.weight", hd) : null,
                vector(file, p + "post_attention_norm.weight", d),
                vector(file, p + "ffn_norm.weight", d),
                matrix(file, p + "ffn_gate.weight", ff, d),
                matrix(file, p + "ffn_up.weight", ff, d),
                matrix(file, p + "ffn_down.weight", d, ff),
                vector(file, p + "post_ffw_norm.weight", d),
                c.experts().inLayer(l) ? gemma4Experts(file, p, c) : null, null, null, null,
                perLayer > 0 ? new PerLayerInputWeights(matrix(file, p + "inp_gate.weight", perLayer, d),
                        matrix(file, p + "proj.weight", d, perLayer), vector(file, p + "post_norm.weight", d)) : null,
                file.hasTensor(p + "layer_output_scale.weight") ? vector(file, p + "layer_output_scale.weight", 1)[0] : 1f,
                c.architecture() == Architecture.GEMMA3N ? altUp(file, p, d) : null);
    }

    /** A Gemma 3n layer's AltUp and LAuReL weights; LAuReL's rank is what the file's {@code laurel_l} has. */
    private static AltUpWeights altUp(GgufFile file, String p, int d) {
        int streams = 4;
        int rank = (int) tensor(file, p + "laurel_l.weight").dim(1);
        return new AltUpWeights(matrix(file, p + "altup_router.weight", streams, d), vector(file, p + "altup_router_norm.weight", d),
                matrix(file, p + "altup_predict_coef.weight", streams * streams, streams),
                matrix(file, p + "altup_correct_coef.weight", streams, streams),
                vector(file, p + "altup_correct_scale.weight", d),
                matrix(file, p + "laurel_l.weight", rank, d), matrix(file, p + "laurel_r.weight", d, rank),
                vector(file, p + "laurel_post_norm.weight", d));
    }

    /**
     * A Gemma 4 layer's experts: gate and up of each expert are the two halves of its slice of the fused
     * {@code ffn_gate_up_exps}, gate first, as llama.cpp splits them.
     */
    private static ExpertWeights gemma4Experts(GgufFile file, String p, ModelConfig c) {
        ModelConfig.Experts e = c.experts();
        int d = c.embeddingLength();
        int ff = e.feedForward();
        WeightMatrix[] gateUp = expertMatrices(file, p + "ffn_gate_up_exps.weight", e.count(), 2 * ff, d);
        WeightMatrix[] gate = new WeightMatrix[e.count()];
        WeightMatrix[] up = new WeightMatrix[e.count()];
        for (int x = 0; x < e.count(); x++) {
            WeightMatrix both = gateUp[x];
            long half = ff * both.rowBytes();
            gate[x] = new WeightMatrix(both.name() + ".gate", both.type(), both.data().asSlice(0, half), ff, d);
            up[x] = new WeightMatrix(both.name() + ".up", both.type(), both.data().asSlice(half, half), ff, d);
        }
        return new ExpertWeights(matrix(file, p + "ffn_gate_inp.weight", e.count(), d), gate, up,
                expertMatrices(file, p + "ffn_down_exps.weight", e.count(), d, ff), null, null, null, null, null, null,
                null, null, null,
                new Gemma4Experts(vector(file, p + "ffn_gate_inp.scale", d), vector(file, p + "pre_ffw_norm_2.weight", d),
                        file.hasTensor(p + "ffn_down_exps.scale") ? vector(file, p + "ffn_down_exps.scale", e.count()) : null,
                        vector(file, p + "post_ffw_norm_1.weight", d), vector(file, p + "post_ffw_norm_2.weight", d)));
    }

    private static DeltaNetWeights deltaNet(GgufFile file, String p, ModelConfig.DeltaNet dn, int d) {
        int heads = dn.valueHeads();
        return new DeltaNetWeights(
                matrix(file, p + "attn_qkv.weight", dn.convChannels(), d),
                matrix(file, p + "attn_gate.weight", dn.valueDim(), d),
                vector(file, p + "ssm_conv1d.weight", dn.convKernel() * dn.convChannels()),
                matrix(file, p + "ssm_beta.weight", heads, d),
                matrix(file, p + "ssm_alpha.weight", heads, d),
                vector(file, p + "ssm_dt.bias", heads),
                vector(file, p + "ssm_a", heads),
                vector(file, p + "ssm_norm.weight", dn.headDim()),
                matrix(file, p + "ssm_out.weight", d, dn.valueDim()));
    }

    private static ExpertWeights experts(GgufFile file, String p, ModelConfig c) {
        ModelConfig.Experts e = c.experts();
        int d = c.embeddingLength();
        int ff = e.feedForward();
        int shared = e.sharedFeedForward();
        return new ExpertWeights(
                matrix(file, p + "ffn_gate_inp.weight", e.count(), d),
                expertMatrices(file, p + "ffn_gate_exps.weight", e.count(), ff, d),
                expertMatrices(file, p + "ffn_up_exps.weight", e.count(), ff, d),
                expertMatrices(file, p + "ffn_down_exps.weight", e.count(), d, ff),
                shared > 0 && file.hasTensor(p + "ffn_gate_inp_shexp.weight") ? vector(file, p + "ffn_gate_inp_shexp.weight", d) : null,
                shared > 0 ? matrix(file, p + "ffn_gate_shexp.weight", shared, d) : null,
                shared > 0 ? matrix(file, p + "ffn_up_shexp.weight", shared, d) : null,
                shared > 0 ? matrix(file, p + "ffn_down_shexp.weight", d, shared) : null,
                optionalVector(file, p + "ffn_gate_inp.bias", e.count()),
                optionalVector(file, p + "ffn_gate_exps.bias", e.count() * ff),
                optionalVector(file, p + "ffn_up_exps.bias", e.count() * ff),
                optionalVector(file, p + "ffn_down_exps.bias", e.count() * d),
                e.gating() == ModelConfig.Gating.SIGMOID ? optionalVector(file, p + "exp_probs_b.bias", e.count()) : null,
                null);
    }

    private static float[] optionalVector(GgufFile file, String name, int n) {
        return file.hasTensor(name) ? vector(file, name, n) : null;
    }

    /** The experts of a 3-D tensor [cols, rows, experts], each a matrix over its own slice of the mapping. */
    static WeightMatrix[] expertMatrices(GgufFile file, String name, int experts, int rows, int cols) {
        GgufTensor t = tensor(file, name);
        if (t.dimensions() != 3 || t.dim(0) != cols || t.dim(1) != rows || t.dim(2) != experts) {
            throw new UnsupportedModelException("tensor '" + name + "' has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected [" + cols + ", " + rows + ", " + experts + "]");
        }
        WeightMatrix whole = WeightMatrix.of(t); // checks the type and that every row is whole blocks
        long bytes = rows * whole.rowBytes();
        WeightMatrix[] out = new WeightMatrix[experts];
        for (int e = 0; e < experts; e++) {
            out[e] = new WeightMatrix(name + "[" + e + "]", t.type(), t.data().asSlice(e * bytes, bytes), rows, cols);
        }
        return out;
    }

    static GgufTensor tensor(GgufFile file, String name) {
        if (!file.hasTensor(name)) {
            throw new UnsupportedModelException("tensor '" + name + "' is missing: the file does not have the "
                    + file.architecture() + " layout this runtime expects");
        }
        return file.tensor(name);
    }

    static WeightMatrix matrix(GgufFile file, String name, int rows, int cols) {
        GgufTensor t = tensor(file, name);
        if (t.dimensions() != 2 || t.rows() != rows || t.columns() != cols) {
            throw new UnsupportedModelException("tensor '" + name + "' has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected [" + cols + ", " + rows + "]");
        }
        return WeightMatrix.of(t);
    }

    static float[] vector(GgufFile file, String name, int n) {
        GgufTensor t = tensor(file, name);
        if (t.elementCount() != n) {
            throw new UnsupportedModelException("tensor '" + name + "' has " + t.elementCount() + " values, expected " + n);
        }
        if (t.type() != GgmlType.F32 && t.type() != GgmlType.F16 && t.type() != GgmlType.BF16) {
            throw new UnsupportedModelException("tensor '" + name + "' is " + t.type() + "; norms and biases must be F32, F16 or BF16");
        }
        float[] out = new float[n];
        Dequantizer.dequantize(t.type(), t.data(), 0, out, 0, n);
        return out;
    }

    /**
     * Bytes of weights read for one token of decode: every matrix once, the output projection included; of a
     * mixture of experts the router, the shared expert and {@code usedExperts} of the experts.
     *
     * @param usedExperts experts each token runs (ignored for a dense model)
     * @return the bytes
     */
    public long bytesPerToken(int usedExperts) {
        long sum = output.byteSize() + (perLayerProjection == null ? 0 : perLayerProjection.byteSize());
        for (Layer l : layers) {
            for (WeightMatrix m : new WeightMatrix[] {l.wq, l.wk, l.wv, l.wqkv, l.wo, l.gate, l.up, l.down}) {
                sum += m == null ? 0 : m.byteSize();
            }
            if (l.perLayerInput != null) {
                sum += l.perLayerInput.gate.byteSize() + l.perLayerInput.projection.byteSize();
            }
            if (l.deltaNet != null) {
                DeltaNetWeights n = l.deltaNet;
                for (WeightMatrix m : new WeightMatrix[] {n.qkv, n.gate, n.beta, n.alpha, n.out}) {
                    sum += m.byteSize();
                }
            }
            sum += l.experts == null ? 0 : l.experts.bytesPerToken(usedExperts);
        }
        return sum;
    }
}
