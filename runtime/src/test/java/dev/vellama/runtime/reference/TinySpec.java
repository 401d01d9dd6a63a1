package dev.vellama.runtime.reference;

/**
 * The shape and options of one tiny random model, in the terms of llama.cpp's GGUF metadata and tensor names.
 * Mutable with fluent setters so that a test can derive a variant (one option switched) from a base model;
 * {@link #copy()} before changing a shared spec.
 */
final class TinySpec {
    String name;
    String architecture;
    int embedding = 64;
    int layers = 2;
    int heads = 4;
    int headsKv = 2;
    /** Size of one head ({@code key_length}); 0 writes no key, so llama.cpp's embedding / heads applies. */
    int headDim;
    int feedForward = 128;
    int contextLength = 2048;
    float rmsEps = 1e-5f;
    float ropeBase = 10000f;
    /** Rotated dimensions per head ({@code rope.dimension_count}); 0 means the whole head. */
    int ropeDims;
    boolean tiedOutput;
    boolean qkvBias;
    boolean qkNorm;
    boolean fusedQkv;
    boolean fusedGateUp;
    boolean postNorms;
    /** Writes {@code rope_freqs.weight} as llama.cpp's converter does for Llama 3 RoPE scaling. */
    boolean llama3RopeFreqs;
    /** Writes phi3's {@code rope_factors_long/short.weight}. */
    boolean phi3RopeFactors;
    /** {@code rope.scaling.type}; null writes none of the scaling keys. */
    String ropeScaling;
    float ropeScalingFactor;
    int ropeOriginalContext;
    /** {@code rope.scaling.attn_factor}; 0 writes no key. */
    float ropeAttnFactor;
    /** {@code attention.sliding_window}; 0 writes no key. */
    int slidingWindow;
    /** {@code attn_logit_softcapping}; 0 writes no key. */
    float attnSoftcap;
    /** {@code final_logit_softcapping}; 0 writes no key. */
    float finalSoftcap;
    /** Experts per layer ({@code expert_count}); 0 for a dense model. */
    int experts;
    /** Experts each token runs ({@code expert_used_count}). */
    int expertsUsed;
    /** Width of one expert ({@code expert_feed_forward_length}). */
    int expertFeedForward;
    /** Width of the shared expert ({@code expert_shared_feed_forward_length}); 0 for none. */
    int sharedExpertFeedForward;
    /** Storage type of the expert tensors (F32, or MXFP4 as gpt-oss ships them). */
    dev.vellama.gguf.GgmlType expertType = dev.vellama.gguf.GgmlType.F32;
    /** Standard deviation of the experts' gate and up weights (larger to reach gpt-oss's SwiGLU clamps). */
    float expertGateStd = 0.1f;
    /** {@code rope.scaling.yarn_log_multiplier}; 0 writes no key. */
    float ropeYarnLogMultiplier;
    /** {@code attention.temperature_scale}; 0 writes no key. */
    float attnTemperature;
    /** glm4moe: leading dense layers, always-on shared experts (each {@code expertFeedForward} wide), sigmoid
     * gating with a selection bias, renormalised and scaled weights; 0 / false / 0 write no key. */
    int leadingDense;
    /** llama4: every how many layers one has experts ({@code interleave_moe_layer_step}); 0 writes no key. */
    int moeLayerStep;
    int sharedExpertCount;
    boolean expertWeightsNorm;
    float expertWeightsScale;
    /** Standard deviation of gpt-oss's expert gate and up biases. */
    float expertBiasStd = 0.5f;
    /** qwen35: taps of the linear-attention layers' convolution ({@code ssm.conv_kernel}); 0 for no such layers. */
    int ssmConvKernel;
    /** qwen35: head size of the linear-attention layers ({@code ssm.state_size}). */
    int ssmHeadDim;
    /** qwen35: their key heads ({@code ssm.group_count}) and value heads ({@code ssm.time_step_rank}). */
    int ssmKeyHeads;
    int ssmValueHeads;
    /** qwen35: every how many layers one attends ({@code full_attention_interval}). */
    int fullAttentionInterval;
    /** qwen35: {@code rope.dimension_sections}, four counts; null writes no key. */
    int[] ropeSections;
    /** gemma4: which layers slide ({@code attention.sliding_window_pattern}); null for none of the gemma4 keys. */
    boolean[] slidingPattern;
    /** gemma4: head size and rotated dimensions of the sliding layers ({@code *_swa} keys) and their RoPE base. */
    int headDimSwa;
    int ropeDimsSwa;
    float ropeBaseSwa;
    /** gemma4: kv heads of the global layers (the sliding ones have {@link #headsKv}). */
    int headsKvGlobal;
    /** gemma4: the last layers, which read an earlier layer's cache ({@code attention.shared_kv_layers}). */
    int sharedKvLayers;
    /** gemma4: width of each layer's per-layer input ({@code embedding_length_per_layer_input}); 0 for none. */
    int perLayerInput;
    /** gemma4: pairs of a global head that turn; the others get rope_freqs divisors of 1e30, as the converter writes. */
    int rotatedPairsGlobal;
    /** gemma4: layers written without attn_v, whose values are the keys' projection. */
    int[] layersWithoutValues;
    /** gemma3n: the sliding-window period written as a scalar ({@code attention.sliding_window_pattern}); 0 for none. */
    int slidingPeriod;
    /** Standard deviation of the random matrix weights. */
    float weightStd = 0.1f;
    long seed = 1;

    TinySpec(String name, String architecture) {
        this.name = name;
        this.architecture = architecture;
    }

    TinySpec copy() {
        TinySpec c = new TinySpec(name, architecture);
        c.embedding = embedding;
        c.layers = layers;
        c.heads = heads;
        c.headsKv = headsKv;
        c.headDim = headDim;
        c.feedForward = feedForward;
        c.contextLength = contextLength;
        c.rmsEps = rmsEps;
        c.ropeBase = ropeBase;
        c.ropeDims = ropeDims;
        c.tiedOutput = tiedOutput;
        c.qkvBias = qkvBias;
        c.qkNorm = qkNorm;
        c.fusedQkv = fusedQkv;
        c.fusedGateUp = fusedGateUp;
        c.postNorms = postNorms;
        c.llama3RopeFreqs = llama3RopeFreqs;
        c.phi3RopeFactors = phi3RopeFactors;
        c.ropeScaling = ropeScaling;
        c.ropeScalingFactor = ropeScalingFactor;
        c.ropeOriginalContext = ropeOriginalContext;
        c.ropeAttnFactor = ropeAttnFactor;
        c.slidingWindow = slidingWindow;
        c.attnSoftcap = attnSoftcap;
        c.finalSoftcap = finalSoftcap;
        c.experts = experts;
        c.expertsUsed = expertsUsed;
        c.expertFeedForward = expertFeedForward;
        c.sharedExpertFeedForward = sharedExpertFeedForward;
        c.expertType = expertType;
        c.expertGateStd = expertGateStd;
        c.expertBiasStd = expertBiasStd;
        c.ropeYarnLogMultiplier = ropeYarnLogMultiplier;
        c.leadingDense = leadingDense;
        c.moeLayerStep = moeLayerStep;
        c.sharedExpertCount = sharedExpertCount;
        c.expertWeightsNorm = expertWeightsNorm;
        c.expertWeightsScale = expertWeightsScale;
        c.attnTemperature = attnTemperature;
        c.ssmConvKernel = ssmConvKernel;
        c.ssmHeadDim = ssmHeadDim;
        c.ssmKeyHeads = ssmKeyHeads;
        c.ssmValueHeads = ssmValueHeads;
        c.fullAttentionInterval = fullAttentionInterval;
        c.ropeSections = ropeSections == null ? null : ropeSections.clone();
        c.slidingPattern = slidingPattern == null ? null : slidingPattern.clone();
        c.headDimSwa = headDimSwa;
        c.ropeDimsSwa = ropeDimsSwa;
        c.ropeBaseSwa = ropeBaseSwa;
        c.headsKvGlobal = headsKvGlobal;
        c.sharedKvLayers = sharedKvLayers;
        c.perLayerInput = perLayerInput;
        c.rotatedPairsGlobal = rotatedPairsGlobal;
        c.layersWithoutValues = layersWithoutValues == null ? null : layersWithoutValues.clone();
        c.slidingPeriod = slidingPeriod;
        c.weightStd = weightStd;
        c.seed = seed;
        return c;
    }

    /** The head size the model really has: key_length when written, else embedding / heads as llama.cpp derives it. */
    int effectiveHeadDim() {
        return headDim > 0 ? headDim : embedding / heads;
    }

    int effectiveRopeDims() {
        return ropeDims > 0 ? ropeDims : effectiveHeadDim();
    }

    TinySpec named(String n) {
        name = n;
        return this;
    }

    TinySpec layers(int n) {
        layers = n;
        return this;
    }

    TinySpec slidingWindow(int n) {
        slidingWindow = n;
        return this;
    }

    TinySpec attnSoftcap(float c) {
        attnSoftcap = c;
        return this;
    }

    TinySpec finalSoftcap(float c) {
        finalSoftcap = c;
        return this;
    }

    TinySpec ropeScaling(String type, float factor, int originalContext) {
        ropeScaling = type;
        ropeScalingFactor = factor;
        ropeOriginalContext = originalContext;
        return this;
    }

    @Override
    public String toString() {
        return name + " (" + architecture + ")";
    }
}
