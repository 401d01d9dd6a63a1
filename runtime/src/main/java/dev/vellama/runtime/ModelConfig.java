package dev.vellama.runtime;

import dev.vellama.gguf.GgufMetadata;
import dev.vellama.gguf.GgufMetadataException;

/**
 * The hyper-parameters of a model, all read from its GGUF metadata ({@code <arch>.*} keys) with llama.cpp's
 * defaults where a key is optional.
 *
 * @param architecture   the model family ({@code general.architecture}), which picks the graph
 * @param embeddingLength width of the hidden state (embedding_length)
 * @param layerCount     number of transformer blocks (block_count)
 * @param headCount      number of query heads (attention.head_count)
 * @param headCountKv    number of key/value heads (attention.head_count_kv; defaults to headCount, fewer for
 *                       grouped-query attention, and always a divisor of headCount)
 * @param headDim        size of one attention head (key_length; defaults to embedding / heads)
 * @param feedForwardLength width of the feed-forward layer, one entry per layer (feed_forward_length, a single
 *                       value repeated when the file stores one)
 * @param contextLength  the context the model was trained with, in tokens (context_length)
 * @param vocabSize      number of tokens in the vocabulary, as the tokenizer counts them (the logits' width)
 * @param rmsEps         epsilon added in RMS normalization (attention.layer_norm_rms_epsilon)
 * @param ropeBase       RoPE frequency base θ (rope.freq_base; default 10000)
 * @param ropeDims       dimensions of each head that RoPE rotates (rope.dimension_count; defaults to headDim)
 * @param ropeScaling    how positions are stretched beyond the training context (rope.scaling.*)
 * @param ropeBaseLocal  RoPE base of sliding-window layers where it differs (Gemma 3: 10000), else ropeBase
 * @param attentionScale factor applied to q·k (attention.scale; defaults to 1/sqrt(headDim))
 * @param slidingWindow  positions a sliding-window layer sees (0: none)
 * @param attnSoftcap    soft-cap c of attention scores, c·tanh(s/c) (0: none)
 * @param finalSoftcap   soft-cap of the output logits (0: none)
 * @param experts        the mixture of experts that replaces the feed-forward block; {@link Experts#NONE} for a
 *                       dense model
 * @param temperature    the queries' position-dependent temperature (Mistral 3, Llama 4); {@link
 *                       AttentionTemperature#NONE} for the others
 * @param ropeSections   the pairs of each head's rotated dimensions that follow the time, height, width and extra
 *                       positions of multi-section RoPE (rope.dimension_sections, Qwen3.5), four counts; empty for
 *                       plain RoPE. Text has one position, so only pairs in no section stay unrotated.
 * @param deltaNet       the linear-attention layers and their shape (Qwen3.5); {@link DeltaNet#NONE} when every
 *                       layer attends
 * @param layout         shapes that differ from layer to layer (Gemma 4); {@link LayerLayout#NONE} when every layer
 *                       has the shape the scalar components give
 */
public record ModelConfig(Architecture architecture, int embeddingLength, int layerCount, int headCount,
                          int headCountKv, int headDim, int[] feedForwardLength, int contextLength, int vocabSize,
                          float rmsEps, float ropeBase, int ropeDims, RopeScaling ropeScaling, float ropeBaseLocal,
                          float attentionScale, int slidingWindow, float attnSoftcap, float finalSoftcap,
                          Experts experts, AttentionTemperature temperature, int[] ropeSections, DeltaNet deltaNet,
                          LayerLayout layout) {

    /**
     * Attention shapes that differ from layer to layer, as Gemma 4 has them: its sliding-window layers (the file lists
     * which) have heads of {@code headDimLocal} with {@code ropeDimsLocal} of them rotated, while the global layers have
     * the config's {@code headDim} and {@code ropeDims}; kv heads are given per layer; the layers from
     * {@code firstShared} on compute queries only and attend over the cache of the last earlier layer of their kind
     * (llama.cpp's KV reuse); and each layer may take a slice of a per-layer token embedding.
     *
     * @param sliding       per layer, whether it attends through the sliding window
     * @param headCountKv   per layer, its kv heads
     * @param headDimLocal  head size of the sliding layers (attention.key_length_swa)
     * @param ropeDimsLocal rotated dimensions of a sliding layer's head (rope.dimension_count_swa)
     * @param firstShared   the first layer that keeps no keys and values of its own (the layer count when none)
     * @param perLayerInput width of a layer's slice of the per-layer embeddings (embedding_length_per_layer_input; 0
     *                      for none)
     */
    public record LayerLayout(boolean[] sliding, int[] headCountKv, int headDimLocal, int ropeDimsLocal, int firstShared,
                              int perLayerInput) {
        /** Every layer shaped alike. */
        public static final LayerLayout NONE = new LayerLayout(new boolean[0], new int[0], 0, 0, Integer.MAX_VALUE, 0);

        /** {@return whether shapes differ per layer at all} */
        public boolean present() {
            return sliding.length > 0;
        }
    }

    /**
     * The linear-attention layers of Qwen3.5 ({@code <arch>.ssm.*} keys; llama.cpp's gated delta net). Such a layer
     * projects q, k and v, runs them through a causal depthwise convolution of {@code convKernel} taps and SiLU,
     * L2-normalises q and k per head, and updates one {@code headDim × headDim} state per value head by the gated
     * delta rule, S ← e^g·S + k ⊗ β(v − Sᵀk), reading out Sᵀq; the convolution's last inputs and the states are what
     * a sequence carries from token to token instead of keys and values.
     *
     * @param convKernel taps of the causal convolution (ssm.conv_kernel)
     * @param headDim    size of a key head and of a value head (ssm.state_size)
     * @param keyHeads   query and key heads (ssm.group_count)
     * @param valueHeads value heads (ssm.time_step_rank), a multiple of keyHeads; value head h reads key head
     *                   h mod keyHeads, the tiled order llama.cpp's converter writes
     * @param recurrent  per layer, whether it is a linear-attention layer
     */
    public record DeltaNet(int convKernel, int headDim, int keyHeads, int valueHeads, boolean[] recurrent) {
        /** A model without linear attention. */
        public static final DeltaNet NONE = new DeltaNet(0, 0, 0, 0, new boolean[0]);

        /** {@return whether the model has linear-attention layers at all} */
        public boolean present() {
            return headDim > 0;
        }

        /**
         * Whether layer {@code layer} is a linear-attention layer.
         *
         * @param layer layer index, from 0
         * @return true for a gated-delta-rule layer, false for an attention layer
         */
        public boolean inLayer(int layer) {
            return layer < recurrent.length && recurrent[layer];
        }

        /** {@return the width of all query (or key) heads together} */
        public int keyDim() {
            return keyHeads * headDim;
        }

        /** {@return the width of all value heads together} */
        public int valueDim() {
            return valueHeads * headDim;
        }

        /** {@return the convolution's channels: q, k and v together} */
        public int convChannels() {
            return 2 * keyDim() + valueDim();
        }

        /** {@return the floats of one layer's delta-rule states, all value heads} */
        public int stateSize() {
            return valueHeads * headDim * headDim;
        }

        /** {@return the floats of one layer's convolution state: the last convKernel − 1 inputs of every channel} */
        public int convStateSize() {
            return (convKernel - 1) * convChannels();
        }
    }

    /**
     * Llama 4's attention temperature, which Mistral 3 took over: queries multiplied by
     * s·ln(⌊(pos + offset) / floor⌋ + 1) + 1, so that long contexts do not flatten attention.
     *
     * @param scale  s (attention.temperature_scale); 0 for none
     * @param floor  positions per step: the original context of the RoPE scaling (Mistral 3), 8192 (Llama 4)
     * @param offset added to the position before the step is taken (Llama 4: 1)
     */
    public record AttentionTemperature(float scale, int floor, float offset) {
        /** No temperature: queries as they are. */
        public static final AttentionTemperature NONE = new AttentionTemperature(0f, 1, 0f);

        /** {@return whether queries are scaled at all} */
        public boolean present() {
            return scale != 0f;
        }

        /**
         * The factor on the queries at position {@code pos}: 1 without a temperature.
         *
         * @param pos the token's position
         * @return s·ln(⌊(pos + offset) / floor⌋ + 1) + 1, computed in double and rounded once, as llama.cpp fills it
         */
        public float at(int pos) {
            return scale == 0f ? 1f : (float) (Math.log(Math.floor((pos + (double) offset) / floor) + 1.0) * scale + 1.0);
        }
    }

    /**
     * The experts of a mixture-of-experts model ({@code <arch>.expert_*} keys): each token's router picks
     * {@code used} of {@code count} gated feed-forward blocks of width {@code feedForward} and sums their outputs
     * weighted by the router's softmax; a shared expert of width {@code sharedFeedForward}, when there is one, runs
     * for every token behind a sigmoid gate of its own.
     *
     * @param count             experts per layer (expert_count); 0 for a dense model
     * @param used              experts each token runs (expert_used_count)
     * @param feedForward       width of one expert (expert_feed_forward_length)
     * @param sharedFeedForward width of the shared expert (expert_shared_feed_forward_length); 0 when there is none
     * @param normalize         whether the chosen experts' probabilities are divided by their sum
     * @param scale             factor on the chosen experts' weights (expert_weights_scale); 1 when unscaled
     * @param gating            how the router's logits become the experts' scores and weights
     * @param leadingDense      layers before the first mixture of experts that have a dense feed-forward block
     *                          (leading_dense_block_count)
     * @param layerStep         every how many layers one is a mixture of experts (interleave_moe_layer_step: layer
     *                          l is when (l + 1) % step == 0); 1 for all, 0 for none
     * @param weightInputs      whether each chosen expert gets its weight applied to its input rather than its
     *                          output (Llama 4)
     */
    public record Experts(int count, int used, int feedForward, int sharedFeedForward, boolean normalize, float scale,
                          Gating gating, int leadingDense, int layerStep, boolean weightInputs) {
        /** A dense model's: no experts. */
        public static final Experts NONE = new Experts(0, 0, 0, 0, false, 1f, Gating.SOFTMAX, 0, 1, false);

        /** {@return whether the model routes its tokens through experts} */
        public boolean present() {
            return count > 0;
        }

        /**
         * Whether layer {@code layer} routes through experts (not one of the leading dense layers).
         *
         * @param layer layer index, from 0
         * @return true for a mixture-of-experts layer
         */
        public boolean inLayer(int layer) {
            // llama.cpp's llama4: a step of 0 makes no layer a mixture of experts
            return present() && layer >= leadingDense && layerStep > 0 && (layer + 1) % layerStep == 0;
        }
    }

    /** How a router's logits become expert scores (which choose) and weights (which mix), as llama.cpp names them. */
    public enum Gating {
        /** The softmax over all experts both chooses and weights (Qwen MoE). */
        SOFTMAX,
        /** The largest logits choose; a softmax over just those weights (gpt-oss). */
        SOFTMAX_OVER_CHOSEN,
        /** Sigmoids weight; sigmoid plus the layer's selection bias ({@code exp_probs_b}) chooses (GLM-4.5, DeepSeek V3). */
        SIGMOID
    }

    /** llama.cpp's {@code LLAMA_MAX_LAYERS}: no model it runs has more blocks. */
    static final int MAX_LAYERS = 512;

    /**
     * Reads the configuration from a model file's metadata, with llama.cpp's per-architecture defaults (Gemma's
     * soft-caps and sliding window, the 27B Gemmas' query scale) where keys are absent.
     *
     * @param m         the file's GGUF metadata
     * @param vocabSize number of tokens in the model's tokenizer
     * @return the configuration
     * @throws UnsupportedModelException if the architecture is unknown, a required key is missing or malformed, or
     *                                   the attention shape is one this runtime cannot run
     */
    public static ModelConfig fromGguf(GgufMetadata m, int vocabSize) {
        Architecture arch = Architecture.fromGguf(m.getString("general.architecture", null));
        String p = arch.ggufName() + ".";
        try {
            int embd = m.getInt(p + "embedding_length");
            // GLM's last blocks may be multi-token-prediction heads, which a forward pass does not run
            int layers = m.getInt(p + "block_count")
                    - (arch == Architecture.GLM4MOE || arch.deltaNet() ? m.getInt(p + "nextn_predict_layers", 0) : 0);
            if (layers > MAX_LAYERS) {
                // per-layer arrays are sized from it before any tensor is looked up
                throw new UnsupportedModelException(p + "block_count " + layers + " is over the " + MAX_LAYERS + " layers llama.cpp allows");
            }
            int heads = m.getInt(p + "attention.head_count");
            boolean layered = arch == Architecture.GEMMA4 || arch == Architecture.GEMMA3N;
            int[] headsKvPerLayer = layered && m.contains(p + "attention.head_count_kv")
                    ? m.getIntOrArray(p + "attention.head_count_kv", Math.max(layers, 0)) : null;
            int headsKv = headsKvPerLayer != null ? java.util.Arrays.stream(headsKvPerLayer).max().orElse(0)
                    : m.getInt(p + "attention.head_count_kv", heads);
            int headDim = m.getInt(p + "attention.key_length", heads > 0 ? embd / heads : 0);
            int valueDim = m.getInt(p + "attention.value_length", headDim);
            if (embd <= 0 || layers <= 0 || heads <= 0 || headsKv <= 0 || headDim <= 0 || heads % headsKv != 0) {
                throw new UnsupportedModelException("inconsistent attention shape: embedding " + embd + ", " + layers
                        + " layers, " + heads + " heads, " + headsKv + " kv heads, head size " + headDim);
            }
            if (valueDim != headDim) {
                throw new UnsupportedModelException("value heads of " + valueDim + " differing from key heads of " + headDim + " are not supported");
            }
            // a mixture of experts without dense layers may leave the dense width out (Qwen3.5 MoE's converter does)
            int[] ff = m.contains(p + "feed_forward_length") || !arch.mixtureOfExperts()
                    ? m.getIntOrArray(p + "feed_forward_length", layers) : new int[layers];
            int ctx = m.getInt(p + "context_length");
            float eps = m.getFloat(p + "attention.layer_norm_rms_epsilon");
            float base = m.getFloat(p + "rope.freq_base", 10000f);
            int ropeDims = m.getInt(p + "rope.dimension_count", headDim);
            if (ropeDims > headDim || ropeDims % 2 != 0) {
                throw new UnsupportedModelException("rope.dimension_count " + ropeDims + " does not fit heads of " + headDim);
            }
            RopeScaling scaling = RopeScaling.fromGguf(m, p, ctx);
            float attnScale = m.getFloat(p + "attention.scale", 0f);
            if (attnScale == 0f) {
                // llama.cpp recognizes the 27B Gemmas by their layer count and scales their queries by the width
                // per head instead of the head size
                boolean gemma27b = (arch == Architecture.GEMMA2 && layers == 46) || (arch == Architecture.GEMMA3 && layers == 62);
                attnScale = (float) (1.0 / Math.sqrt(gemma27b ? (double) embd / heads : headDim));
            }
            boolean gemma = arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3 || layered;
            int window = m.getInt(p + "attention.sliding_window", arch == Architecture.GEMMA2 ? 4096 : 0);
            float attnCap = m.getFloat(p + "attn_logit_softcapping", arch == Architecture.GEMMA2 ? 50f : 0f);
            float finalCap = m.getFloat(p + "final_logit_softcapping", arch == Architecture.GEMMA2 ? 30f : 0f);
            if (arch == Architecture.GEMMA3 || layered) {
                attnCap = 0f; // Gemma 3 dropped the attention soft-cap, and its successors have none
            }
            float baseLocal = switch (arch) {
                case GEMMA3, GEMMA3N, GEMMA4 -> m.getFloat(p + "rope.freq_base_swa", 10000f); // llama.cpp's default
                case GPT_OSS -> m.getFloat(p + "rope.freq_base_swa", base);
                default -> base;
            };
            if (arch == Architecture.GPT_OSS && window <= 0) {
                throw new UnsupportedModelException("a gpt-oss model needs its sliding window (gpt-oss.attention.sliding_window)");
            }
            // the engine knows gpt-oss's sliding layers as every second one and Llama 4's as three of four, the
            // periods llama.cpp uses unless the file gives another
            int period = arch == Architecture.GPT_OSS ? 2 : arch == Architecture.LLAMA4 ? 4 : 0;
            String pattern = p + "attention.sliding_window_pattern";
            if (period > 0 && m.contains(pattern) && m.getInt(pattern) != period) {
                throw new UnsupportedModelException("a sliding-window pattern of " + m.getInt(pattern) + " is not supported for "
                        + arch.ggufName() + " (only " + period + ")");
            }
            if (!gemma && arch != Architecture.PHI3 && arch != Architecture.GPT_OSS && arch != Architecture.LLAMA4 && window > 0) {
                window = 0; // llama-family files may state a window their graph does not use
            }
            float temperature = arch == Architecture.MISTRAL3 ? m.getFloat(p + "attention.temperature_scale", 0f) : 0f;
            String sections = p + "rope.dimension_sections";
            int[] ropeSections = new int[0];
            if (arch.deltaNet()) {
                ropeSections = m.contains(sections) ? m.getIntOrArray(sections, 4) : new int[4];
                if (ropeSections.length != 4 || java.util.Arrays.stream(ropeSections).anyMatch(v -> v < 0)) {
                    throw new UnsupportedModelException("rope.dimension_sections must be four counts; the file has "
                            + java.util.Arrays.toString(ropeSections));
                }
            } else if (m.contains(sections) && m.getIntOrArray(sections, 2)[0] > 0 && m.getIntOrArray(sections, 2)[1] > 0) {
                throw new UnsupportedModelException("multi-section RoPE (rope.dimension_sections) is not supported yet");
            }
            if (arch == Architecture.MISTRAL3 && m.getInt(p + "expert_count", 0) > 0) {
                throw new UnsupportedModelException("mistral3 with experts (expert_count > 0) is not supported yet");
            }
            int floor = scaling.originalContext() > 0 ? scaling.originalContext() : ctx;
            float offset = 0f;
            if (arch == Architecture.LLAMA4) {
                // llama.cpp's llama4: chunks of 8192 and the temperature's constants are fixed, whatever the file says
                if (m.contains(p + "attention.sliding_window") && m.getInt(p + "attention.sliding_window") == 0) {
                    throw new UnsupportedModelException("llama4 without chunked attention (attention.sliding_window 0) is not supported yet");
                }
                window = 8192;
                temperature = 0.1f;
                floor = 8192;
                offset = 1f;
            }
            LayerLayout layout = LayerLayout.NONE;
            if (arch == Architecture.GEMMA3N) {
                layout = gemma3nLayout(m, p, layers, heads, headsKvPerLayer, headDim, ropeDims, window);
                attnScale = 1f; // as Gemma 4: the q norm does the scaling
                finalCap = 30f; // llama.cpp's gemma3n always soft-caps at 30, whatever the file says
            }
            if (arch == Architecture.GEMMA4) {
                layout = gemma4Layout(m, p, layers, heads, headsKvPerLayer, headDim, ropeDims, window);
                attnScale = 1f; // llama.cpp's gemma4: the q norm does the scaling, scores are not scaled
            }
            return new ModelConfig(arch, embd, layers, heads, headsKv, headDim, ff, ctx, vocabSize, eps, base, ropeDims,
                    scaling, baseLocal, attnScale, window, attnCap, finalCap, experts(m, p, arch, ff),
                    temperature == 0f ? AttentionTemperature.NONE : new AttentionTemperature(temperature, floor, offset),
                    ropeSections, arch.deltaNet() ? deltaNet(m, p, layers) : DeltaNet.NONE, layout);
        } catch (GgufMetadataException e) {
            throw new UnsupportedModelException("model metadata: " + e.getMessage(), e);
        }
    }

    /** Gemma 3n's fixed parts, as llama.cpp's gemma3n has them whatever the file says. */
    private static final int GEMMA3N_KV_LAYERS = 20;
    private static final int GEMMA3N_PER_LAYER_INPUT = 256;

    /**
     * Gemma 3n's layout, as llama.cpp's gemma3n reads it: one head size for all layers, every fifth layer global (or
     * the period a scalar sliding_window_pattern gives; a per-layer list is ignored, as llama.cpp ignores it), the
     * layers from the 21st on reading the caches of layers 19 and 20, per-layer inputs of 256, four AltUp streams with
     * the first active.
     */
    private static LayerLayout gemma3nLayout(GgufMetadata m, String p, int layers, int heads, int[] headsKv, int headDim,
                                             int ropeDims, int window) {
        String patternKey = p + "attention.sliding_window_pattern";
        int period = m.contains(patternKey) && !m.get(patternKey).isArray() ? m.getInt(patternKey) : 5;
        if (period < 1) {
            throw new UnsupportedModelException("a sliding-window pattern of " + period + " is not valid");
        }
        if (window <= 0) {
            throw new UnsupportedModelException("a gemma3n model needs its sliding window (gemma3n.attention.sliding_window)");
        }
        int streams = m.getInt(p + "altup.num_inputs", 4);
        int active = m.getInt(p + "altup.active_idx", 0);
        int perLayer = m.getInt(p + "embedding_length_per_layer_input", GEMMA3N_PER_LAYER_INPUT);
        if (streams != 4 || active != 0 || perLayer != GEMMA3N_PER_LAYER_INPUT) {
            throw new UnsupportedModelException("gemma3n with " + streams + " AltUp streams (active " + active
                    + ") and per-layer inputs of " + perLayer + " is not supported; llama.cpp's layout has 4, 0 and 256");
        }
        boolean[] sliding = new boolean[layers];
        for (int l = 0; l < layers; l++) {
            sliding[l] = l % period < period - 1;
        }
        int[] kv = headsKv;
        if (kv == null) {
            kv = new int[layers];
            java.util.Arrays.fill(kv, heads);
        }
        int firstShared = Math.min(layers, GEMMA3N_KV_LAYERS);
        if (firstShared < layers && (sliding[firstShared - 1] || !sliding[firstShared - 2])) {
            throw new UnsupportedModelException("gemma3n layers from " + firstShared + " on read the caches of layers "
                    + (firstShared - 2) + " and " + (firstShared - 1) + ", which must be a sliding and a global layer;"
                    + " a sliding-window pattern of " + period + " does not give that");
        }
        for (int l = 0; l < layers; l++) {
            if (kv[l] <= 0 || heads % kv[l] != 0 || l >= firstShared && kv[l] != kv[firstShared - (sliding[l] ? 2 : 1)]) {
                throw new UnsupportedModelException("layer " + l + " has " + kv[l] + " kv heads for " + heads + " heads");
            }
        }
        return new LayerLayout(sliding, kv, headDim, ropeDims, firstShared, perLayer);
    }

    /**
     * Gemma 4's per-layer shapes, as llama.cpp's gemma4 reads them: the sliding layers from the file's list, their head
     * size and rotated dimensions from the _swa keys, kv heads per layer, and the layers that share caches counted
     * from the end (attention.shared_kv_layers).
     */
    private static LayerLayout gemma4Layout(GgufMetadata m, String p, int layers, int heads, int[] headsKv, int headDim,
                                            int ropeDims, int window) {
        String patternKey = p + "attention.sliding_window_pattern";
        dev.vellama.gguf.GgufValue pattern = m.get(patternKey);
        if (!pattern.isArray() || pattern.elementType() != dev.vellama.gguf.GgufValueType.BOOL || pattern.length() < layers) {
            throw new UnsupportedModelException(patternKey + " must list, for each of the " + layers
                    + " layers, whether it slides; the file has " + pattern.typeName());
        }
        boolean[] sliding = java.util.Arrays.copyOf((boolean[]) pattern.value(), layers);
        if (window <= 0) {
            throw new UnsupportedModelException("a gemma4 model needs its sliding window (gemma4.attention.sliding_window)");
        }
        int local = m.getInt(p + "attention.key_length_swa", headDim);
        if (m.getInt(p + "attention.value_length_swa", local) != local) {
            throw new UnsupportedModelException("value heads differing from key heads in sliding layers are not supported");
        }
        int localRope = m.getInt(p + "rope.dimension_count_swa", Math.min(ropeDims, local));
        if (local <= 0 || localRope > local || localRope % 2 != 0) {
            throw new UnsupportedModelException("rope.dimension_count_swa " + localRope + " does not fit sliding heads of " + local);
        }
        int[] kv = headsKv;
        if (kv == null) { // no key: as many kv heads as heads
            kv = new int[layers];
            java.util.Arrays.fill(kv, heads);
        }
        for (int l = 0; l < layers; l++) {
            if (kv[l] <= 0 || heads % kv[l] != 0) {
                throw new UnsupportedModelException("layer " + l + " has " + kv[l] + " kv heads for " + heads + " heads");
            }
        }
        int shared = m.getInt(p + "attention.shared_kv_layers", 0);
        int firstShared = layers - shared;
        // a shared layer reads the last global layer before the shared ones, or the sliding one before that
        if (shared < 0 || shared > 0 && (firstShared < 2 || sliding[firstShared - 1] || !sliding[firstShared - 2])) {
            throw new UnsupportedModelException("attention.shared_kv_layers " + shared + " of " + layers
                    + " layers: the two layers before the shared ones must be a sliding and a global layer");
        }
        for (int l = firstShared; l < layers; l++) {
            int source = firstShared - (sliding[l] ? 2 : 1);
            if (kv[l] != kv[source]) {
                throw new UnsupportedModelException("layer " + l + " shares the cache of layer " + source + " but has "
                        + kv[l] + " kv heads to its " + kv[source]);
            }
        }
        return new LayerLayout(sliding, kv, local, localRope, firstShared, m.getInt(p + "embedding_length_per_layer_input", 0));
    }

    /** Qwen3.5's linear-attention shape, as llama.cpp's qwen35 reads it: every full_attention_interval-th layer attends. */
    private static DeltaNet deltaNet(GgufMetadata m, String p, int layers) {
        int kernel = m.getInt(p + "ssm.conv_kernel");
        int state = m.getInt(p + "ssm.state_size");
        int groups = m.getInt(p + "ssm.group_count");
        int valueHeads = m.getInt(p + "ssm.time_step_rank");
        int inner = m.getInt(p + "ssm.inner_size");
        if (kernel < 1 || kernel > 64 || state < 1 || groups < 1 || valueHeads < 1 || valueHeads % groups != 0
                || (long) state * valueHeads != inner) {
            throw new UnsupportedModelException("inconsistent linear-attention shape: a convolution of " + kernel + " taps, "
                    + groups + " key heads and " + valueHeads + " value heads of " + state + ", inner size " + inner);
        }
        if (m.contains(p + "attention.recurrent_layers")) {
            throw new UnsupportedModelException("a list of recurrent layers (attention.recurrent_layers) is not supported yet;"
                    + " only full_attention_interval");
        }
        int interval = m.getInt(p + "full_attention_interval", 4);
        if (interval < 1) {
            throw new UnsupportedModelException("full_attention_interval " + interval + " is not valid");
        }
        boolean[] recurrent = new boolean[layers];
        for (int l = 0; l < layers; l++) {
            recurrent[l] = (l + 1) % interval != 0;
        }
        return new DeltaNet(kernel, state, groups, valueHeads, recurrent);
    }

    /** The experts a mixture-of-experts file describes, with llama.cpp's defaults; NONE for a dense architecture. */
    private static Experts experts(GgufMetadata m, String p, Architecture arch, int[] ff) {
        // Gemma 4 is one family with dense and mixture-of-experts members (26B-A4B)
        boolean gemma4Experts = arch == Architecture.GEMMA4 && m.getInt(p + "expert_count", 0) > 0;
        if (!arch.mixtureOfExperts() && !gemma4Experts) {
            return Experts.NONE;
        }
        int count = m.getInt(p + "expert_count", 0);
        int used = m.getInt(p + "expert_used_count", 0);
        if (count < 1 || used < 1 || used > count) {
            throw new UnsupportedModelException("a " + arch.ggufName() + " model needs expert_count and expert_used_count"
                    + " with 1 <= used <= count; the file says " + count + " and " + used);
        }
        int width = m.getInt(p + "expert_feed_forward_length", ff[0] / used);
        int shared = arch == Architecture.QWEN2MOE ? m.getInt(p + "expert_shared_feed_forward_length", ff[0])
                : arch == Architecture.QWEN35MOE ? m.getInt(p + "expert_shared_feed_forward_length", 0) : 0;
        if (width < 1 || shared < 0) {
            throw new UnsupportedModelException("expert feed-forward widths " + width + " and " + shared + " are not valid");
        }
        float scale = m.getFloat(p + "expert_weights_scale", 0f);
        boolean normalize = arch.normalizesExpertWeights() || gemma4Experts;
        Gating gating = arch == Architecture.GPT_OSS ? Gating.SOFTMAX_OVER_CHOSEN : Gating.SOFTMAX;
        int leading = 0;
        if (arch == Architecture.GLM4MOE) {
            // llama.cpp's glm4moe: sigmoid unless the file says otherwise, shared experts as wide as expert_shared_count experts
            int func = m.getInt(p + "expert_gating_func", 2);
            gating = switch (func) {
                case 0, 2 -> Gating.SIGMOID;
                case 1 -> Gating.SOFTMAX;
                default -> throw new UnsupportedModelException("expert_gating_func " + func + " is not supported for glm4moe");
            };
            normalize = m.getBool(p + "expert_weights_norm", false);
            shared = width * m.getInt(p + "expert_shared_count", 0);
            leading = m.getInt(p + "leading_dense_block_count", 0);
            if (m.getInt(p + "expert_group_count", 1) > 1) {
                throw new UnsupportedModelException("grouped expert selection (expert_group_count > 1) is not supported yet");
            }
        }
        int step = 1;
        boolean weightInputs = false;
        if (arch == Architecture.LLAMA4) {
            // llama.cpp's llama4: sigmoid weights on the experts' inputs, a shared expert as wide as one expert
            gating = Gating.SIGMOID;
            shared = width;
            step = m.getInt(p + "interleave_moe_layer_step");
            weightInputs = true;
        }
        return new Experts(count, used, width, shared, normalize, scale == 0f ? 1f : scale, gating, leading, step, weightInputs);
    }

    /** {@return the width of all query heads together, heads × head size; the widest layer's where shapes differ} */
    public int queryDim() {
        int max = headCount * headDim;
        for (int l = 0; l < layout.sliding().length; l++) {
            max = Math.max(max, queryDim(l));
        }
        return max;
    }

    /** {@return the width of all key (or value) heads together, kv heads × head size; the widest layer's where shapes differ} */
    public int kvDim() {
        int max = layout.present() ? 0 : headCountKv * headDim;
        for (int l = 0; l < layout.sliding().length; l++) {
            max = Math.max(max, kvDim(l));
        }
        return max;
    }

    /** {@return the largest head size of any layer} */
    public int maxHeadDim() {
        return layout.present() ? Math.max(headDim, layout.headDimLocal()) : headDim;
    }

    /**
     * Whether layer {@code layer} attends through the sliding window.
     *
     * @param layer layer index, from 0
     * @return true when the model has a window and this layer uses it
     */
    public boolean slidingLayer(int layer) {
        return slidingWindow > 0 && (layout.present() ? layout.sliding()[layer] : architecture.slidingWindowLayer(layer));
    }

    /**
     * The head size of layer {@code layer}.
     *
     * @param layer layer index, from 0
     * @return its head size
     */
    public int headDim(int layer) {
        return layout.present() && layout.sliding()[layer] ? layout.headDimLocal() : headDim;
    }

    /**
     * The kv heads of layer {@code layer}.
     *
     * @param layer layer index, from 0
     * @return its kv heads
     */
    public int headCountKv(int layer) {
        return layout.present() ? layout.headCountKv()[layer] : headCountKv;
    }

    /**
     * The width of layer {@code layer}'s query heads together.
     *
     * @param layer layer index, from 0
     * @return heads × its head size
     */
    public int queryDim(int layer) {
        return headCount * headDim(layer);
    }

    /**
     * The width of layer {@code layer}'s key (or value) heads together.
     *
     * @param layer layer index, from 0
     * @return its kv heads × its head size
     */
    public int kvDim(int layer) {
        return headCountKv(layer) * headDim(layer);
    }

    /**
     * The rotated dimensions of each of layer {@code layer}'s heads.
     *
     * @param layer layer index, from 0
     * @return its RoPE dimensions
     */
    public int ropeDims(int layer) {
        return layout.present() && layout.sliding()[layer] ? layout.ropeDimsLocal() : ropeDims;
    }

    /**
     * The layer whose keys and values layer {@code layer} attends over: itself, or for a layer that shares an earlier
     * one's cache, the last layer of its kind (sliding or global) before the shared ones, as llama.cpp's KV reuse has it.
     *
     * @param layer layer index, from 0
     * @return the layer that holds its cache
     */
    public int kvLayer(int layer) {
        if (layer < layout.firstShared()) {
            return layer;
        }
        return layout.firstShared() - (layout.sliding()[layer] ? 2 : 1);
    }

    /** {@return the widest feed-forward layer (an expert's or the shared expert's too), which sizes the scratch buffers} */
    public int maxFeedForward() {
        int max = Math.max(experts.feedForward(), experts.sharedFeedForward());
        // the dense width of a mixture-of-experts file describes no tensor but in its dense layers (and in each of
        // Gemma 4's, whose experts run beside a dense block)
        for (int l = 0; l < feedForwardLength.length; l++) {
            if (!experts.inLayer(l) || architecture == Architecture.GEMMA4) {
                max = Math.max(max, feedForwardLength[l]);
            }
        }
        return max;
    }
}
