package dev.vellama.runtime;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The transformer architectures this runtime runs, as GGUF names them ({@code general.architecture}), each a set
 * of options of the one forward pass ({@code ForwardPass}) rather than an implementation of its own. The options:
 * <ul>
 * <li>{@code ropeStyle}: how RoPE pairs the dimensions of a head</li>
 * <li>{@code qkvBias}: q, k and v projections carry biases the file must have</li>
 * <li>{@code qkNorm}: per-head RMSNorm of q and k before RoPE</li>
 * <li>{@code fusedQkv}: one {@code attn_qkv} matrix holds q, k and v</li>
 * <li>{@code fusedGateUp}: {@code ffn_up} holds gate and up (2·n_ff rows), there is no {@code ffn_gate}</li>
 * <li>{@code postNorms}: extra RMSNorms on the attention and feed-forward outputs before the residual adds</li>
 * <li>{@code geluFeedForward}: the gate goes through GELU (tanh form) instead of SiLU</li>
 * <li>{@code scaleEmbedding}: embeddings are multiplied by sqrt(n_embd)</li>
 * <li>{@code tiedOutput}: the output projection is always the token embedding</li>
 * </ul>
 * The mixture-of-experts families replace the feed-forward block by routed experts ({@link #mixtureOfExperts()});
 * how they weight their chosen experts is {@link #normalizesExpertWeights()}.
 */
public enum Architecture {
    /** Llama 2/3.x, Mistral, SmolLM, TinyLlama: interleaved RoPE pairs, optional rope_freqs. */
    LLAMA("llama", RopeStyle.NORMAL, false, false, false, false, false, false, false, false),
    /** Qwen2/2.5: q/k/v biases, NEOX RoPE. */
    QWEN2("qwen2", RopeStyle.NEOX, true, false, false, false, false, false, false, false),
    /** Qwen3: per-head q/k RMSNorm, NEOX RoPE, head size from key_length. */
    QWEN3("qwen3", RopeStyle.NEOX, false, true, false, false, false, false, false, false),
    /** Phi-3: fused qkv and gate|up matrices, NEOX RoPE with LongRoPE factors, sliding-window attention. */
    PHI3("phi3", RopeStyle.NEOX, false, false, true, true, false, false, false, false),
    /** Gemma 2: scaled embeddings, GELU, post-norms, soft-capped attention and logits, sliding window on even layers. */
    GEMMA2("gemma2", RopeStyle.NEOX, false, false, false, false, true, true, true, true),
    /** Gemma 3: Gemma 2's layout with q/k norms, no attention soft-cap, 5 of 6 layers sliding-window. */
    GEMMA3("gemma3", RopeStyle.NEOX, false, true, false, false, true, true, true, true),
    /** Qwen1.5/Qwen2 MoE: Qwen2's attention; routed experts plus a shared expert behind a sigmoid gate. */
    QWEN2MOE("qwen2moe", RopeStyle.NEOX, true, false, false, false, false, false, false, false),
    /** Qwen3 MoE (Qwen3-30B-A3B, 235B-A22B): Qwen3's attention; routed experts, chosen weights renormalised. */
    QWEN3MOE("qwen3moe", RopeStyle.NEOX, false, true, false, false, false, false, false, false),
    /** SmolLM3: Llama's layout; every fourth layer attends without RoPE (NoPE layers). */
    SMOLLM3("smollm3", RopeStyle.NORMAL, false, false, false, false, false, false, false, false),
    /**
     * gpt-oss (OpenAI's open-weight MoE): q/k/v and output biases, a learned attention sink per head, a sliding
     * window on even layers, YaRN RoPE; experts with biases and a clamped SwiGLU, weighted by a softmax over the
     * chosen experts' router logits (router bias included).
     */
    GPT_OSS("gpt-oss", RopeStyle.NEOX, true, false, false, false, false, false, false, false),
    /**
     * Mistral 3 (Ministral 3): Llama's layout with YaRN scaling (its magnitude set by yarn_log_multiplier) and, where
     * the file gives a temperature scale, queries scaled up with the position (Llama 4's attention temperature).
     */
    MISTRAL3("mistral3", RopeStyle.NORMAL, false, false, false, false, false, false, false, false),
    /**
     * GLM-4.5/4.6/4.7 (and their Air models): q/k/v biases, partial NEOX RoPE, optional q/k norms, leading dense layers
     * then experts chosen by sigmoid scores plus a selection bias, with always-on shared experts; the file's last
     * {@code nextn_predict_layers} blocks are multi-token-prediction heads, not layers of the model.
     */
    GLM4MOE("glm4moe", RopeStyle.NEOX, false, false, false, false, false, false, false, false),
    /**
     * Llama 4 (Scout, Maverick): every fourth layer attends without RoPE over the whole context, its queries scaled
     * by a temperature that grows with the position; the others rotate, L2-normalise q and k, and attend within chunks
     * of 8192 positions. Mixture-of-experts layers every {@code interleave_moe_layer_step}: sigmoid-weighted experts
     * applied to the weighted input, plus an always-on shared expert.
     */
    LLAMA4("llama4", RopeStyle.NORMAL, false, false, false, false, false, false, false, false),
    /**
     * Qwen3.5 (0.8B to 27B): three of every four layers are linear attention, a gated delta rule over a recurrent
     * state per head fed by a short causal convolution ({@link ModelConfig.DeltaNet}); the fourth attends over the
     * KV cache with q/k norms, partial interleaved multi-section RoPE and an output gated by a sigmoid of a second
     * half of the query projection. The feed-forward pre-norm is {@code post_attention_norm}.
     */
    QWEN35("qwen35", RopeStyle.NEOX, false, true, false, false, false, false, false, false),
    /** Qwen3.5 MoE (35B-A3B, 122B-A10B, 397B-A17B): Qwen3.5's layers with routed experts and a gated shared expert. */
    QWEN35MOE("qwen35moe", RopeStyle.NEOX, false, true, false, false, false, false, false, false),
    /**
     * Gemma 4: Gemma 3's norms, GELU and scaled embeddings, with shapes that differ per layer (sliding layers with
     * smaller heads and more kv heads than the global ones, a pattern the file lists), values RMS-normed without a
     * weight (and equal to the keys' projection where a layer has no attn_v), the last layers reading earlier layers'
     * caches, per-layer token embeddings, and a scalar on each layer's output ({@link ModelConfig.LayerLayout}).
     */
    GEMMA4("gemma4", RopeStyle.NEOX, false, true, false, false, true, true, true, false),
    /**
     * Gemma 3n: Gemma 4's unscaled attention, weightless value norm, shared caches (from layer 20) and per-layer
     * inputs, with four residual streams (AltUp: each layer predicts all streams from the first, runs on its prediction
     * and corrects the others by what it learned), a low-rank residual beside attention (LAuReL), and the first ten
     * layers' gates sparsified to their top 5% under a Gaussian fit.
     */
    GEMMA3N("gemma3n", RopeStyle.NEOX, false, true, false, false, true, true, true, false);

    private final String ggufName;
    private final RopeStyle ropeStyle;
    private final boolean qkvBias;
    private final boolean qkNorm;
    private final boolean fusedQkv;
    private final boolean fusedGateUp;
    private final boolean postNorms;
    private final boolean geluFeedForward;
    private final boolean scaleEmbedding;
    private final boolean tiedOutput;

    Architecture(String ggufName, RopeStyle ropeStyle, boolean qkvBias, boolean qkNorm, boolean fusedQkv,
                 boolean fusedGateUp, boolean postNorms, boolean geluFeedForward, boolean scaleEmbedding, boolean tiedOutput) {
        this.ggufName = ggufName;
        this.ropeStyle = ropeStyle;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
        this.fusedQkv = fusedQkv;
        this.fusedGateUp = fusedGateUp;
        this.postNorms = postNorms;
        this.geluFeedForward = geluFeedForward;
        this.scaleEmbedding = scaleEmbedding;
        this.tiedOutput = tiedOutput;
    }

    /** {@return the name GGUF files give the architecture in {@code general.architecture}} */
    public String ggufName() { return ggufName; }
    /** {@return how RoPE pairs the dimensions of a head} */
    public RopeStyle ropeStyle() { return ropeStyle; }
    /** {@return whether the q, k and v projections carry biases the file must have} */
    public boolean requiresQkvBias() { return qkvBias; }
    /** {@return whether q and k get a per-head RMSNorm before RoPE} */
    public boolean qkNorm() { return qkNorm; }
    /** {@return whether one {@code attn_qkv} matrix holds q, k and v} */
    public boolean fusedQkv() { return fusedQkv; }
    /** {@return whether {@code ffn_up} holds gate and up (2·n_ff rows) with no {@code ffn_gate}} */
    public boolean fusedGateUp() { return fusedGateUp; }
    /** {@return whether the attention and feed-forward outputs get an RMSNorm before the residual adds} */
    public boolean postNorms() { return postNorms; }
    /** {@return whether the feed-forward gate goes through GELU (tanh form) instead of SiLU} */
    public boolean geluFeedForward() { return geluFeedForward; }
    /** {@return whether token embeddings are multiplied by sqrt(n_embd)} */
    public boolean scaleEmbedding() { return scaleEmbedding; }
    /** {@return whether the output projection is always the token embedding, whatever the file holds} */
    public boolean tiedOutput() { return tiedOutput; }

    /**
     * Whether layer {@code layer} rotates its queries and keys: all layers but SmolLM3's and Llama 4's every fourth (llama.cpp's
     * {@code n_no_rope_layer_step} = 4: layer il skips RoPE when (il + 1) % 4 == 0).
     *
     * @param layer layer index, from 0
     * @return true when the layer applies RoPE
     */
    public boolean ropeLayer(int layer) {
        return this != SMOLLM3 && this != LLAMA4 || (layer + 1) % 4 != 0;
    }

    /** {@return whether every feed-forward block is a mixture of experts chosen per token by a router} */
    public boolean mixtureOfExperts() {
        return this == QWEN2MOE || this == QWEN3MOE || this == GPT_OSS || this == GLM4MOE || this == LLAMA4 || this == QWEN35MOE;
    }

    /**
     * {@return whether the model has linear-attention (gated delta rule) layers beside its attention layers, and its
     * attention layers' query projection carries a sigmoid gate on their output} (Qwen3.5)
     */
    public boolean deltaNet() {
        return this == QWEN35 || this == QWEN35MOE;
    }

    /**
     * {@return whether the experts' gate uses gpt-oss's clamped SwiGLU}: gate clamped above at 7, up clamped to
     * [−7, 7], out = gate·σ(1.702·gate)·(up + 1)
     */
    public boolean clampedSwiglu() {
        return this == GPT_OSS;
    }

    /**
     * {@return the name of the feed-forward block's pre-norm tensor (after {@code blk.N.})}: gpt-oss and GLM store it as
     * {@code post_attention_norm}, which is where it sits, after the attention's residual add
     */
    public String ffnNormName() {
        return this == GPT_OSS || this == GLM4MOE || deltaNet() ? "post_attention_norm.weight" : "ffn_norm.weight";
    }

    /**
     * {@return whether the router's probabilities of the chosen experts are divided by their sum before they weight
     * the experts' outputs} (Qwen3 MoE's {@code norm_topk_prob}; Qwen2 MoE uses them as the softmax gave them)
     */
    public boolean normalizesExpertWeights() {
        return this == QWEN3MOE || this == QWEN35MOE;
    }

    /**
     * Whether layer {@code layer} attends through a sliding window (when the model has one): Gemma 2's and gpt-oss's even layers,
     * all but every sixth of Gemma 3's, every layer of the others.
     *
     * @param layer layer index, from 0
     * @return true when the layer's attention is limited to the window
     */
    public boolean slidingWindowLayer(int layer) {
        return switch (this) {
            case GEMMA2, GPT_OSS -> layer % 2 == 0;
            case GEMMA3 -> (layer + 1) % 6 != 0;
            case LLAMA4 -> (layer + 1) % 4 != 0;
            default -> true;
        };
    }

    /**
     * {@return whether the window of its sliding layers is a fixed chunk rather than the last positions}: Llama 4's
     * token at p sees the positions of its chunk of {@code window} up to p, from ⌊p / window⌋·window
     */
    public boolean chunkedAttention() {
        return this == LLAMA4;
    }

    /**
     * The architecture a model file names.
     *
     * @param name the file's {@code general.architecture} value; null when the key is absent
     * @return the architecture with that GGUF name
     * @throws UnsupportedModelException if the name is null or not one of the supported architectures
     */
    public static Architecture fromGguf(String name) {
        if (name == null) {
            throw new UnsupportedModelException("the model file does not name its architecture (general.architecture)");
        }
        for (Architecture a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        throw new UnsupportedModelException("architecture '" + name + "' is not supported (supported: "
                + Arrays.stream(values()).map(Architecture::ggufName).collect(Collectors.joining(", ")) + ")");
    }

    /** How RoPE pairs the dimensions of a head. */
    public enum RopeStyle {
        /** Pairs (2i, 2i+1): llama.cpp's mode 0. */
        NORMAL,
        /** Pairs (i, i + n_rot/2): llama.cpp's NEOX mode. */
        NEOX
    }
}
