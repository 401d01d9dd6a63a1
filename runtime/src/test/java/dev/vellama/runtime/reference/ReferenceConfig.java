package dev.vellama.runtime.reference;

import dev.vellama.gguf.GgufMetadata;
import dev.vellama.gguf.GgufValue;

/**
 * The hyper-parameters of a model as llama.cpp derives them from GGUF metadata, per architecture, written down
 * independently of the engine's own configuration so that the two can disagree. Defaults and per-architecture
 * rules follow llama.cpp's {@code load_hparams} and graph builders.
 */
final class ReferenceConfig {
    final String architecture;
    final int embedding;
    final int layers;
    final int heads;
    final int headsKv;
    final int headDim;
    final int feedForward;
    final int contextTrain;
    final double rmsEps;

    final boolean neox;
    final int ropeDims;
    final double ropeBase;
    /** 1 / rope.scaling.factor, 1 when unscaled or scaling type "none". */
    final double freqScale;
    final boolean yarn;
    final int originalContext;
    /** rope.scaling.attn_factor: multiplies cos and sin (1 by default). */
    final double ropeAttnFactor;
    final double yarnBetaFast;
    final double yarnBetaSlow;
    /** rope.scaling.yarn_log_multiplier (mscale_all_dim); 0 when absent. */
    final double yarnLogMultiplier;
    /** Queries × (s·ln(⌊pos / floor⌋ + 1) + 1) for s = attention.temperature_scale (mistral3); 0 when absent. */
    final double attnTemperature;
    final int attnTemperatureFloor;
    final double attnTemperatureOffset;
    /** Llama 4: a sliding layer's token sees its chunk of {@code window} up to itself, not the last window. */
    final boolean chunked;

    /** Sliding-window layers and their window (positions p visible from t when t - p < window). */
    final boolean[] slidingLayer;
    final int window;
    /** RoPE base and scale of sliding-window layers (Gemma 3's local layers differ from the global ones). */
    final double swaRopeBase;
    final double swaFreqScale;

    /** Factor on q·k before soft-capping and softmax. */
    final double queryScale;
    /** 0 when attention scores are not soft-capped. */
    final double attnSoftcap;
    /** 0 when logits are not soft-capped. */
    final double finalSoftcap;
    /** Factor on the token embeddings (Gemma's √n_embd), 1 elsewhere. */
    final double embeddingScale;
    /** GELU (tanh form) instead of SiLU as the gate activation. */
    final boolean geluGate;
    /** Gemma's post-attention and post-FFN norms. */
    final boolean postNorms;
    /** Layers that apply RoPE: SmolLM3's every fourth does not (llama.cpp hard-codes n_no_rope_layer_step = 4). */
    final boolean[] ropeLayer;
    /** Experts per layer, 0 for a dense model; how many each token runs; whether their weights are renormalised. */
    final int experts;
    final int expertsUsed;
    boolean normalizeExpertWeights;
    /** Sigmoid scores weight the experts; scores plus the selection bias choose them (glm4moe). */
    final boolean sigmoidGating;
    final boolean weightInputs;
    final boolean l2NormQk;
    /** Factor on the chosen experts' weights (expert_weights_scale). */
    final double expertWeightsScale;
    /** gpt-oss: the top-k of the raw router logits, then a softmax over just those. */
    final boolean softmaxOverChosen;
    /** gpt-oss's SwiGLU: gate clamped above at 7, up to [−7, 7], gate·σ(1.702·gate)·(up + 1). */
    final boolean clampedSwiglu;
    /** The feed-forward pre-norm's tensor name: gpt-oss calls it post_attention_norm. */
    final String ffnNormName;

    /**
     * Qwen3.5: layers that run the gated delta rule (linear attention) instead of attending; every
     * full_attention_interval-th layer (4 unless the file says otherwise) attends, the others do not.
     */
    final boolean[] linearLayer;
    /** Taps of the linear layers' causal convolution (ssm.conv_kernel). */
    final int convKernel;
    /** Key head size (ssm.state_size), key heads (ssm.group_count), value heads (ssm.time_step_rank). */
    final int deltaKeyDim;
    final int deltaKeyHeads;
    final int deltaValueHeads;
    /** Value head size: ssm.inner_size / value heads. */
    final int deltaValueDim;
    /** Qwen3.5's attention: attn_q gives each head's query followed by its output gate, σ(gate) scales the output. */
    final boolean gatedAttention;
    /** Interleaved multi-section RoPE (llama.cpp's IMROPE): pairs per time, height, width and extra section; null for plain RoPE. */
    final int[] ropeSections;

    /**
     * Each layer's head size, kv heads and rotated dimensions: the model's for every layer but in Gemma 4, whose
     * sliding layers have their own ({@code *_swa} keys) and whose kv heads may be listed per layer.
     */
    final int[] layerHeadDim;
    final int[] layerHeadsKv;
    final int[] layerRopeDims;
    /**
     * The layer whose keys and values layer l attends over: l itself, but for Gemma 4's last
     * {@code attention.shared_kv_layers} layers, which compute only queries and read the cache of the last sliding
     * (two before the first shared layer) or global (one before it) layer that has its own; Gemma 3n's likewise from
     * layer 20 on, whatever the file says.
     */
    final int[] kvLayer;
    /**
     * Gemma 4 and Gemma 3n: values RMS-normed per head without a weight; where a Gemma 4 layer has no attn_v, its
     * keys' projection.
     */
    final boolean valueNorm;
    /**
     * Gemma 4: width of each layer's slice of the per-layer inputs ({@code embedding_length_per_layer_input}); Gemma
     * 3n: 256, which llama.cpp fixes; 0 for none.
     */
    final int perLayerInput;
    /** Gemma 3n: the AltUp residual streams (4, stream 0 the active one, as llama.cpp fixes them); 0 for none. */
    final int altUpStreams;
    /**
     * Gemma 3n: the first layers whose FFN gate keeps only what exceeds its mean by {@link #sparsityStdMultiplier}
     * standard deviations (llama.cpp's n_layer_sparsity, fixed at 10); 0 for none.
     */
    final int sparseLayers;
    /** llama.cpp's f_sparsity_std_mul, the normal distribution's 95th percentile as a float. */
    final double sparsityStdMultiplier = 1.6448533535003662;
    /** Gemma 4: experts beside the dense block, routed on the residual (not the FFN input), with their own norms. */
    final boolean expertsBesideDense;

    ReferenceConfig(GgufMetadata m) {
        architecture = m.getString("general.architecture");
        if (!java.util.Set.of("llama", "qwen2", "qwen3", "phi3", "gemma2", "gemma3", "qwen2moe", "qwen3moe", "smollm3", "gpt-oss", "mistral3", "glm4moe", "llama4", "qwen35", "qwen35moe", "gemma4", "gemma3n").contains(architecture)) {
            throw new IllegalArgumentException("the reference has no rules for architecture '" + architecture + "'");
        }
        String a = architecture + ".";
        embedding = m.getInt(a + "embedding_length");
        // glm4moe: the last nextn_predict_layers blocks are multi-token-prediction heads, not layers
        layers = m.getInt(a + "block_count") - (architecture.equals("glm4moe") ? m.getInt(a + "nextn_predict_layers", 0) : 0);
        boolean gemma4 = architecture.equals("gemma4");
        boolean gemma3n = architecture.equals("gemma3n");
        heads = m.getInt(a + "attention.head_count");
        // llama.cpp reads head_count_kv and feed_forward_length as one value or one per layer
        layerHeadsKv = m.contains(a + "attention.head_count_kv") ? m.getIntOrArray(a + "attention.head_count_kv", layers)
                : filled(layers, heads);
        headsKv = layerHeadsKv[0];
        headDim = m.getInt(a + "attention.key_length", embedding / heads);
        if (m.getInt(a + "attention.value_length", embedding / heads) != headDim) {
            throw new IllegalArgumentException("the reference needs value heads as wide as key heads");
        }
        // the width of the first layer's block: what fused gate|up tensors split at (no fused model varies it)
        feedForward = m.getIntOrArray(a + "feed_forward_length", layers)[0];
        contextTrain = m.getInt(a + "context_length");
        rmsEps = m.getFloat(a + "attention.layer_norm_rms_epsilon");

        neox = !architecture.equals("llama") && !architecture.equals("smollm3") && !architecture.equals("mistral3")
                && !architecture.equals("llama4");
        ropeDims = m.getInt(a + "rope.dimension_count", headDim);
        ropeBase = m.getFloat(a + "rope.freq_base", 10000f);
        String scaling = m.getString(a + "rope.scaling.type", "linear");
        float factor = m.getFloat(a + "rope.scaling.factor", m.getFloat(a + "rope.scale_linear", 0f));
        freqScale = scaling.equals("none") || factor == 0f ? 1.0 : 1.0 / factor;
        yarn = scaling.equals("yarn");
        originalContext = m.getInt(a + "rope.scaling.original_context_length", contextTrain);
        ropeAttnFactor = m.getFloat(a + "rope.scaling.attn_factor", 1f);
        yarnBetaFast = m.getFloat(a + "rope.scaling.yarn_beta_fast", 32f);
        yarnBetaSlow = m.getFloat(a + "rope.scaling.yarn_beta_slow", 1f);
        yarnLogMultiplier = m.getFloat(a + "rope.scaling.yarn_log_multiplier", 0f);
        // llama.cpp's mistral3: Llama 4's attention temperature, its floor the YaRN original context
        attnTemperature = architecture.equals("mistral3") ? m.getFloat(a + "attention.temperature_scale", 0f)
                : architecture.equals("llama4") ? 0.1 : 0;
        attnTemperatureFloor = architecture.equals("llama4") ? 8192 : originalContext;
        attnTemperatureOffset = architecture.equals("llama4") ? 1 : 0;
        chunked = architecture.equals("llama4");

        slidingLayer = new boolean[layers];
        int swaWindow = 0;
        double localBase = ropeBase;
        double localScale = freqScale;
        switch (architecture) {
            case "phi3" -> {
                // Every layer slides when the file gives a window (llama.cpp before its Phi SWA switch-off).
                swaWindow = m.getInt(a + "attention.sliding_window", 0);
                java.util.Arrays.fill(slidingLayer, swaWindow > 0);
            }
            case "gemma2" -> {
                swaWindow = m.getInt(a + "attention.sliding_window", 4096);
                markPattern(2);
            }
            case "gemma3" -> {
                swaWindow = m.getInt(a + "attention.sliding_window", 0);
                if (swaWindow > 0) {
                    markPattern(m.getInt(a + "attention.sliding_window_pattern", 6));
                    localBase = m.getFloat(a + "rope.freq_base_swa", 10000f);
                    localScale = 1.0;
                }
            }
            case "llama4" -> {
                // llama.cpp's llama4: chunked attention (LLAMA_SWA_TYPE_CHUNKED) of 8192 on 3 of every 4 layers
                swaWindow = 8192;
                markPattern(4);
            }
            case "gemma4" -> {
                // llama.cpp's gemma4: the pattern lists each layer; the sliding layers' base from the file (10000
                // otherwise) and their freq_scale 1 whatever the model's scaling
                swaWindow = m.getInt(a + "attention.sliding_window");
                GgufValue pattern = m.get(a + "attention.sliding_window_pattern");
                for (int il = 0; il < layers; il++) {
                    slidingLayer[il] = (Boolean) pattern.element(il);
                }
                localBase = m.getFloat(a + "rope.freq_base_swa", 10000f);
                localScale = 1.0;
            }
            case "gemma3n" -> {
                // llama.cpp's gemma3n: period 5 unless the file gives one (the last layer of each period global); the
                // sliding layers' base from the file (10000 otherwise), their freq_scale 1
                swaWindow = m.getInt(a + "attention.sliding_window");
                String patternKey = a + "attention.sliding_window_pattern";
                if (m.contains(patternKey) && m.get(patternKey).isArray()) {
                    throw new IllegalArgumentException("the reference reads gemma3n's sliding pattern as one period");
                }
                markPattern(m.getInt(patternKey, 5));
                localBase = m.getFloat(a + "rope.freq_base_swa", 10000f);
                localScale = 1.0;
            }
            case "gpt-oss" -> {
                // llama.cpp's openai-moe: sliding-window pattern 2 (even layers slide); the local layers keep the
                // model's scaling, with their own base if the file gives one
                swaWindow = m.getInt(a + "attention.sliding_window");
                markPattern(2);
                localBase = m.getFloat(a + "rope.freq_base_swa", (float) ropeBase);
            }
            default -> { }
        }
        window = swaWindow;
        swaRopeBase = localBase;
        swaFreqScale = localScale;

        boolean gemma = architecture.startsWith("gemma");
        // Gemma 27B models scale queries by the width per head of the embedding, all others by the head size.
        boolean gemma27b = (architecture.equals("gemma2") && layers == 46) || (architecture.equals("gemma3") && layers == 62);
        // Gemma 4 and 3n do not scale scores at all (their q and k are RMS-normed per head)
        queryScale = gemma4 || gemma3n ? 1.0 : 1.0 / Math.sqrt(gemma27b ? (double) embedding / heads : headDim);
        attnSoftcap = architecture.equals("gemma2") ? m.getFloat(a + "attn_logit_softcapping", 50f) : 0;
        finalSoftcap = switch (architecture) {
            case "gemma2" -> m.getFloat(a + "final_logit_softcapping", 30f);
            case "gemma3", "gemma4" -> m.getFloat(a + "final_logit_softcapping", 0f);
            case "gemma3n" -> 30; // llama.cpp's default, which its gemma3n never reads from the file
            default -> 0;
        };
        embeddingScale = gemma ? Math.sqrt(embedding) : 1.0;
        geluGate = gemma;
        postNorms = gemma;
        ropeLayer = new boolean[layers];
        for (int il = 0; il < layers; il++) {
            ropeLayer[il] = !architecture.equals("smollm3") && !architecture.equals("llama4") || (il + 1) % 4 != 0;
        }
        boolean moe = architecture.endsWith("moe") || architecture.equals("gpt-oss") || architecture.equals("llama4");
        // gemma4 has experts when the file counts them (26B-A4B), and then beside every dense block
        experts = moe ? m.getInt(a + "expert_count") : gemma4 ? m.getInt(a + "expert_count", 0) : 0;
        expertsUsed = experts > 0 ? m.getInt(a + "expert_used_count") : 0;
        expertsBesideDense = gemma4 && experts > 0;
        // llama.cpp's qwen3moe, qwen35moe and gemma4 graphs pass norm_w = true to build_moe_ffn, qwen2moe's false
        boolean normalize = architecture.equals("qwen3moe") || architecture.equals("qwen35moe") || gemma4;
        normalizeExpertWeights = normalize;
        // openai-moe: LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX_WEIGHT and LLM_FFN_SWIGLU_OAI_MOE
        softmaxOverChosen = architecture.equals("gpt-oss");
        clampedSwiglu = architecture.equals("gpt-oss");
        boolean qwen35 = architecture.startsWith("qwen35");
        ffnNormName = architecture.equals("gpt-oss") || architecture.equals("glm4moe") || qwen35
                ? "post_attention_norm.weight" : "ffn_norm.weight";
        // glm4moe: LLAMA_EXPERT_GATING_FUNC_TYPE_SIGMOID unless the file says 1 (softmax); norm_w from expert_weights_norm
        sigmoidGating = architecture.equals("glm4moe") && m.getInt(a + "expert_gating_func", 2) != 1
                || architecture.equals("llama4");
        // llama.cpp's llama4: the experts' weights scale their inputs (weight_before_ffn); q and k of rotated layers
        // RMS-normed without a weight, but for the 128-expert model
        weightInputs = architecture.equals("llama4");
        l2NormQk = architecture.equals("llama4") && experts != 128;
        if (architecture.equals("glm4moe")) {
            normalizeExpertWeights = m.getBool(a + "expert_weights_norm", false);
        }
        float scale = m.getFloat(a + "expert_weights_scale", 0f);
        expertWeightsScale = scale == 0f ? 1 : scale;

        linearLayer = new boolean[layers];
        gatedAttention = qwen35;
        if (qwen35) {
            int interval = m.getInt(a + "full_attention_interval", 4);
            for (int il = 0; il < layers; il++) {
                linearLayer[il] = (il + 1) % interval != 0;
            }
            convKernel = m.getInt(a + "ssm.conv_kernel");
            deltaKeyDim = m.getInt(a + "ssm.state_size");
            deltaKeyHeads = m.getInt(a + "ssm.group_count");
            deltaValueHeads = m.getInt(a + "ssm.time_step_rank");
            deltaValueDim = m.getInt(a + "ssm.inner_size") / deltaValueHeads;
            if (deltaValueDim != deltaKeyDim || deltaValueHeads % deltaKeyHeads != 0) {
                throw new IllegalArgumentException("the delta rule needs value heads as wide as key heads, and a whole number of them per key head");
            }
            ropeSections = m.getIntArray(a + "rope.dimension_sections");
        } else {
            convKernel = 0;
            deltaKeyDim = 0;
            deltaKeyHeads = 0;
            deltaValueHeads = 0;
            deltaValueDim = 0;
            ropeSections = null;
        }

        layerHeadDim = filled(layers, headDim);
        layerRopeDims = filled(layers, ropeDims);
        kvLayer = new int[layers];
        for (int il = 0; il < layers; il++) {
            kvLayer[il] = il;
        }
        valueNorm = gemma4 || gemma3n;
        perLayerInput = gemma4 ? m.getInt(a + "embedding_length_per_layer_input", 0) : gemma3n ? 256 : 0;
        altUpStreams = gemma3n ? 4 : 0;
        sparseLayers = gemma3n ? 10 : 0;
        if (gemma3n) {
            // llama.cpp's n_layer_kv_from_start = 20: from layer 20 on, the caches of layers 18 (sliding) and 19
            // (global) in its models; what those are here follows from the pattern, as llama.cpp's reuse callback has it.
            // No tiny file has 21 layers, so no test reaches this.
            int firstShared = Math.min(layers, 20);
            for (int il = firstShared; il < layers; il++) {
                kvLayer[il] = firstShared - (slidingLayer[il] ? 2 : 1);
            }
        }
        if (gemma4) {
            int headDimSwa = m.getInt(a + "attention.key_length_swa", headDim);
            if (m.getInt(a + "attention.value_length_swa", headDimSwa) != headDimSwa) {
                throw new IllegalArgumentException("the reference needs value heads as wide as key heads");
            }
            int ropeDimsSwa = m.getInt(a + "rope.dimension_count_swa", ropeDims);
            int firstShared = layers - m.getInt(a + "attention.shared_kv_layers", 0);
            for (int il = 0; il < layers; il++) {
                layerHeadDim[il] = slidingLayer[il] ? headDimSwa : headDim;
                layerRopeDims[il] = slidingLayer[il] ? ropeDimsSwa : ropeDims;
                if (il >= firstShared) {
                    kvLayer[il] = firstShared - (slidingLayer[il] ? 2 : 1);
                }
            }
        }
    }

    private static int[] filled(int n, int value) {
        int[] out = new int[n];
        java.util.Arrays.fill(out, value);
        return out;
    }

    /** llama.cpp's swa pattern n: layer il slides unless il % n == n - 1. */
    private void markPattern(int n) {
        for (int il = 0; il < layers; il++) {
            slidingLayer[il] = il % n < n - 1;
        }
    }

    int queryDim() {
        return heads * headDim;
    }

    int kvDim() {
        return headsKv * headDim;
    }

    int queryDim(int layer) {
        return heads * layerHeadDim[layer];
    }

    int kvDim(int layer) {
        return layerHeadsKv[layer] * layerHeadDim[layer];
    }
}
