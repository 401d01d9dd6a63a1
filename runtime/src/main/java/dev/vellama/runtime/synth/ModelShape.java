package dev.vellama.runtime.synth;

import java.util.List;

/**
 * The published shape of a real model: enough to write a GGUF with the same tensors and metadata.
 *
 * @param name            the shape's name for {@link #named}, such as {@code llama-3.2-1b}; written into
 *                        {@code general.name} after {@code synthetic }
 * @param architecture    {@code general.architecture} ({@code llama}, {@code qwen2}, {@code qwen3}), also the prefix
 *                        of the hyperparameter keys
 * @param sizeLabel       {@code general.size_label}, the parameter count as the model's name gives it ({@code 1B})
 * @param embedding       the hidden size, {@code embedding_length}
 * @param layers          the number of transformer blocks, {@code block_count}
 * @param heads           the number of query heads, {@code attention.head_count}
 * @param headsKv         the number of key/value heads, {@code attention.head_count_kv}; fewer than {@code heads}
 *                        for grouped-query attention
 * @param headDim         the width of one head, written as {@code attention.key_length},
 *                        {@code attention.value_length} and {@code rope.dimension_count}
 * @param feedForward     the feed-forward network's hidden size, {@code feed_forward_length}
 * @param contextLength   the training context in tokens, {@code context_length}
 * @param ropeBase        RoPE's frequency base, {@code rope.freq_base}
 * @param rmsEps          the epsilon of the RMS norms, {@code attention.layer_norm_rms_epsilon}
 * @param tiedEmbeddings  true when the output projection reuses {@code token_embd.weight}, so the file has no
 *                        {@code output.weight}
 * @param qkvBias         true when the query, key and value projections have bias vectors (Qwen 2)
 * @param qkNorm          true when queries and keys get a per-head RMS norm, {@code attn_q_norm} and
 *                        {@code attn_k_norm} (Qwen 3)
 * @param tokenizerModel  which shared model's vocabulary (and chat template) the file borrows
 * @param llama3RopeScaling factor, low/high frequency factors and original context of llama3 RoPE scaling, or null
 * @param experts         the mixture of experts that replaces each feed-forward block, or null for a dense model
 * @param linearAttention the linear-attention layers (Qwen3.5), or null when every layer attends
 * @param gemma4          Gemma 4's layers of two shapes, shared caches and per-layer inputs, or null for another family;
 *                        for Gemma 4, {@code headDim} is the global layers' head ({@code global_head_dim}) and
 *                        {@code headsKv} the sliding layers' kv heads
 * @param gemma3n         Gemma 3n's AltUp streams, LAuReL, sparse gates, shared caches and per-layer inputs, or null
 *                        for another family
 */
public record ModelShape(String name, String architecture, String sizeLabel, int embedding, int layers, int heads,
                         int headsKv, int headDim, int feedForward, int contextLength, float ropeBase, float rmsEps,
                         boolean tiedEmbeddings, boolean qkvBias, boolean qkNorm, String tokenizerModel,
                         float[] llama3RopeScaling, Experts experts, LinearAttention linearAttention, Gemma4 gemma4,
                         Gemma3n gemma3n) {

    /**
     * The gated-delta-rule layers of a Qwen3.5 shape: every fourth layer attends, the others are linear attention.
     *
     * @param keyHeads   query and key heads, {@code ssm.group_count}
     * @param valueHeads value heads, {@code ssm.time_step_rank}
     * @param headDim    the size of each, {@code ssm.state_size}
     */
    public record LinearAttention(int keyHeads, int valueHeads, int headDim) {}

    /**
     * Gemma 4's own parts, as its configuration files ({@code text_config}) state them: sliding layers with smaller
     * heads and a full-attention layer closing each period, the last layers reading earlier layers' caches, and
     * per-layer inputs on the edge models.
     *
     * @param period         layers per period of {@code layer_types}: {@code period - 1} sliding, then one full
     * @param window         the sliding window in tokens, {@code sliding_window}
     * @param headDimSwa     the sliding layers' head size, {@code head_dim}
     * @param headsKvGlobal  the full layers' kv heads, {@code num_global_key_value_heads} (the sliding layers' count
     *                       where the config has none)
     * @param rotaryGlobal   the share of a full layer's head that turns, its {@code partial_rotary_factor}
     *                       ("proportional" RoPE); the sliding layers turn all of theirs
     * @param ropeBaseSwa    the sliding layers' {@code rope_theta}
     * @param valuesFromKeys {@code attention_k_eq_v}: the full layers have no value projection, their values are
     *                       the keys' projection
     * @param sharedKvLayers the last layers, which keep no cache of their own, {@code num_kv_shared_layers}
     * @param perLayerInput  each layer's slice of the per-layer embeddings, {@code hidden_size_per_layer_input}; 0
     *                       for none
     * @param doubleWideMlp  {@code use_double_wide_mlp}: the shared layers' feed-forward is twice as wide
     * @param finalSoftcap   {@code final_logit_softcapping}
     */
    public record Gemma4(int period, int window, int headDimSwa, int headsKvGlobal, float rotaryGlobal, float ropeBaseSwa,
                         boolean valuesFromKeys, int sharedKvLayers, int perLayerInput, boolean doubleWideMlp,
                         float finalSoftcap) {
        /**
         * Whether a layer attends through the sliding window.
         *
         * @param layer layer index, from 0
         * @return false for the last layer of each period
         */
        public boolean sliding(int layer) {
            return (layer + 1) % period != 0;
        }
    }

    /**
     * Gemma 3n's own parts, as its configuration files ({@code text_config}) state them: every layer one head size,
     * a full-attention layer closing each period of sliding ones, the last layers reading earlier layers' caches,
     * four residual streams (AltUp) of which the first goes through the layer, a low-rank residual beside the
     * attention (LAuReL), per-layer inputs, and the first layers' feed-forward gates kept to their largest values.
     *
     * @param period         layers per period of {@code layer_types}: {@code period - 1} sliding, then one full
     * @param window         the sliding window in tokens, {@code sliding_window}
     * @param ropeBaseSwa    the sliding layers' {@code rope_local_base_freq}
     * @param sharedKvLayers the last layers, which keep no cache of their own, {@code num_kv_shared_layers}; llama.cpp
     *                       shares from the 21st layer on whatever the file says, so a shape it runs as written has
     *                       {@code layers - 20} (or 0 below 21 layers)
     * @param perLayerInput  each layer's slice of the per-layer embeddings, {@code hidden_size_per_layer_input}
     *                       (llama.cpp's gemma3n takes 256)
     * @param altupStreams   the residual streams, {@code altup_num_inputs}
     * @param laurelRank     the rank of LAuReL's two matrices, {@code laurel_rank}
     * @param sparseLayers   the first layers whose gates are sparse, the leading entries of
     *                       {@code activation_sparsity_pattern} that are not 0
     * @param sparsity       the share of those gates' values set to zero, those entries' value
     * @param finalSoftcap   {@code final_logit_softcapping}
     */
    public record Gemma3n(int period, int window, float ropeBaseSwa, int sharedKvLayers, int perLayerInput,
                          int altupStreams, int laurelRank, int sparseLayers, float sparsity, float finalSoftcap) {
        /**
         * Whether a layer attends through the sliding window.
         *
         * @param layer layer index, from 0
         * @return false for the last layer of each period
         */
        public boolean sliding(int layer) {
            return (layer + 1) % period != 0;
        }
    }

    /**
     * The experts of a mixture-of-experts shape.
     *
     * @param count             experts per layer, {@code expert_count}
     * @param used              experts each token runs, {@code expert_used_count}
     * @param feedForward       one expert's hidden size, {@code expert_feed_forward_length}
     * @param sharedFeedForward the shared expert's hidden size, {@code expert_shared_feed_forward_length}; 0 for none
     */
    public record Experts(int count, int used, int feedForward, int sharedFeedForward) {}

    /** Shapes of models people run, as their configuration files state them. */
    public static final List<ModelShape> KNOWN = List.of(
            new ModelShape("llama-3.2-1b", "llama", "1B", 2048, 16, 32, 8, 64, 8192, 131072, 500000f, 1e-5f,
                    true, false, false, "tiny-llama3-q8_0.gguf", new float[] {32f, 1f, 4f, 8192f}, null, null, null, null),
            new ModelShape("llama-3.2-3b", "llama", "3B", 3072, 28, 24, 8, 128, 8192, 131072, 500000f, 1e-5f,
                    true, false, false, "tiny-llama3-q8_0.gguf", new float[] {32f, 1f, 4f, 8192f}, null, null, null, null),
            new ModelShape("llama-3.1-8b", "llama", "8B", 4096, 32, 32, 8, 128, 14336, 131072, 500000f, 1e-5f,
                    false, false, false, "tiny-llama3-q8_0.gguf", new float[] {8f, 1f, 4f, 8192f}, null, null, null, null),
            new ModelShape("qwen2.5-0.5b", "qwen2", "0.5B", 896, 24, 14, 2, 64, 4864, 32768, 1000000f, 1e-6f,
                    true, true, false, "tiny-qwen2-q4_0.gguf", null, null, null, null, null),
            new ModelShape("qwen2.5-1.5b", "qwen2", "1.5B", 1536, 28, 12, 2, 128, 8960, 32768, 1000000f, 1e-6f,
                    true, true, false, "tiny-qwen2-q4_0.gguf", null, null, null, null, null),
            new ModelShape("qwen3-0.6b", "qwen3", "0.6B", 1024, 28, 16, 8, 128, 3072, 40960, 1000000f, 1e-6f,
                    true, false, true, "tiny-qwen3-q8_0.gguf", null, null, null, null, null),
            new ModelShape("smollm3-3b", "smollm3", "3B", 2048, 36, 16, 4, 128, 11008, 65536, 5000000f, 1e-6f,
                    true, false, false, "tiny-llama3-q8_0.gguf", null, null, null, null, null),
            new ModelShape("qwen3-30b-a3b", "qwen3moe", "30B-A3B", 2048, 48, 32, 4, 128, 6144, 40960, 1000000f, 1e-6f,
                    false, false, true, "tiny-qwen3-q8_0.gguf", null, new Experts(128, 8, 768, 0), null, null, null),
            new ModelShape("qwen1.5-moe-a2.7b", "qwen2moe", "A2.7B", 2048, 24, 16, 16, 128, 5632, 8192, 1000000f, 1e-6f,
                    false, true, false, "tiny-qwen2-q4_0.gguf", null, new Experts(60, 4, 1408, 5632), null, null, null),
            // gpt-oss's own parts (sinks, biases, window 128 on even layers, YaRN ×32 from 4096, MXFP4 experts)
            // come with the architecture; its o200k vocabulary is not in the shared data, so Llama 3's stands in
            new ModelShape("gpt-oss-20b", "gpt-oss", "20B", 2880, 24, 64, 8, 64, 2880, 131072, 150000f, 1e-5f,
                    false, true, false, "tiny-llama3-q8_0.gguf", null, new Experts(32, 4, 2880, 0), null, null, null),
            // GLM's own parts (sigmoid scores with a selection bias, a shared expert, the dense first layer, half of
            // each head rotated) come with the architecture; Qwen's vocabulary stands in for GLM's
            new ModelShape("glm-4.5-air", "glm4moe", "106B-A12B", 4096, 46, 96, 8, 128, 10944, 131072, 1000000f, 1e-5f,
                    false, true, false, "tiny-qwen2-q4_0.gguf", null, new Experts(128, 8, 1408, 0), null, null, null),
            // Llama 4's chunked attention and layers without RoPE come with the architecture; Llama 3's vocabulary
            // stands in for its own
            new ModelShape("llama-4-scout", "llama4", "17B-16E", 5120, 48, 40, 8, 128, 16384, 10485760, 500000f, 1e-5f,
                    false, false, false, "tiny-llama3-q8_0.gguf", new float[] {16f, 1f, 1f, 8192f}, new Experts(16, 1, 8192, 0), null, null, null),
            // Qwen3.5's gated attention layers rotate a quarter of each head of 256 by interleaved sections; Qwen3's
            // vocabulary stands in for its own of 248320 tokens
            new ModelShape("qwen3.5-0.8b", "qwen35", "0.8B", 1024, 24, 8, 2, 256, 3584, 262144, 10000000f, 1e-6f,
                    true, false, true, "tiny-qwen3-q8_0.gguf", null, null, new LinearAttention(16, 16, 128), null, null),
            new ModelShape("qwen3.5-9b", "qwen35", "9B", 4096, 32, 16, 4, 256, 12288, 262144, 10000000f, 1e-6f,
                    false, false, true, "tiny-qwen3-q8_0.gguf", null, null, new LinearAttention(16, 32, 128), null, null),
            new ModelShape("qwen3.5-35b-a3b", "qwen35moe", "35B-A3B", 2048, 40, 16, 2, 256, 0, 262144, 10000000f, 1e-6f,
                    false, false, true, "tiny-qwen3-q8_0.gguf", null, new Experts(256, 8, 512, 512),
                    new LinearAttention(16, 32, 128), null, null),
            // Gemma 4 from the text_config of google/gemma-4-E2B-it, -26B-A4B-it and -31B-it: heads of 256 on the
            // sliding layers and 512 on the full ones (a quarter of those turning, through rope_freqs), q/k norms,
            // values normed, a soft-capped output tied to the embedding. Its vocabulary of 262144 tokens is not in
            // the shared data, so Qwen3's of 151936 stands in, which leaves the embedding, the output matrix and the
            // per-layer embeddings about 40% smaller than the real ones.
            // E2B: 4 sliding layers (window 512) then a full one, one kv head everywhere, the last 20 layers reading
            // the caches of layers 13 and 14 with a feed-forward twice as wide, per-layer inputs of 256
            new ModelShape("gemma-4-e2b", "gemma4", "E2B", 1536, 35, 8, 1, 512, 6144, 131072, 1000000f, 1e-6f,
                    true, false, true, "tiny-qwen3-q8_0.gguf", null, null, null,
                    new Gemma4(5, 512, 256, 1, 0.25f, 10000f, false, 20, 256, true, 30f), null),
            // 26B-A4B: 5 sliding layers (window 1024, 8 kv heads) then a full one (2 kv heads, values from the keys'
            // projection); 128 experts of 704, 8 a token, beside every layer's dense feed-forward of 2112
            new ModelShape("gemma-4-26b-a4b", "gemma4", "26B-A4B", 2816, 30, 16, 8, 512, 2112, 262144, 1000000f, 1e-6f,
                    true, false, true, "tiny-qwen3-q8_0.gguf", null, new Experts(128, 8, 704, 0), null,
                    new Gemma4(6, 1024, 256, 2, 0.25f, 10000f, true, 0, 0, false, 30f), null),
            // 31B: the same periods with 16 kv heads on the sliding layers and 4 on the full ones
            new ModelShape("gemma-4-31b", "gemma4", "31B", 5376, 60, 32, 16, 512, 21504, 262144, 1000000f, 1e-6f,
                    true, false, true, "tiny-qwen3-q8_0.gguf", null, null, null,
                    new Gemma4(6, 1024, 256, 4, 0.25f, 10000f, true, 0, 0, false, 30f), null),
            // Gemma 3n from the text_config of google/gemma-3n-E2B-it and -E4B-it: heads of 256 everywhere (8 of them,
            // 2 kv heads), four sliding layers (window 512) then a full one, the layers from the 21st on reading the
            // caches of layers 19 and 20, four AltUp streams, LAuReL of rank 64, per-layer inputs of 256, the first
            // ten layers' gates kept to their top 5%, a soft-capped output tied to the embedding. Its vocabulary of
            // 262400 tokens (as converted) is not in the shared data, so Qwen3's of 151936 stands in, which leaves the
            // embedding and the per-layer embeddings about 42% smaller than the real ones.
            // E2B: 30 layers with a feed-forward of 8192, the last 10 sharing caches
            new ModelShape("gemma-3n-e2b", "gemma3n", "E2B", 2048, 30, 8, 2, 256, 8192, 32768, 1000000f, 1e-6f,
                    true, false, true, "tiny-qwen3-q8_0.gguf", null, null, null, null,
                    new Gemma3n(5, 512, 10000f, 10, 256, 4, 64, 10, 0.95f, 30f)),
            // E4B: 35 layers with a feed-forward of 16384, the last 15 sharing caches
            new ModelShape("gemma-3n-e4b", "gemma3n", "E4B", 2048, 35, 8, 2, 256, 16384, 32768, 1000000f, 1e-6f,
                    true, false, true, "tiny-qwen3-q8_0.gguf", null, null, null, null,
                    new Gemma3n(5, 512, 10000f, 15, 256, 4, 64, 10, 0.95f, 30f)));

    /**
     * One of the {@link #KNOWN} shapes, by name.
     *
     * @param name the shape's name, such as {@code qwen2.5-0.5b}; case matters
     * @return the shape
     * @throws IllegalArgumentException for a name no known shape has, listing the known ones
     */
    public static ModelShape named(String name) {
        return KNOWN.stream().filter(s -> s.name.equals(name)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "unknown model shape '" + name + "'; known: " + String.join(", ", KNOWN.stream().map(ModelShape::name).toList())));
    }
}
