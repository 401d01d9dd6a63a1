package dev.vellama.runtime.synth;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufMetadata;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufValueType;
import dev.vellama.gguf.GgufWriter;
import dev.vellama.quant.SyntheticWeights;

/**
 * Writes a GGUF with the exact tensor names, shapes, types and metadata of a real model, random weights and a real
 * vocabulary, so that realistic sizes can be benchmarked offline (llama.cpp loads these files as well). Tensor
 * types follow llama-quantize for the file types offered: Q8_0 and Q4_0 put the output matrix (or the tied
 * embedding) in Q6_K except for Q8_0; Q4_K_M uses Q6_K for it and for attn_v/ffn_down of the layers llama-quantize
 * gives more bits (the first and last eighth and every third in between), Q4_K elsewhere.
 */
public final class SyntheticModel {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The file types offered, with llama.cpp's {@code general.file_type} ids. */
    public enum FileType {
        /** Every matrix in Q8_0, the output matrix (or tied embedding) included. */
        Q8_0(7),
        /** Matrices in Q4_0, the output matrix (or tied embedding) in Q6_K. */
        Q4_0(2),
        /** Matrices in Q4_K; Q6_K for the output matrix (or tied embedding) and for the favoured layers' attn_v and
         * ffn_down. */
        Q4_K_M(15),
        /** Every matrix in F16. */
        F16(1);

        final int id;

        FileType(int id) {
            this.id = id;
        }

        /**
         * The type a user names.
         *
         * @param s the type's name in any case, such as {@code q4_k_m}
         * @return the type
         * @throws IllegalArgumentException for a name not offered, listing those that are
         */
        public static FileType parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown type '" + s + "'; offered: Q8_0, Q4_0, Q4_K_M, F16");
            }
        }
    }

    private SyntheticModel() {}

    /**
     * Writes the model to {@code out}, taking the tokenizer keys ({@code tokenizer.*}) from {@code vocabulary}.
     *
     * @param s          the model's shape: tensor sizes and the hyperparameters written as metadata
     * @param type       the file type, which sets every tensor's type and {@code general.file_type}
     * @param vocabulary metadata of a GGUF whose {@code tokenizer.*} keys (tokens, merges, chat template, ...) are
     *                   copied; its token count sets the vocabulary size and the embedding and output rows
     * @param seed       the seed of the random weights: the same seed writes the same file
     * @param out        the file to write; an existing one is replaced
     * @throws IOException if the file cannot be written
     */
    public static void write(ModelShape s, FileType type, GgufMetadata vocabulary, long seed, Path out) throws IOException {
        GgufWriter w = metadata(s, type, vocabulary);
        int vocab = vocabulary.getStringArray("tokenizer.ggml.tokens").length;
        if (s.gemma4() != null) {
            gemma4Tensors(w, s, type, vocab, seed);
        } else if (s.gemma3n() != null) {
            gemma3nTensors(w, s, type, vocab, seed);
        } else {
            tensors(w, s, type, vocab, seed);
        }
        w.write(out);
    }

    /**
     * The model's metadata, tokenizer keys included, without its tensors: what a loader reads to size the model.
     *
     * @param s          the model's shape
     * @param type       the file type, written as {@code general.file_type}
     * @param vocabulary metadata whose {@code tokenizer.*} keys are copied
     * @return a writer holding the metadata and no tensors
     */
    static GgufWriter metadata(ModelShape s, FileType type, GgufMetadata vocabulary) {
        String a = s.architecture() + ".";
        GgufWriter w = new GgufWriter()
                .put("general.architecture", GgufValue.string(s.architecture()))
                .put("general.type", GgufValue.string("model"))
                .put("general.name", GgufValue.string("synthetic " + s.name()))
                .put("general.size_label", GgufValue.string(s.sizeLabel()))
                .put(a + "block_count", GgufValue.uint32(s.layers()))
                .put(a + "context_length", GgufValue.uint32(s.contextLength()))
                .put(a + "embedding_length", GgufValue.uint32(s.embedding()))
                .put(a + "attention.head_count", GgufValue.uint32(s.heads()))
                .put(a + "attention.head_count_kv", GgufValue.uint32(s.headsKv()))
                .put(a + "rope.freq_base", GgufValue.float32(s.ropeBase()))
                .put(a + "attention.layer_norm_rms_epsilon", GgufValue.float32(s.rmsEps()))
                .put(a + "attention.key_length", GgufValue.uint32(s.headDim()))
                .put(a + "attention.value_length", GgufValue.uint32(s.headDim()))
                // GLM rotates half of each head (partial_rotary_factor 0.5)
                .put(a + "rope.dimension_count", GgufValue.uint32(ropeDims(s)));
        if (s.feedForward() > 0) {
            w.put(a + "feed_forward_length", GgufValue.uint32(s.feedForward()));
        }
        ModelShape.LinearAttention linear = s.linearAttention();
        if (linear != null) {
            // Qwen3.5: a convolution of 4 taps, every fourth layer attending, sections of 11, 11 and 10 pairs
            w.put(a + "ssm.conv_kernel", GgufValue.uint32(4));
            w.put(a + "ssm.state_size", GgufValue.uint32(linear.headDim()));
            w.put(a + "ssm.group_count", GgufValue.uint32(linear.keyHeads()));
            w.put(a + "ssm.time_step_rank", GgufValue.uint32(linear.valueHeads()));
            w.put(a + "ssm.inner_size", GgufValue.uint32(linear.valueHeads() * linear.headDim()));
            w.put(a + "full_attention_interval", GgufValue.uint32(4));
            w.put(a + "rope.dimension_sections", GgufValue.array(dev.vellama.gguf.GgufValueType.INT32, new int[] {11, 11, 10, 0}));
        }
        if (s.experts() != null) {
            w.put(a + "expert_count", GgufValue.uint32(s.experts().count()));
            w.put(a + "expert_used_count", GgufValue.uint32(s.experts().used()));
            w.put(a + "expert_feed_forward_length", GgufValue.uint32(s.experts().feedForward()));
            if (s.experts().sharedFeedForward() > 0) {
                w.put(a + "expert_shared_feed_forward_length", GgufValue.uint32(s.experts().sharedFeedForward()));
            }
        }
        boolean gptOss = s.architecture().equals("gpt-oss");
        boolean glm = s.architecture().equals("glm4moe");
        boolean llama4 = s.architecture().equals("llama4");
        if (glm) {
            // GLM-4.5's: sigmoid scores, renormalised, one shared expert, the first layer dense, no MTP block written
            w.put(a + "expert_gating_func", GgufValue.uint32(2));
            w.put(a + "expert_weights_norm", GgufValue.bool(true));
            w.put(a + "expert_weights_scale", GgufValue.float32(1f));
            w.put(a + "expert_shared_count", GgufValue.uint32(1));
            w.put(a + "leading_dense_block_count", GgufValue.uint32(1));
            w.put(a + "nextn_predict_layers", GgufValue.uint32(0));
        }
        if (llama4) {
            w.put(a + "interleave_moe_layer_step", GgufValue.uint32(1)); // Scout: every layer has experts
        }
        if (gptOss) {
            w.put(a + "attention.sliding_window", GgufValue.uint32(128));
            w.put(a + "rope.scaling.type", GgufValue.string("yarn"));
            w.put(a + "rope.scaling.factor", GgufValue.float32(32f));
            w.put(a + "rope.scaling.original_context_length", GgufValue.uint32(4096));
        }
        if (s.gemma4() != null) {
            gemma4Metadata(w, s);
        }
        if (s.gemma3n() != null) {
            gemma3nMetadata(w, s);
        }
        int vocab = vocabulary.getStringArray("tokenizer.ggml.tokens").length;
        w.put(a + "vocab_size", GgufValue.uint32(vocab));
        for (Map.Entry<String, GgufValue> e : vocabulary.asMap().entrySet()) {
            if (e.getKey().startsWith("tokenizer.")) {
                w.put(e.getKey(), e.getValue());
            }
        }
        w.put("general.quantization_version", GgufValue.uint32(2));
        w.put("general.file_type", GgufValue.uint32(type.id));
        return w;
    }

    /** The tensors of every family but the Gemmas 4 and 3n, whose layers differ from one another. */
    private static void tensors(GgufWriter w, ModelShape s, FileType type, int vocab, long seed) {
        ModelShape.LinearAttention linear = s.linearAttention();
        boolean gptOss = s.architecture().equals("gpt-oss");
        boolean glm = s.architecture().equals("glm4moe");
        boolean llama4 = s.architecture().equals("llama4");
        int d = s.embedding();
        int q = s.heads() * s.headDim();
        int kv = s.headsKv() * s.headDim();
        long[] seq = {seed};
        GgmlType embdType = embeddingType(s, type);
        matrix(w, "token_embd.weight", embdType, d, vocab, seq);
        if (s.llama3RopeScaling() != null) {
            float[] f = llama3RopeFactors(s);
            w.addTensor("rope_freqs.weight", GgmlType.F32, new long[] {f.length}, floats(f));
        }
        for (int i = 0; i < s.layers(); i++) {
            String p = "blk." + i + ".";
            GgmlType more = type == FileType.Q4_K_M && moreBits(i, s.layers()) ? GgmlType.Q6_K : base(type);
            norm(w, p + "attn_norm.weight", d);
            if (linear != null) {
                if ((i + 1) % 4 != 0) {
                    linearAttention(w, p, linear, type, more, d, seq);
                } else {
                    matrix(w, p + "attn_q.weight", base(type), d, 2 * q, seq); // queries and their output gates
                    matrix(w, p + "attn_k.weight", base(type), d, kv, seq);
                    matrix(w, p + "attn_v.weight", more, d, kv, seq);
                    matrix(w, p + "attn_output.weight", base(type), q, d, seq);
                    norm(w, p + "attn_q_norm.weight", s.headDim());
                    norm(w, p + "attn_k_norm.weight", s.headDim());
                }
                norm(w, p + "post_attention_norm.weight", d);
                if (s.experts() != null) {
                    experts(w, p, s.experts(), type, more, d, seq);
                } else {
                    matrix(w, p + "ffn_gate.weight", base(type), d, s.feedForward(), seq);
                    matrix(w, p + "ffn_up.weight", base(type), d, s.feedForward(), seq);
                    matrix(w, p + "ffn_down.weight", more, s.feedForward(), d, seq);
                }
                continue;
            }
            matrix(w, p + "attn_q.weight", base(type), d, q, seq);
            matrix(w, p + "attn_k.weight", base(type), d, kv, seq);
            matrix(w, p + "attn_v.weight", more, d, kv, seq);
            matrix(w, p + "attn_output.weight", base(type), q, d, seq);
            if (s.qkvBias()) {
                bias(w, p + "attn_q.bias", q, seq);
                bias(w, p + "attn_k.bias", kv, seq);
                bias(w, p + "attn_v.bias", kv, seq);
            }
            if (s.qkNorm()) {
                norm(w, p + "attn_q_norm.weight", s.headDim());
                norm(w, p + "attn_k_norm.weight", s.headDim());
            }
            if (gptOss) {
                bias(w, p + "attn_output.bias", d, seq);
                bias(w, p + "attn_sinks.weight", s.heads(), seq);
            }
            // gpt-oss and GLM name their feed-forward pre-norm after where it sits
            norm(w, p + (gptOss || glm ? "post_attention_norm.weight" : "ffn_norm.weight"), d);
            if (gptOss) {
                gptOssExperts(w, p, s.experts(), d, seq);
                continue;
            }
            if (glm && i >= 1 || llama4) {
                experts(w, p, s.experts(), type, more, d, seq);
                if (glm) {
                    bias(w, p + "exp_probs_b.bias", s.experts().count(), seq);
                }
                // an always-on shared expert as wide as one expert
                int sff = s.experts().feedForward();
                matrix(w, p + "ffn_gate_shexp.weight", base(type), d, sff, seq);
                matrix(w, p + "ffn_up_shexp.weight", base(type), d, sff, seq);
                matrix(w, p + "ffn_down_shexp.weight", more, sff, d, seq);
                continue;
            }
            if (s.experts() != null && !glm) {
                experts(w, p, s.experts(), type, more, d, seq);
                continue;
            }
            matrix(w, p + "ffn_gate.weight", base(type), d, s.feedForward(), seq);
            matrix(w, p + "ffn_up.weight", base(type), d, s.feedForward(), seq);
            matrix(w, p + "ffn_down.weight", more, s.feedForward(), d, seq);
        }
        output(w, s, type, vocab, seq);
    }

    /**
     * Gemma 4's keys as llama.cpp's converter writes them: which layers slide, kv heads per layer where the full
     * layers have their own count, the sliding layers' head size and RoPE, the shared layers, the per-layer input
     * width, and a feed-forward width per layer where the shared layers' is doubled. The scalar keys already written
     * hold the full layers' head size ({@code key_length}, turned whole: rope_freqs leaves all but a share of its
     * pairs still).
     */
    private static void gemma4Metadata(GgufWriter w, ModelShape s) {
        String a = s.architecture() + ".";
        ModelShape.Gemma4 g = s.gemma4();
        int n = s.layers();
        boolean[] sliding = new boolean[n];
        int[] kvHeads = new int[n];
        int[] ff = new int[n];
        for (int l = 0; l < n; l++) {
            sliding[l] = g.sliding(l);
            kvHeads[l] = sliding[l] ? s.headsKv() : g.headsKvGlobal();
            ff[l] = g.doubleWideMlp() && l >= n - g.sharedKvLayers() ? 2 * s.feedForward() : s.feedForward();
        }
        w.put(a + "attention.sliding_window", GgufValue.uint32(g.window()));
        w.put(a + "attention.sliding_window_pattern", GgufValue.array(GgufValueType.BOOL, sliding));
        if (g.headsKvGlobal() != s.headsKv()) { // the converter lists them only where the config has a global count
            w.put(a + "attention.head_count_kv", GgufValue.array(GgufValueType.INT32, kvHeads));
        }
        if (g.doubleWideMlp()) {
            w.put(a + "feed_forward_length", GgufValue.array(GgufValueType.INT32, ff));
        }
        w.put(a + "attention.key_length_swa", GgufValue.uint32(g.headDimSwa()));
        w.put(a + "attention.value_length_swa", GgufValue.uint32(g.headDimSwa()));
        w.put(a + "rope.dimension_count_swa", GgufValue.uint32(g.headDimSwa()));
        w.put(a + "rope.freq_base_swa", GgufValue.float32(g.ropeBaseSwa()));
        w.put(a + "attention.shared_kv_layers", GgufValue.uint32(g.sharedKvLayers()));
        w.put(a + "embedding_length_per_layer_input", GgufValue.uint32(g.perLayerInput()));
        w.put(a + "final_logit_softcapping", GgufValue.float32(g.finalSoftcap()));
    }

    /**
     * Gemma 4's tensors at each layer's own shape, named and typed as llama.cpp's converter and llama-quantize leave
     * them: no k, v or k norm in the layers that read an earlier layer's cache, no v in full layers whose values are
     * the keys' projection; the per-layer embeddings typed as the (tied) embedding, their projection in F16 (which
     * llama-quantize leaves alone); rope_freqs turning a share of the full layers' pairs; experts beside the dense
     * feed-forward with gate and up fused, the router in F32 with its input scale and a down scale per expert. The
     * _M mixes' extra bits go to the favoured layers' ffn_down and ffn_down_exps, and to the favoured ones among the
     * attn_v tensors the file has, counted as llama-quantize counts them.
     */
    private static void gemma4Tensors(GgufWriter w, ModelShape s, FileType type, int vocab, long seed) {
        ModelShape.Gemma4 g = s.gemma4();
        ModelShape.Experts e = s.experts();
        int d = s.embedding();
        int n = s.layers();
        int firstShared = n - g.sharedKvLayers();
        long[] seq = {seed};
        GgmlType embdType = embeddingType(s, type);
        matrix(w, "token_embd.weight", embdType, d, vocab, seq);
        int pl = g.perLayerInput();
        if (pl > 0) {
            perLayerEmbeddings(w, embdType, d, pl, n, vocab, seq);
        }
        float[] freqs = new float[s.headDim() / 2];
        int turning = (int) (s.headDim() * g.rotaryGlobal() / 2);
        for (int i = 0; i < freqs.length; i++) {
            freqs[i] = i < turning ? 1f : 1e30f;
        }
        w.addTensor("rope_freqs.weight", GgmlType.F32, new long[] {freqs.length}, floats(freqs));
        int values = 0;
        for (int i = 0; i < firstShared; i++) {
            values += hasValues(g, i) ? 1 : 0;
        }
        int value = 0;
        for (int i = 0; i < n; i++) {
            String p = "blk." + i + ".";
            boolean sliding = g.sliding(i);
            int hd = sliding ? g.headDimSwa() : s.headDim();
            int q = s.heads() * hd;
            int kv = (sliding ? s.headsKv() : g.headsKvGlobal()) * hd;
            int ff = g.doubleWideMlp() && i >= firstShared ? 2 * s.feedForward() : s.feedForward();
            GgmlType more = type == FileType.Q4_K_M && moreBits(i, n) ? GgmlType.Q6_K : base(type);
            norm(w, p + "attn_norm.weight", d);
            matrix(w, p + "attn_q.weight", base(type), d, q, seq);
            norm(w, p + "attn_q_norm.weight", hd);
            if (i < firstShared) {
                matrix(w, p + "attn_k.weight", base(type), d, kv, seq);
                if (hasValues(g, i)) {
                    GgmlType v = type == FileType.Q4_K_M && moreBits(value, values) ? GgmlType.Q6_K : base(type);
                    matrix(w, p + "attn_v.weight", v, d, kv, seq);
                    value++;
                }
                norm(w, p + "attn_k_norm.weight", hd);
            }
            matrix(w, p + "attn_output.weight", base(type), q, d, seq);
            norm(w, p + "post_attention_norm.weight", d);
            norm(w, p + "ffn_norm.weight", d);
            matrix(w, p + "ffn_gate.weight", base(type), d, ff, seq);
            matrix(w, p + "ffn_up.weight", base(type), d, ff, seq);
            matrix(w, p + "ffn_down.weight", more, ff, d, seq);
            norm(w, p + "post_ffw_norm.weight", d);
            if (e != null) {
                matrix(w, p + "ffn_gate_inp.weight", GgmlType.F32, d, e.count(), seq);
                norm(w, p + "ffn_gate_inp.scale", d);
                norm(w, p + "pre_ffw_norm_2.weight", d);
                norm(w, p + "post_ffw_norm_1.weight", d);
                norm(w, p + "post_ffw_norm_2.weight", d);
                weights(w, p + "ffn_gate_up_exps.weight", base(type), seq, d, 2L * e.feedForward(), e.count());
                weights(w, p + "ffn_down_exps.weight", more, seq, e.feedForward(), d, e.count());
                norm(w, p + "ffn_down_exps.scale", e.count());
            }
            if (pl > 0) {
                matrix(w, p + "inp_gate.weight", base(type), d, pl, seq);
                matrix(w, p + "proj.weight", base(type), pl, d, seq);
                norm(w, p + "post_norm.weight", d);
            }
            w.addTensor(p + "layer_output_scale.weight", GgmlType.F32, new long[] {1}, floats(new float[] {1f}));
        }
        output(w, s, type, vocab, seq);
    }

    /**
     * Gemma 3n's keys as llama.cpp's converter writes them: the feed-forward width listed per layer (as the config's
     * {@code intermediate_size} is), which layers slide (llama.cpp itself counts a period of 5), the sliding layers'
     * RoPE base, the AltUp streams and the active one, the per-layer input width, the shared layers, and each layer's
     * gate cut-off in standard deviations, the normal quantile of its sparsity (of 0.95, 1.645; of 0, minus
     * infinity).
     */
    private static void gemma3nMetadata(GgufWriter w, ModelShape s) {
        String a = s.architecture() + ".";
        ModelShape.Gemma3n g = s.gemma3n();
        int n = s.layers();
        boolean[] sliding = new boolean[n];
        int[] ff = new int[n];
        float[] cutoff = new float[n];
        float quantile = (float) normalQuantile(g.sparsity());
        for (int l = 0; l < n; l++) {
            sliding[l] = g.sliding(l);
            ff[l] = s.feedForward();
            cutoff[l] = l < g.sparseLayers() ? quantile : Float.NEGATIVE_INFINITY;
        }
        w.put(a + "feed_forward_length", GgufValue.array(GgufValueType.INT32, ff));
        w.put(a + "attention.sliding_window", GgufValue.uint32(g.window()));
        w.put(a + "attention.sliding_window_pattern", GgufValue.array(GgufValueType.BOOL, sliding));
        w.put(a + "rope.freq_base_swa", GgufValue.float32(g.ropeBaseSwa()));
        w.put(a + "final_logit_softcapping", GgufValue.float32(g.finalSoftcap()));
        w.put(a + "altup.active_idx", GgufValue.uint32(0));
        w.put(a + "altup.num_inputs", GgufValue.uint32(g.altupStreams()));
        w.put(a + "embedding_length_per_layer_input", GgufValue.uint32(g.perLayerInput()));
        w.put(a + "attention.shared_kv_layers", GgufValue.uint32(g.sharedKvLayers()));
        w.put(a + "activation_sparsity_scale", GgufValue.array(GgufValueType.FLOAT32, cutoff));
    }

    /**
     * The standard normal distribution's quantile at {@code p} (what the converter takes from torch's icdf), by
     * bisection of its CDF, with erfc from Numerical Recipes' Chebyshev fit (relative error under 1.2e-7).
     */
    static double normalQuantile(double p) {
        if (p <= 0) {
            return Double.NEGATIVE_INFINITY;
        }
        double lo = -10;
        double hi = 10;
        for (int i = 0; i < 100; i++) {
            double mid = (lo + hi) / 2;
            if (0.5 * erfc(-mid / Math.sqrt(2)) < p) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    private static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }

    /**
     * Gemma 3n's tensors, named and typed as llama.cpp's converter and llama-quantize leave them: every layer with
     * k, v and their norms (the layers that read an earlier cache have them too, and llama.cpp's loader wants them);
     * the per-layer embeddings typed as the (tied) embedding, their projection in F16; AltUp's projections, router
     * and LAuReL's matrices in F16 and the AltUp coefficients in F32 whatever the file type (the converter writes
     * the coefficients in F32 and llama-quantize leaves anything named altup or laurel alone). The coefficients are
     * small, as trained ones are; the _M mixes' extra bits go to the favoured layers' attn_v and ffn_down.
     */
    private static void gemma3nTensors(GgufWriter w, ModelShape s, FileType type, int vocab, long seed) {
        ModelShape.Gemma3n g = s.gemma3n();
        int d = s.embedding();
        int n = s.layers();
        int hd = s.headDim();
        int q = s.heads() * hd;
        int kv = s.headsKv() * hd;
        int ff = s.feedForward();
        int pl = g.perLayerInput();
        int streams = g.altupStreams();
        long[] seq = {seed};
        GgmlType embdType = embeddingType(s, type);
        matrix(w, "token_embd.weight", embdType, d, vocab, seq);
        weights(w, "altup_proj.weight", GgmlType.F16, seq, d, d, streams - 1);
        weights(w, "altup_unembd_proj.weight", GgmlType.F16, seq, d, d, streams - 1);
        perLayerEmbeddings(w, embdType, d, pl, n, vocab, seq);
        for (int i = 0; i < n; i++) {
            String p = "blk." + i + ".";
            GgmlType more = type == FileType.Q4_K_M && moreBits(i, n) ? GgmlType.Q6_K : base(type);
            norm(w, p + "attn_norm.weight", d);
            matrix(w, p + "attn_q.weight", base(type), d, q, seq);
            matrix(w, p + "attn_k.weight", base(type), d, kv, seq);
            matrix(w, p + "attn_v.weight", more, d, kv, seq);
            matrix(w, p + "attn_output.weight", base(type), q, d, seq);
            norm(w, p + "attn_q_norm.weight", hd);
            norm(w, p + "attn_k_norm.weight", hd);
            norm(w, p + "post_attention_norm.weight", d);
            norm(w, p + "ffn_norm.weight", d);
            matrix(w, p + "ffn_gate.weight", base(type), d, ff, seq);
            matrix(w, p + "ffn_up.weight", base(type), d, ff, seq);
            matrix(w, p + "ffn_down.weight", more, ff, d, seq);
            norm(w, p + "post_ffw_norm.weight", d);
            matrix(w, p + "inp_gate.weight", base(type), d, pl, seq);
            matrix(w, p + "proj.weight", base(type), pl, d, seq);
            norm(w, p + "post_norm.weight", d);
            bias(w, p + "altup_correct_coef.weight", streams * streams, seq, streams, streams);
            norm(w, p + "altup_correct_scale.weight", d);
            bias(w, p + "altup_predict_coef.weight", streams * streams * streams, seq, streams, streams * streams);
            matrix(w, p + "altup_router.weight", GgmlType.F16, d, streams, seq);
            norm(w, p + "altup_router_norm.weight", d);
            matrix(w, p + "laurel_l.weight", GgmlType.F16, d, g.laurelRank(), seq);
            matrix(w, p + "laurel_r.weight", GgmlType.F16, g.laurelRank(), d, seq);
            norm(w, p + "laurel_post_norm.weight", d);
        }
        output(w, s, type, vocab, seq);
    }

    /** The output matrix's type: Q8_0 and F16 files keep their own, the rest Q6_K, as llama-quantize leaves it. */
    private static GgmlType outputType(FileType type) {
        return type == FileType.Q8_0 ? GgmlType.Q8_0 : type == FileType.F16 ? GgmlType.F16 : GgmlType.Q6_K;
    }

    /** The token embedding's type: the output's where the two are tied, else the file's base type. */
    private static GgmlType embeddingType(ModelShape s, FileType type) {
        return s.tiedEmbeddings() ? outputType(type) : base(type);
    }

    /** The final norm and, unless tied to the embedding, the output matrix. */
    private static void output(GgufWriter w, ModelShape s, FileType type, int vocab, long[] seq) {
        norm(w, "output_norm.weight", s.embedding());
        if (!s.tiedEmbeddings()) {
            matrix(w, "output.weight", outputType(type), s.embedding(), vocab, seq);
        }
    }

    /**
     * The per-layer inputs of Gemma 4 and 3n ({@code pl} wide for each of {@code layers}): their embeddings typed as
     * the token embedding, the projection of the residual onto them in F16, and the norm of a layer's slice.
     */
    private static void perLayerEmbeddings(GgufWriter w, GgmlType embdType, int d, int pl, int layers, int vocab,
            long[] seq) {
        matrix(w, "per_layer_token_embd.weight", embdType, pl * layers, vocab, seq);
        matrix(w, "per_layer_model_proj.weight", GgmlType.F16, d, pl * layers, seq);
        norm(w, "per_layer_proj_norm.weight", pl);
    }

    /** Whether a Gemma 4 layer that keeps its own cache has a value projection: all but the full layers of k_eq_v. */
    private static boolean hasValues(ModelShape.Gemma4 g, int layer) {
        return g.sliding(layer) || !g.valuesFromKeys();
    }

    /**
     * A mixture-of-experts block as llama.cpp's converter and llama-quantize leave it: the router in F32, the
     * experts stacked in 3-D tensors of the file's types (ffn_down_exps with the _M mixes' extra bits where the
     * dense ffn_down would get them), and the shared expert with its F32 gate vector.
     */
    private static void experts(GgufWriter w, String p, ModelShape.Experts e, FileType type, GgmlType more, int d, long[] seq) {
        matrix(w, p + "ffn_gate_inp.weight", GgmlType.F32, d, e.count(), seq);
        weights(w, p + "ffn_gate_exps.weight", base(type), seq, d, e.feedForward(), e.count());
        weights(w, p + "ffn_up_exps.weight", base(type), seq, d, e.feedForward(), e.count());
        weights(w, p + "ffn_down_exps.weight", more, seq, e.feedForward(), d, e.count());
        if (e.sharedFeedForward() > 0) {
            bias(w, p + "ffn_gate_inp_shexp.weight", d, seq);
            matrix(w, p + "ffn_gate_shexp.weight", base(type), d, e.sharedFeedForward(), seq);
            matrix(w, p + "ffn_up_shexp.weight", base(type), d, e.sharedFeedForward(), seq);
            matrix(w, p + "ffn_down_shexp.weight", more, e.sharedFeedForward(), d, seq);
        }
    }

    /** Rotated dimensions per head: half of GLM's, a quarter of Qwen3.5's, all of the others'. */
    private static int ropeDims(ModelShape s) {
        return switch (s.architecture()) {
            case "glm4moe" -> s.headDim() / 2;
            case "qwen35", "qwen35moe" -> s.headDim() / 4;
            default -> s.headDim();
        };
    }

    /**
     * A Qwen3.5 linear-attention layer as llama-quantize leaves it: the convolution, dt bias and A in F32 (their
     * decays spread over the heads), q|k|v with the _M mixes' extra bits where attn_v gets them, the rest in the
     * file's type.
     */
    private static void linearAttention(GgufWriter w, String p, ModelShape.LinearAttention l, FileType type, GgmlType more,
                                        int d, long[] seq) {
        int valueDim = l.valueHeads() * l.headDim();
        int channels = 2 * l.keyHeads() * l.headDim() + valueDim;
        matrix(w, p + "attn_qkv.weight", more, d, channels, seq);
        matrix(w, p + "attn_gate.weight", base(type), d, valueDim, seq);
        bias(w, p + "ssm_conv1d.weight", 4 * channels, seq, 4, channels);
        matrix(w, p + "ssm_beta.weight", base(type), d, l.valueHeads(), seq);
        matrix(w, p + "ssm_alpha.weight", base(type), d, l.valueHeads(), seq);
        bias(w, p + "ssm_dt.bias", l.valueHeads(), seq);
        float[] a = new float[l.valueHeads()];
        for (int h = 0; h < a.length; h++) {
            a[h] = -(1f + 15f * h / Math.max(1, a.length - 1)) / 16f;
        }
        w.addTensor(p + "ssm_a", GgmlType.F32, new long[] {a.length}, floats(a));
        norm(w, p + "ssm_norm.weight", l.headDim());
        matrix(w, p + "ssm_out.weight", base(type), valueDim, d, seq);
    }

    /**
     * gpt-oss's experts as its published files hold them: MXFP4 whatever the file type (llama-quantize leaves them
     * so), the router in F32, and router and expert biases.
     */
    private static void gptOssExperts(GgufWriter w, String p, ModelShape.Experts e, int d, long[] seq) {
        matrix(w, p + "ffn_gate_inp.weight", GgmlType.F32, d, e.count(), seq);
        bias(w, p + "ffn_gate_inp.bias", e.count(), seq);
        weights(w, p + "ffn_gate_exps.weight", GgmlType.MXFP4, seq, d, e.feedForward(), e.count());
        weights(w, p + "ffn_up_exps.weight", GgmlType.MXFP4, seq, d, e.feedForward(), e.count());
        weights(w, p + "ffn_down_exps.weight", GgmlType.MXFP4, seq, e.feedForward(), d, e.count());
        bias(w, p + "ffn_gate_exps.bias", e.feedForward() * e.count(), seq, e.feedForward(), e.count());
        bias(w, p + "ffn_up_exps.bias", e.feedForward() * e.count(), seq, e.feedForward(), e.count());
        bias(w, p + "ffn_down_exps.bias", d * e.count(), seq, d, e.count());
    }

    private static GgmlType base(FileType t) {
        return switch (t) {
            case Q8_0 -> GgmlType.Q8_0;
            case Q4_0 -> GgmlType.Q4_0;
            case Q4_K_M -> GgmlType.Q4_K;
            case F16 -> GgmlType.F16;
        };
    }

    /** llama-quantize's substitute when a row is not a whole number of 256-element K-quant blocks. */
    static GgmlType fallback(GgmlType type, int cols) {
        if (cols % type.blockSize() == 0) {
            return type;
        }
        return switch (type) {
            case Q4_K -> GgmlType.Q5_0;
            case Q6_K -> GgmlType.Q8_0;
            default -> throw new IllegalArgumentException("rows of " + cols + " values cannot be stored as " + type);
        };
    }

    /** llama-quantize's choice of layers that get more bits in the _M mixes. */
    static boolean moreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    private static void matrix(GgufWriter w, String name, GgmlType wanted, int cols, int rows, long[] seed) {
        weights(w, name, wanted, seed, cols, rows);
    }

    /** Random weights of the given shape ([cols, rows] or [cols, rows, experts]), in the type a row allows. */
    private static void weights(GgufWriter w, String name, GgmlType wanted, long[] seed, long... shape) {
        GgmlType type = fallback(wanted, (int) shape[0]);
        long s = seed[0]++;
        w.addTensor(name, type, shape, target -> SyntheticWeights.fill(type, target, s));
    }

    private static void norm(GgufWriter w, String name, int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        w.addTensor(name, GgmlType.F32, new long[] {n}, floats(v));
    }

    private static void bias(GgufWriter w, String name, int n, long[] seed) {
        bias(w, name, n, seed, n);
    }

    /** Small random F32 values of the given shape ({@code n} in all). */
    private static void bias(GgufWriter w, String name, int n, long[] seed, long... shape) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed[0]++);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() - 0.5) * 0.2f;
        }
        w.addTensor(name, GgmlType.F32, shape, floats(v));
    }

    /** The rope_freqs tensor llama.cpp's converter writes for llama3 RoPE scaling. */
    static float[] llama3RopeFactors(ModelShape s) {
        float factor = s.llama3RopeScaling()[0];
        float low = s.llama3RopeScaling()[1];
        float high = s.llama3RopeScaling()[2];
        float original = s.llama3RopeScaling()[3];
        double lowWavelen = original / low;
        double highWavelen = original / high;
        float[] out = new float[s.headDim() / 2];
        for (int i = 0; i < out.length; i++) {
            double freq = 1.0 / Math.pow(s.ropeBase(), 2.0 * i / s.headDim());
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                out[i] = 1f;
            } else if (wavelen > lowWavelen) {
                out[i] = factor;
            } else {
                double smooth = (original / wavelen - low) / (high - low);
                out[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }

    private static MemorySegment floats(float[] v) {
        MemorySegment seg = MemorySegment.ofArray(new byte[v.length * 4]);
        for (int i = 0; i < v.length; i++) {
            seg.set(F32, 4L * i, v[i]);
        }
        return seg;
    }
}
