package dev.vellama.runtime.reference;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufWriter;
import dev.vellama.quant.Quantizer;
import dev.vellama.testdata.TestData;

/**
 * Small random models with F32 weights, written in llama.cpp's GGUF conventions (metadata keys, tensor names and
 * shapes), one per architecture and RoPE option. The vocabulary (every {@code tokenizer.*} key, 32000 tokens) is
 * borrowed from the shared stories model so that the files load like real ones. Weights are seeded, so a spec
 * always gives the same file.
 */
final class TinyModels {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final String VOCABULARY_MODEL = "stories-llama2-q8_0.gguf";
    private static Map<String, GgufValue> vocabulary;

    private TinyModels() {}

    /** Llama 2 layout: interleaved RoPE, separate output matrix, no scaling. */
    static TinySpec llama() {
        return new TinySpec("llama", "llama");
    }

    /** Llama 3 layout: tied embeddings and per-pair RoPE divisors in {@code rope_freqs.weight}. */
    static TinySpec llamaRopeFreqs() {
        TinySpec s = llama().named("llama-rope-freqs");
        s.llama3RopeFreqs = true;
        s.tiedOutput = true;
        s.seed = 2;
        return s;
    }

    /** Linear RoPE scaling (positions interpolated by 1/4). */
    static TinySpec llamaLinearScaling() {
        TinySpec s = llama().named("llama-linear").ropeScaling("linear", 4f, 0);
        s.seed = 3;
        return s;
    }

    /**
     * YaRN scaling ×4 from an original context of 256: with 32-wide heads the ramp between extrapolated and
     * interpolated pairs spans pairs 0..7, and the magnitude correction scales every rotation.
     */
    static TinySpec llamaYarnScaling() {
        TinySpec s = llama().named("llama-yarn").ropeScaling("yarn", 4f, 256);
        s.heads = 2;
        s.headsKv = 1;
        s.contextLength = 1024;
        s.seed = 4;
        return s;
    }

    /** Qwen2: q/k/v biases, NEOX RoPE, tied embeddings. */
    static TinySpec qwen2() {
        TinySpec s = new TinySpec("qwen2", "qwen2");
        s.qkvBias = true;
        s.tiedOutput = true;
        s.ropeBase = 1_000_000f;
        s.rmsEps = 1e-6f;
        s.seed = 5;
        return s;
    }

    /** Qwen3: per-head q/k RMSNorm before RoPE, heads of 32 on a 64-wide model. */
    static TinySpec qwen3() {
        TinySpec s = new TinySpec("qwen3", "qwen3");
        s.headDim = 32;
        s.qkNorm = true;
        s.tiedOutput = true;
        s.ropeBase = 1_000_000f;
        s.rmsEps = 1e-6f;
        s.seed = 6;
        return s;
    }

    /**
     * Phi-3 (128k layout): fused qkv and gate|up, a sliding window of 10, LongRoPE factors with an original
     * context of 4096, so a short session uses the short factors.
     */
    static TinySpec phi3() {
        TinySpec s = new TinySpec("phi3", "phi3");
        s.fusedQkv = true;
        s.fusedGateUp = true;
        s.phi3RopeFactors = true;
        s.contextLength = 16384;
        s.ropeOriginalContext = 4096;
        s.ropeAttnFactor = (float) Math.sqrt(1 + Math.log(16384.0 / 4096) / Math.log(4096));
        s.slidingWindow = 10;
        s.seed = 7;
        return s;
    }

    /**
     * Phi-3/Phi-4-mini variant: partial rotary (12 of 16 dimensions) and an original context of 16, so a
     * session of more than 16 positions uses the long factors.
     */
    static TinySpec phi3LongFactors() {
        TinySpec s = phi3().named("phi3-long-factors");
        s.ropeDims = 12;
        s.contextLength = 64;
        s.ropeOriginalContext = 16;
        s.ropeAttnFactor = (float) Math.sqrt(1 + Math.log(64.0 / 16) / Math.log(16));
        s.seed = 8;
        return s;
    }

    /**
     * Gemma 2: √n_embd embedding scale, GELU gated FFN, post-attention and post-FFN norms, soft-capped attention
     * and logits (small caps so that they bend the values), a window of 6 on even layers, heads of 32 on a
     * 64-wide model so the query scale 1/√head_dim differs from 1/√(n_embd/n_head).
     */
    static TinySpec gemma2() {
        TinySpec s = new TinySpec("gemma2", "gemma2");
        s.layers = 4;
        s.headDim = 32;
        s.tiedOutput = true;
        s.postNorms = true;
        s.rmsEps = 1e-6f;
        s.slidingWindow = 6;
        s.attnSoftcap = 1.5f;
        s.finalSoftcap = 2.5f;
        s.seed = 9;
        return s;
    }

    /**
     * Gemma 3: Gemma 2's layout with per-head q/k norms and no soft-caps; six layers so that five slide (window
     * 6, local RoPE base 10000 unscaled) and the last is global (base 1e6, linear scaling ×8).
     */
    static TinySpec gemma3() {
        TinySpec s = new TinySpec("gemma3", "gemma3");
        s.layers = 6;
        s.headDim = 32;
        s.qkNorm = true;
        s.tiedOutput = true;
        s.postNorms = true;
        s.rmsEps = 1e-6f;
        s.ropeBase = 1_000_000f;
        s.ropeScaling("linear", 8f, 0);
        s.slidingWindow = 6;
        s.seed = 10;
        return s;
    }

    /**
     * Gemma 2 with the 46 layers of Gemma 2 27B, which llama.cpp recognises by its layer count and whose queries it
     * scales by 1/√(n_embd/n_head) (here 1/4) instead of 1/√head_dim (1/√32).
     */
    static TinySpec gemma2With27bLayerCount() {
        TinySpec s = gemma2().named("gemma2-46-layers").layers(46);
        s.seed = 11;
        return s;
    }

    /**
     * Gemma 2 with the 26 layers of Gemma 2 2B: the layer count llama.cpp b4748 needs to run a gemma2 file at all
     * (it picks the query scale by model size and aborts on an unknown one), for its golden logits.
     */
    static TinySpec gemma2With2bLayerCount() {
        TinySpec s = gemma2().named("gemma2-26-layers").layers(26);
        s.seed = 16;
        return s;
    }

    /** Gemma 3 with the 62 layers of Gemma 3 27B: the same query-scale rule as {@link #gemma2With27bLayerCount()}. */
    static TinySpec gemma3With27bLayerCount() {
        TinySpec s = gemma3().named("gemma3-62-layers").layers(62);
        s.seed = 12;
        return s;
    }

    /**
     * Qwen2 MoE: Qwen2's attention (biases, NEOX RoPE, separate output matrix as llama.cpp requires for this
     * family), 8 experts of width 32 with 2 used per token, their softmax weights as they come, and a shared expert
     * of width 64 behind a sigmoid gate.
     */
    static TinySpec qwen2moe() {
        TinySpec s = new TinySpec("qwen2moe", "qwen2moe");
        s.qkvBias = true;
        s.ropeBase = 1_000_000f;
        s.rmsEps = 1e-6f;
        s.experts = 8;
        s.expertsUsed = 2;
        s.expertFeedForward = 32;
        s.sharedExpertFeedForward = 64;
        s.seed = 13;
        return s;
    }

    /** Qwen3 MoE: Qwen3's attention (per-head q/k norms, heads of 32), 8 experts of width 32, 3 used, weights renormalised. */
    static TinySpec qwen3moe() {
        TinySpec s = new TinySpec("qwen3moe", "qwen3moe");
        s.headDim = 32;
        s.qkNorm = true;
        s.tiedOutput = true;
        s.ropeBase = 1_000_000f;
        s.rmsEps = 1e-6f;
        s.experts = 8;
        s.expertsUsed = 3;
        s.expertFeedForward = 32;
        s.seed = 14;
        return s;
    }

    /** SmolLM3: Llama's layout with tied embeddings; eight layers, so layers 3 and 7 attend without RoPE. */
    static TinySpec smollm3() {
        TinySpec s = new TinySpec("smollm3", "smollm3");
        s.layers = 8;
        s.tiedOutput = true;
        s.ropeBase = 5_000_000f;
        s.rmsEps = 1e-6f;
        s.seed = 15;
        return s;
    }

    /**
     * gpt-oss: biases on q, k, v and the attention output, a sink logit per head, a window of 6 on even layers of
     * four, heads of 32 on a 64-wide model, YaRN ×4 from an original context of 256; 8 experts of width 32 with 3
     * used, router and expert biases, the chosen logits' softmax as weights, and gate/up weights large enough that
     * the clamped SwiGLU's limits of ±7 are reached.
     */
    static TinySpec gptOss() {
        TinySpec s = new TinySpec("gpt-oss", "gpt-oss");
        s.layers = 4;
        s.headDim = 32;
        s.qkvBias = true;
        s.ropeBase = 150000f;
        s.ropeScaling("yarn", 4f, 256);
        s.contextLength = 1024;
        s.slidingWindow = 6;
        s.experts = 8;
        s.expertsUsed = 3;
        s.expertFeedForward = 32;
        s.expertBiasStd = 3f;
        s.seed = 17;
        return s;
    }

    /** {@link #gptOss()} with its expert tensors in MXFP4, as the published files store them. */
    static TinySpec gptOssMxfp4() {
        TinySpec s = gptOss().named("gpt-oss-mxfp4");
        s.expertType = GgmlType.MXFP4;
        return s;
    }

    /**
     * Mistral 3 (Ministral 3's layout): Llama's interleaved RoPE with YaRN ×4 from an original context of 8 and a log
     * multiplier of 0.5 (so the magnitude is not 1), an attention temperature of 0.5 that steps every 8 positions, and
     * tied embeddings.
     */
    static TinySpec mistral3() {
        TinySpec s = new TinySpec("mistral3", "mistral3");
        s.layers = 3;
        s.headDim = 32;
        s.tiedOutput = true;
        s.ropeBase = 1_000_000f;
        s.ropeScaling("yarn", 4f, 8);
        s.ropeYarnLogMultiplier = 0.5f;
        s.attnTemperature = 0.5f;
        s.contextLength = 1024;
        s.seed = 18;
        return s;
    }

    /**
     * GLM-4.5 (Air): q/k/v biases, NEOX RoPE over half of each 32-wide head, a leading dense layer then two layers of
     * 8 experts (3 used) chosen by sigmoid scores plus a selection bias, weights renormalised and scaled by 2.5, one
     * always-on shared expert, a separate output matrix.
     */
    static TinySpec glm4moe() {
        TinySpec s = new TinySpec("glm4moe", "glm4moe");
        s.layers = 3;
        s.headDim = 32;
        s.ropeDims = 16;
        s.qkvBias = true;
        s.ropeBase = 1_000_000f;
        s.experts = 8;
        s.expertsUsed = 3;
        s.expertFeedForward = 32;
        s.leadingDense = 1;
        s.sharedExpertCount = 1;
        s.expertWeightsNorm = true;
        s.expertWeightsScale = 2.5f;
        s.seed = 19;
        return s;
    }

    /**
     * Llama 4 (Scout/Maverick's layout at 64 wide): four layers, the last without RoPE (and with the attention
     * temperature, which stays 1 below position 8191, as the chunks of 8192 stay whole); q and k RMS-normed on the
     * rotated layers; experts on every second layer (8 of width 32, one used per token, its sigmoid weight on its
     * input) with an always-on shared expert; dense layers between.
     */
    static TinySpec llama4() {
        TinySpec s = new TinySpec("llama4", "llama4");
        s.layers = 4;
        s.headDim = 32;
        s.ropeBase = 500_000f;
        s.experts = 8;
        s.expertsUsed = 1;
        s.expertFeedForward = 32;
        s.moeLayerStep = 2;
        s.seed = 20;
        return s;
    }

    /**
     * Qwen3.5 at 64 wide: four layers, the first three linear attention (a convolution of 4 taps, 2 key heads and 4
     * value heads of 16, so value heads share key heads in the tiled order), the fourth gated attention with heads of
     * 32, q/k norms and interleaved multi-section RoPE over 16 of them; decays spread from fast to slow.
     */
    static TinySpec qwen35() {
        TinySpec s = new TinySpec("qwen35", "qwen35");
        s.layers = 4;
        s.headDim = 32;
        s.ropeDims = 16;
        s.ropeSections = new int[] {3, 3, 2, 0};
        s.qkNorm = true;
        s.tiedOutput = true;
        s.ropeBase = 10_000_000f;
        s.rmsEps = 1e-6f;
        s.ssmConvKernel = 4;
        s.ssmHeadDim = 16;
        s.ssmKeyHeads = 2;
        s.ssmValueHeads = 4;
        s.fullAttentionInterval = 4;
        s.seed = 21;
        return s;
    }

    /** Qwen3.5 MoE: {@link #qwen35()}'s layers with 8 experts of width 32 (2 used, renormalised) and a gated shared expert of 64. */
    static TinySpec qwen35moe() {
        TinySpec s = qwen35();
        s.name = "qwen35moe";
        s.architecture = "qwen35moe";
        s.experts = 8;
        s.expertsUsed = 2;
        s.expertFeedForward = 32;
        s.sharedExpertFeedForward = 64;
        s.seed = 22;
        return s;
    }

    /**
     * Gemma 4 at 64 wide: six layers, sliding (window 6, heads of 16, 2 kv heads, base 10000) but for the fourth and
     * sixth, which are global (heads of 32, 1 kv head, base 1e6, "proportional" RoPE turning 4 of 16 pairs); the last two
     * layers read the caches of layers 2 and 3; the fourth has no attn_v; per-layer inputs of 8; the shared layers'
     * feed-forward twice as wide; a scalar on each layer's output and a soft-capped output.
     */
    static TinySpec gemma4() {
        TinySpec s = new TinySpec("gemma4", "gemma4");
        s.layers = 6;
        s.headDim = 32;
        s.headDimSwa = 16;
        s.ropeDimsSwa = 16;
        s.headsKv = 2;
        s.headsKvGlobal = 1;
        s.slidingPattern = new boolean[] {true, true, true, false, true, false};
        s.slidingWindow = 6;
        s.sharedKvLayers = 2;
        s.perLayerInput = 8;
        s.rotatedPairsGlobal = 4;
        s.layersWithoutValues = new int[] {3};
        s.qkNorm = true;
        s.postNorms = true;
        s.tiedOutput = true;
        s.ropeBase = 1_000_000f;
        s.ropeBaseSwa = 10_000f;
        s.rmsEps = 1e-6f;
        s.finalSoftcap = 2.5f;
        s.seed = 23;
        return s;
    }

    /**
     * Gemma 4 with experts (the 26B-A4B layout) on {@link #gemma4()}'s layers: 8 experts of width 32, 2 used, beside
     * each layer's dense block, with the router's input scale and a down scale per expert.
     */
    static TinySpec gemma4moe() {
        TinySpec s = gemma4();
        s.name = "gemma4moe";
        s.experts = 8;
        s.expertsUsed = 2;
        s.expertFeedForward = 32;
        s.seed = 24;
        return s;
    }

    /**
     * Gemma 3n at 64 wide with what llama.cpp fixes for it: four AltUp streams, LAuReL of rank 64, per-layer inputs of
     * 256 (their embedding in Q4_0, 33 million values), sparse gates in every layer (its first ten), a soft-cap of 30;
     * gates of 512;
     * four layers alternating sliding (window 6) and global through a scalar pattern of 2, heads of 32. Caches are
     * shared only from layer 20, which a tiny file cannot afford; {@link #gemma4()} covers that path.
     */
    static TinySpec gemma3n() {
        TinySpec s = new TinySpec("gemma3n", "gemma3n");
        s.layers = 4;
        // a gate wide enough that its top 5% (what the sparsity keeps) are some 25 values, not a handful whose tiny
        // sum the post-norm would blow up
        s.feedForward = 512;
        s.headDim = 32;
        s.slidingPeriod = 2;
        s.slidingWindow = 6;
        s.perLayerInput = 256;
        s.qkNorm = true;
        s.postNorms = true;
        s.tiedOutput = true;
        s.ropeBase = 1_000_000f;
        s.ropeBaseSwa = 10_000f;
        s.rmsEps = 1e-6f;
        s.seed = 25;
        return s;
    }

    /** Writes {@code spec} as {@code <dir>/<name>.gguf} and returns the path. */
    static Path write(TinySpec spec, Path dir) {
        Path out = dir.resolve(spec.name + ".gguf");
        GgufWriter w = new GgufWriter();
        writeMetadata(spec, w);
        if (spec.slidingPattern != null) {
            writeGemma4(spec, w);
        } else if (spec.architecture.equals("gemma3n")) {
            writeGemma3n(spec, w);
        } else {
            writeTensors(spec, w);
        }
        try {
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + out, e);
        }
        return out;
    }

    private static void writeMetadata(TinySpec s, GgufWriter w) {
        String a = s.architecture + ".";
        w.put("general.architecture", GgufValue.string(s.architecture))
                .put("general.name", GgufValue.string("tiny " + s.name))
                .put(a + "context_length", GgufValue.uint32(s.contextLength))
                .put(a + "embedding_length", GgufValue.uint32(s.embedding))
                .put(a + "block_count", GgufValue.uint32(s.layers))
                .put(a + "feed_forward_length", GgufValue.uint32(s.feedForward))
                .put(a + "attention.head_count", GgufValue.uint32(s.heads))
                .put(a + "attention.head_count_kv", GgufValue.uint32(s.headsKv))
                .put(a + "attention.layer_norm_rms_epsilon", GgufValue.float32(s.rmsEps))
                .put(a + "rope.freq_base", GgufValue.float32(s.ropeBase))
                .put(a + "rope.dimension_count", GgufValue.uint32(s.effectiveRopeDims()));
        if (s.headDim > 0) {
            w.put(a + "attention.key_length", GgufValue.uint32(s.headDim));
            w.put(a + "attention.value_length", GgufValue.uint32(s.headDim));
        }
        if (s.ropeScaling != null) {
            w.put(a + "rope.scaling.type", GgufValue.string(s.ropeScaling));
            w.put(a + "rope.scaling.factor", GgufValue.float32(s.ropeScalingFactor));
        }
        if (s.ropeOriginalContext > 0) {
            w.put(a + "rope.scaling.original_context_length", GgufValue.uint32(s.ropeOriginalContext));
        }
        if (s.ropeAttnFactor != 0f) {
            w.put(a + "rope.scaling.attn_factor", GgufValue.float32(s.ropeAttnFactor));
        }
        if (s.slidingWindow > 0) {
            w.put(a + "attention.sliding_window", GgufValue.uint32(s.slidingWindow));
        }
        if (s.ropeYarnLogMultiplier != 0f) {
            w.put(a + "rope.scaling.yarn_log_multiplier", GgufValue.float32(s.ropeYarnLogMultiplier));
        }
        if (s.attnTemperature != 0f) {
            w.put(a + "attention.temperature_scale", GgufValue.float32(s.attnTemperature));
        }
        if (s.attnSoftcap != 0f) {
            w.put(a + "attn_logit_softcapping", GgufValue.float32(s.attnSoftcap));
        }
        if (s.finalSoftcap != 0f) {
            w.put(a + "final_logit_softcapping", GgufValue.float32(s.finalSoftcap));
        }
        if (s.experts > 0) {
            w.put(a + "expert_count", GgufValue.uint32(s.experts));
            w.put(a + "expert_used_count", GgufValue.uint32(s.expertsUsed));
            w.put(a + "expert_feed_forward_length", GgufValue.uint32(s.expertFeedForward));
        }
        if (s.sharedExpertFeedForward > 0) {
            w.put(a + "expert_shared_feed_forward_length", GgufValue.uint32(s.sharedExpertFeedForward));
        }
        if (s.moeLayerStep > 0) {
            w.put(a + "interleave_moe_layer_step", GgufValue.uint32(s.moeLayerStep));
        }
        if (s.architecture.equals("glm4moe")) {
            w.put(a + "expert_gating_func", GgufValue.uint32(2)); // sigmoid, as the converter writes it
            w.put(a + "expert_shared_count", GgufValue.uint32(s.sharedExpertCount));
            w.put(a + "leading_dense_block_count", GgufValue.uint32(s.leadingDense));
            w.put(a + "expert_weights_norm", GgufValue.bool(s.expertWeightsNorm));
            w.put(a + "expert_weights_scale", GgufValue.float32(s.expertWeightsScale));
            w.put(a + "nextn_predict_layers", GgufValue.uint32(0));
        }
        if (s.ssmConvKernel > 0) {
            w.put(a + "ssm.conv_kernel", GgufValue.uint32(s.ssmConvKernel));
            w.put(a + "ssm.state_size", GgufValue.uint32(s.ssmHeadDim));
            w.put(a + "ssm.group_count", GgufValue.uint32(s.ssmKeyHeads));
            w.put(a + "ssm.time_step_rank", GgufValue.uint32(s.ssmValueHeads));
            w.put(a + "ssm.inner_size", GgufValue.uint32(s.ssmHeadDim * s.ssmValueHeads));
            w.put(a + "full_attention_interval", GgufValue.uint32(s.fullAttentionInterval));
        }
        if (s.ropeSections != null) {
            w.put(a + "rope.dimension_sections", GgufValue.array(dev.vellama.gguf.GgufValueType.INT32, s.ropeSections.clone()));
        }
        if (s.slidingPattern != null) {
            int n = s.layers;
            boolean[] pattern = new boolean[n];
            int[] kvHeads = new int[n];
            int[] ff = new int[n];
            for (int l = 0; l < n; l++) {
                pattern[l] = s.slidingPattern[l];
                kvHeads[l] = s.slidingPattern[l] ? s.headsKv : s.headsKvGlobal;
                ff[l] = l < n - s.sharedKvLayers ? s.feedForward : 2 * s.feedForward; // the converter's double-wide MLP
            }
            w.put(a + "attention.sliding_window_pattern", GgufValue.array(dev.vellama.gguf.GgufValueType.BOOL, pattern));
            w.put(a + "attention.head_count_kv", GgufValue.array(dev.vellama.gguf.GgufValueType.INT32, kvHeads));
            w.put(a + "feed_forward_length", GgufValue.array(dev.vellama.gguf.GgufValueType.INT32, ff));
            w.put(a + "attention.key_length_swa", GgufValue.uint32(s.headDimSwa));
            w.put(a + "attention.value_length_swa", GgufValue.uint32(s.headDimSwa));
            w.put(a + "rope.dimension_count_swa", GgufValue.uint32(s.ropeDimsSwa));
            w.put(a + "rope.freq_base_swa", GgufValue.float32(s.ropeBaseSwa));
            w.put(a + "attention.shared_kv_layers", GgufValue.uint32(s.sharedKvLayers));
            w.put(a + "embedding_length_per_layer_input", GgufValue.uint32(s.perLayerInput));
        }
        if (s.slidingPeriod > 0) {
            w.put(a + "attention.sliding_window_pattern", GgufValue.uint32(s.slidingPeriod));
            w.put(a + "rope.freq_base_swa", GgufValue.float32(s.ropeBaseSwa));
            w.put(a + "embedding_length_per_layer_input", GgufValue.uint32(s.perLayerInput));
            w.put(a + "altup.active_idx", GgufValue.uint32(0));
            w.put(a + "altup.num_inputs", GgufValue.uint32(4));
        }
        vocabulary().forEach(w::put);
        w.put("general.file_type", GgufValue.uint32(s.expertType == GgmlType.MXFP4 ? 38 : 0));
    }

    private static void writeTensors(TinySpec s, GgufWriter w) {
        Random r = new Random(s.seed, s.weightStd);
        int d = s.embedding;
        int hd = s.effectiveHeadDim();
        int q = s.heads * hd;
        int kv = s.headsKv * hd;
        int ff = s.feedForward;
        int vocab = vocabularySize();
        matrix(w, "token_embd.weight", d, vocab, r);
        vector(w, "output_norm.weight", r.norm(d));
        if (!s.tiedOutput) {
            matrix(w, "output.weight", d, vocab, r);
        }
        int pairs = s.effectiveRopeDims() / 2;
        if (s.llama3RopeFreqs) {
            vector(w, "rope_freqs.weight", llama3Divisors(s.ropeBase, s.effectiveRopeDims(), 8f, 1f, 4f, 256));
        }
        if (s.phi3RopeFactors) {
            vector(w, "rope_factors_long.weight", longRopeFactors(pairs, 6f));
            vector(w, "rope_factors_short.weight", longRopeFactors(pairs, 1.5f));
        }
        for (int i = 0; i < s.layers; i++) {
            String p = "blk." + i + ".";
            vector(w, p + "attn_norm.weight", r.norm(d));
            boolean qwen35 = s.ssmConvKernel > 0;
            if (qwen35 && (i + 1) % s.fullAttentionInterval != 0) {
                linearAttention(s, w, p, r);
            } else if (qwen35) {
                matrix(w, p + "attn_q.weight", d, 2 * q, r); // each head's query, then its output gate
                matrix(w, p + "attn_k.weight", d, kv, r);
                matrix(w, p + "attn_v.weight", d, kv, r);
                vector(w, p + "attn_q_norm.weight", r.norm(hd));
                vector(w, p + "attn_k_norm.weight", r.norm(hd));
                matrix(w, p + "attn_output.weight", q, d, r);
            } else if (s.fusedQkv) {
                matrix(w, p + "attn_qkv.weight", d, q + 2 * kv, r);
            } else {
                matrix(w, p + "attn_q.weight", d, q, r);
                matrix(w, p + "attn_k.weight", d, kv, r);
                matrix(w, p + "attn_v.weight", d, kv, r);
            }
            if (s.qkvBias) {
                vector(w, p + "attn_q.bias", r.gaussian(q, 0.5));
                vector(w, p + "attn_k.bias", r.gaussian(kv, 0.5));
                vector(w, p + "attn_v.bias", r.gaussian(kv, 0.5));
            }
            if (s.qkNorm && !qwen35) {
                vector(w, p + "attn_q_norm.weight", r.norm(hd));
                vector(w, p + "attn_k_norm.weight", r.norm(hd));
            }
            if (!qwen35) {
                matrix(w, p + "attn_output.weight", q, d, r);
            }
            boolean gptOss = s.architecture.equals("gpt-oss");
            boolean glm = s.architecture.equals("glm4moe");
            boolean llama4 = s.architecture.equals("llama4");
            boolean moe = s.experts > 0 && i >= s.leadingDense && (s.moeLayerStep <= 1 || (i + 1) % s.moeLayerStep == 0);
            if (gptOss) {
                vector(w, p + "attn_output.bias", r.gaussian(d, 0.5));
                // sink logits around the scores' own size, so some heads' sinks take much of the softmax
                vector(w, p + "attn_sinks.weight", r.gaussian(s.heads, 1.5));
            }
            if (s.postNorms) {
                vector(w, p + "post_attention_norm.weight", r.norm(d));
            }
            // gpt-oss, GLM and Qwen3.5 name their feed-forward pre-norm post_attention_norm
            vector(w, p + (gptOss || glm || qwen35 ? "post_attention_norm.weight" : "ffn_norm.weight"), r.norm(d));
            if (moe) {
                int e = s.experts;
                int eff = s.expertFeedForward;
                // a router with larger weights, so each token's experts are clearly ranked
                w.addTensor(p + "ffn_gate_inp.weight", GgmlType.F32, new long[] {d, e}, bytes(r.gaussian(d * e, 0.5)));
                experts(w, p + "ffn_gate_exps.weight", d, eff, e, s.expertType, s.expertGateStd, r);
                experts(w, p + "ffn_up_exps.weight", d, eff, e, s.expertType, s.expertGateStd, r);
                experts(w, p + "ffn_down_exps.weight", eff, d, e, s.expertType, r.weightStd, r);
                if (gptOss) {
                    vector(w, p + "ffn_gate_inp.bias", r.gaussian(e, 0.5));
                    // biases wide enough that a few units pass the SwiGLU's clamps at ±7
                    w.addTensor(p + "ffn_gate_exps.bias", GgmlType.F32, new long[] {eff, e}, bytes(r.gaussian(eff * e, s.expertBiasStd)));
                    w.addTensor(p + "ffn_up_exps.bias", GgmlType.F32, new long[] {eff, e}, bytes(r.gaussian(eff * e, s.expertBiasStd)));
                    w.addTensor(p + "ffn_down_exps.bias", GgmlType.F32, new long[] {d, e}, bytes(r.gaussian(d * e, 0.5)));
                }
                if (s.sharedExpertFeedForward > 0) {
                    int sff = s.sharedExpertFeedForward;
                    vector(w, p + "ffn_gate_inp_shexp.weight", r.gaussian(d, 0.5));
                    matrix(w, p + "ffn_gate_shexp.weight", d, sff, r);
                    matrix(w, p + "ffn_up_shexp.weight", d, sff, r);
                    matrix(w, p + "ffn_down_shexp.weight", sff, d, r);
                }
                if (llama4) {
                    // the shared expert, as wide as one expert and always on
                    matrix(w, p + "ffn_gate_shexp.weight", d, eff, r);
                    matrix(w, p + "ffn_up_shexp.weight", d, eff, r);
                    matrix(w, p + "ffn_down_shexp.weight", eff, d, r);
                }
                if (glm) {
                    // a selection bias as large as the sigmoid scores' spread, so it changes some choices
                    vector(w, p + "exp_probs_b.bias", r.gaussian(e, 0.3));
                    int sff = eff * s.sharedExpertCount;
                    matrix(w, p + "ffn_gate_shexp.weight", d, sff, r);
                    matrix(w, p + "ffn_up_shexp.weight", d, sff, r);
                    matrix(w, p + "ffn_down_shexp.weight", sff, d, r);
                }
            } else if (s.fusedGateUp) {
                matrix(w, p + "ffn_up.weight", d, 2 * ff, r);
            } else {
                matrix(w, p + "ffn_gate.weight", d, ff, r);
                matrix(w, p + "ffn_up.weight", d, ff, r);
            }
            if (!moe) {
                matrix(w, p + "ffn_down.weight", ff, d, r);
            }
            if (s.postNorms) {
                vector(w, p + "post_ffw_norm.weight", r.norm(d));
            }
        }
    }

    /**
     * A Gemma 4 model's tensors at each layer's own shape, named as llama.cpp's converter writes them: the per-layer
     * embeddings and their projection, rope_freqs for the global layers, no k or v in the layers that read an earlier
     * layer's cache.
     */
    private static void writeGemma4(TinySpec s, GgufWriter w) {
        Random r = new Random(s.seed, s.weightStd);
        int d = s.embedding;
        int n = s.layers;
        int vocab = vocabularySize();
        int pl = s.perLayerInput;
        matrix(w, "token_embd.weight", d, vocab, r);
        vector(w, "output_norm.weight", r.norm(d));
        if (pl > 0) {
            matrix(w, "per_layer_token_embd.weight", pl * n, vocab, r);
            matrix(w, "per_layer_model_proj.weight", d, pl * n, r);
            vector(w, "per_layer_proj_norm.weight", r.norm(pl));
        }
        float[] freqs = new float[s.headDim / 2];
        for (int i = 0; i < freqs.length; i++) {
            freqs[i] = i < s.rotatedPairsGlobal ? 1f : 1e30f;
        }
        vector(w, "rope_freqs.weight", freqs);
        java.util.Set<Integer> noValues = new java.util.HashSet<>();
        for (int l : s.layersWithoutValues == null ? new int[0] : s.layersWithoutValues) {
            noValues.add(l);
        }
        for (int i = 0; i < n; i++) {
            String p = "blk." + i + ".";
            boolean sliding = s.slidingPattern[i];
            int hd = sliding ? s.headDimSwa : s.headDim;
            int q = s.heads * hd;
            int kv = (sliding ? s.headsKv : s.headsKvGlobal) * hd;
            boolean owns = i < n - s.sharedKvLayers;
            int ff = owns ? s.feedForward : 2 * s.feedForward;
            vector(w, p + "attn_norm.weight", r.norm(d));
            // Gemma 4 does not scale its scores: q and k norm weights near 1/2, so that scores spread as a trained
            // model's do rather than by √head
            matrix(w, p + "attn_q.weight", d, q, r);
            vector(w, p + "attn_q_norm.weight", halved(r.norm(hd)));
            if (owns) {
                matrix(w, p + "attn_k.weight", d, kv, r);
                if (!noValues.contains(i)) {
                    matrix(w, p + "attn_v.weight", d, kv, r);
                }
                vector(w, p + "attn_k_norm.weight", halved(r.norm(hd)));
            }
            matrix(w, p + "attn_output.weight", q, d, r);
            vector(w, p + "post_attention_norm.weight", r.norm(d));
            vector(w, p + "ffn_norm.weight", r.norm(d));
            matrix(w, p + "ffn_gate.weight", d, ff, r);
            matrix(w, p + "ffn_up.weight", d, ff, r);
            matrix(w, p + "ffn_down.weight", ff, d, r);
            vector(w, p + "post_ffw_norm.weight", r.norm(d));
            if (s.experts > 0) {
                int e = s.experts;
                int eff = s.expertFeedForward;
                // the router reads a unit-RMS input scaled by 1/√embedding: weights large enough that each token's
                // experts are clearly ranked
                w.addTensor(p + "ffn_gate_inp.weight", GgmlType.F32, new long[] {d, e}, bytes(r.gaussian(d * e, 1.0)));
                vector(w, p + "ffn_gate_inp.scale", r.norm(d));
                vector(w, p + "pre_ffw_norm_2.weight", r.norm(d));
                vector(w, p + "post_ffw_norm_1.weight", r.norm(d));
                vector(w, p + "post_ffw_norm_2.weight", r.norm(d));
                experts(w, p + "ffn_gate_up_exps.weight", d, 2 * eff, e, s.expertType, s.expertGateStd, r);
                experts(w, p + "ffn_down_exps.weight", eff, d, e, s.expertType, r.weightStd, r);
                vector(w, p + "ffn_down_exps.scale", r.norm(e));
            }
            if (pl > 0) {
                matrix(w, p + "inp_gate.weight", d, pl, r);
                matrix(w, p + "proj.weight", pl, d, r);
                vector(w, p + "post_norm.weight", r.norm(d));
            }
            vector(w, p + "layer_output_scale.weight", new float[] {0.5f + (float) i / n});
        }
    }

    /**
     * A Gemma 3n model's tensors, named and shaped as llama.cpp's loader wants them: the AltUp projections of the three
     * extra streams, the per-layer embeddings (Q4_0: 256 per layer of each of 32000 tokens) and their projection, and
     * per layer its attention, feed-forward block, AltUp and LAuReL weights and per-layer input.
     */
    private static void writeGemma3n(TinySpec s, GgufWriter w) {
        Random r = new Random(s.seed, s.weightStd);
        int d = s.embedding;
        int n = s.layers;
        int vocab = vocabularySize();
        int pl = s.perLayerInput;
        int hd = s.effectiveHeadDim();
        int q = s.heads * hd;
        int kv = s.headsKv * hd;
        int ff = s.feedForward;
        int streams = 4;
        int rank = 64;
        matrix(w, "token_embd.weight", d, vocab, r);
        experts(w, "altup_proj.weight", d, d, streams - 1, GgmlType.F32, r.weightStd, r);
        experts(w, "altup_unembd_proj.weight", d, d, streams - 1, GgmlType.F32, r.weightStd, r);
        float[] perLayer = r.gaussian(pl * n * vocab, r.weightStd);
        w.addTensor("per_layer_token_embd.weight", GgmlType.Q4_0, new long[] {pl * n, vocab},
                MemorySegment.ofArray(Quantizer.quantize(GgmlType.Q4_0, perLayer)));
        matrix(w, "per_layer_model_proj.weight", d, pl * n, r);
        vector(w, "per_layer_proj_norm.weight", r.norm(pl));
        vector(w, "output_norm.weight", r.norm(d));
        for (int i = 0; i < n; i++) {
            String p = "blk." + i + ".";
            vector(w, p + "attn_norm.weight", r.norm(d));
            matrix(w, p + "attn_q.weight", d, q, r);
            matrix(w, p + "attn_k.weight", d, kv, r);
            matrix(w, p + "attn_v.weight", d, kv, r);
            matrix(w, p + "attn_output.weight", q, d, r);
            // unscaled scores, as Gemma 4's: q and k norm weights near 1/2
            vector(w, p + "attn_q_norm.weight", halved(r.norm(hd)));
            vector(w, p + "attn_k_norm.weight", halved(r.norm(hd)));
            vector(w, p + "post_attention_norm.weight", r.norm(d));
            vector(w, p + "ffn_norm.weight", r.norm(d));
            matrix(w, p + "ffn_gate.weight", d, ff, r);
            matrix(w, p + "ffn_up.weight", d, ff, r);
            matrix(w, p + "ffn_down.weight", ff, d, r);
            vector(w, p + "post_ffw_norm.weight", r.norm(d));
            matrix(w, p + "inp_gate.weight", d, pl, r);
            matrix(w, p + "proj.weight", pl, d, r);
            vector(w, p + "post_norm.weight", r.norm(d));
            // coefficients that mix the streams visibly without letting them grow from layer to layer
            w.addTensor(p + "altup_correct_coef.weight", GgmlType.F32, new long[] {streams, streams},
                    bytes(r.gaussian(streams * streams, 0.2)));
            vector(w, p + "altup_correct_scale.weight", r.norm(d));
            w.addTensor(p + "altup_predict_coef.weight", GgmlType.F32, new long[] {streams, streams * streams},
                    bytes(r.gaussian(streams * streams * streams, 0.2)));
            w.addTensor(p + "altup_router.weight", GgmlType.F32, new long[] {d, streams}, bytes(r.gaussian(d * streams, 4.0)));
            vector(w, p + "altup_router_norm.weight", r.norm(d));
            matrix(w, p + "laurel_l.weight", d, rank, r);
            matrix(w, p + "laurel_r.weight", rank, d, r);
            vector(w, p + "laurel_post_norm.weight", r.norm(d));
        }
    }

    private static float[] halved(float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= 0.5f;
        }
        return v;
    }

    /**
     * A Qwen3.5 linear-attention layer's tensors, as llama.cpp's converter writes them: q|k|v and the gate z, a
     * convolution of F32 taps [channel][tap], β and α projections, dt_bias, a = −exp(A_log) with decays from about
     * e^-0.05 to e^-1 per unit of softplus, the per-head output norm and the output projection.
     */
    private static void linearAttention(TinySpec s, GgufWriter w, String p, Random r) {
        int d = s.embedding;
        int valueDim = s.ssmHeadDim * s.ssmValueHeads;
        int channels = 2 * s.ssmHeadDim * s.ssmKeyHeads + valueDim;
        int heads = s.ssmValueHeads;
        matrix(w, p + "attn_qkv.weight", d, channels, r);
        matrix(w, p + "attn_gate.weight", d, valueDim, r);
        w.addTensor(p + "ssm_conv1d.weight", GgmlType.F32, new long[] {s.ssmConvKernel, channels},
                bytes(r.gaussian(s.ssmConvKernel * channels, 0.5)));
        matrix(w, p + "ssm_beta.weight", d, heads, r);
        matrix(w, p + "ssm_alpha.weight", d, heads, r);
        vector(w, p + "ssm_dt.bias", r.gaussian(heads, 0.5));
        float[] a = new float[heads];
        for (int h = 0; h < heads; h++) {
            a[h] = (float) -Math.exp(Math.log(0.05) + (Math.log(1.0) - Math.log(0.05)) * h / Math.max(1, heads - 1));
        }
        vector(w, p + "ssm_a", a);
        vector(w, p + "ssm_norm.weight", r.norm(s.ssmHeadDim));
        matrix(w, p + "ssm_out.weight", valueDim, d, r);
    }

    /**
     * The divisors llama.cpp's converter writes for Llama 3 RoPE scaling: 1 for wavelengths shorter than
     * originalContext/highFactor, {@code factor} for those longer than originalContext/lowFactor, a smooth blend
     * between.
     */
    static float[] llama3Divisors(float base, int ropeDims, float factor, float lowFactor, float highFactor, int originalContext) {
        float[] out = new float[ropeDims / 2];
        double lowWavelength = originalContext / lowFactor;
        double highWavelength = originalContext / highFactor;
        for (int i = 0; i < out.length; i++) {
            double wavelength = 2 * Math.PI * Math.pow(base, 2.0 * i / ropeDims);
            if (wavelength < highWavelength) {
                out[i] = 1f;
            } else if (wavelength > lowWavelength) {
                out[i] = factor;
            } else {
                double smooth = (originalContext / wavelength - lowFactor) / (highFactor - lowFactor);
                out[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }

    /** LongRoPE-like divisors rising from 1 at the fastest pair to {@code top} at the slowest. */
    private static float[] longRopeFactors(int pairs, float top) {
        float[] out = new float[pairs];
        for (int i = 0; i < pairs; i++) {
            double t = pairs == 1 ? 1 : (double) i / (pairs - 1);
            out[i] = (float) (1 + (top - 1) * t * t);
        }
        return out;
    }

    private static void matrix(GgufWriter w, String name, int columns, int rows, Random r) {
        w.addTensor(name, GgmlType.F32, new long[] {columns, rows}, bytes(r.gaussian(columns * rows, r.weightStd)));
    }

    /** A 3-D expert tensor as llama.cpp's converter stacks it: [columns, rows, experts], in {@code type}. */
    private static void experts(GgufWriter w, String name, int columns, int rows, int experts, GgmlType type, double std, Random r) {
        float[] v = r.gaussian(columns * rows * experts, std);
        MemorySegment data = type == GgmlType.F32 ? bytes(v) : MemorySegment.ofArray(Quantizer.quantize(type, v));
        w.addTensor(name, type, new long[] {columns, rows, experts}, data);
    }

    private static void vector(GgufWriter w, String name, float[] v) {
        w.addTensor(name, GgmlType.F32, new long[] {v.length}, bytes(v));
    }

    private static MemorySegment bytes(float[] v) {
        MemorySegment seg = MemorySegment.ofArray(new byte[v.length * 4]);
        for (int i = 0; i < v.length; i++) {
            seg.set(F32, 4L * i, v[i]);
        }
        return seg;
    }

    static int vocabularySize() {
        return ((String[]) vocabulary().get("tokenizer.ggml.tokens").value()).length;
    }

    /** The {@code tokenizer.*} keys of the shared stories model, read once. */
    private static synchronized Map<String, GgufValue> vocabulary() {
        if (vocabulary == null) {
            Map<String, GgufValue> keys = new LinkedHashMap<>();
            try (GgufFile f = GgufFile.open(TestData.model(VOCABULARY_MODEL))) {
                f.metadata().asMap().forEach((k, v) -> {
                    if (k.startsWith("tokenizer.")) {
                        keys.put(k, v);
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            vocabulary = keys;
        }
        return vocabulary;
    }

    /** Seeded Gaussian values for weights. */
    private static final class Random {
        private final SplittableRandom r;
        final double weightStd;

        Random(long seed, double weightStd) {
            r = new SplittableRandom(seed);
            this.weightStd = weightStd;
        }

        float[] gaussian(int n, double std) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (r.nextGaussian() * std);
            }
            return v;
        }

        /** Norm weights around 1, as trained models (and Gemma's converted 1 + w) have them. */
        float[] norm(int n) {
            float[] v = gaussian(n, 0.1);
            for (int i = 0; i < n; i++) {
                v[i] += 1f;
            }
            return v;
        }
    }
}
