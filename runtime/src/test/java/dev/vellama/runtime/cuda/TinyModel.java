package dev.vellama.runtime.cuda;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufWriter;
import dev.vellama.quant.Quantizer;

/**
 * Writes a small random model (2 layers, width 256, GQA 4:2, vocabulary 96) in the layout of llama, qwen2, qwen3
 * phi3 (fused projections, a sliding window of 3), gemma2 or gemma3 (post-norms, GELU, tied output, soft-caps,
 * windows, a second RoPE base), smollm3 (4 layers, the last without RoPE) or mistral3 (the queries' temperature),
 * with a mix of weight types (Q4_0, Q8_0, Q4_K, Q6_K, and Q5_0 which the GPU converts to F16), small enough for the
 * host emulation of the kernels to run a forward pass in seconds.
 */
final class TinyModel {
    static final int EMBD = 256;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = EMBD / HEADS;
    static final int FF = 512;
    static final int VOCAB = 96;

    private TinyModel() {}

    /** What a test does with a tiny model: its configuration, weights and the stand-in driver. */
    interface Body {
        void run(dev.vellama.runtime.ModelConfig c, dev.vellama.runtime.model.ModelWeights w, CudaDriver driver)
                throws Exception;
    }

    /**
     * Writes a tiny model of {@code arch} to a temporary file, opens it for {@code body} with the emulated driver
     * (skipping the test where that cannot be built), then deletes it.
     */
    static void with(String arch, long seed, Body body) throws Exception {
        CudaDriver driver = FakeDriver.loadOrSkip();
        Path file = java.nio.file.Files.createTempFile("tiny-" + arch, ".gguf");
        try {
            write(file, arch, seed);
            try (dev.vellama.gguf.GgufFile gguf = dev.vellama.gguf.GgufFile.open(file)) {
                dev.vellama.runtime.ModelConfig c = dev.vellama.runtime.ModelConfig.fromGguf(gguf.metadata(), VOCAB);
                body.run(c, new dev.vellama.runtime.model.ModelWeights(gguf, c), driver);
            }
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    /** {@code count} token ids of the vocabulary, the i-th {@code (i · step + offset) mod VOCAB}. */
    static int[] tokens(int count, int step, int offset) {
        int[] t = new int[count];
        for (int i = 0; i < count; i++) {
            t[i] = (i * step + offset) % VOCAB;
        }
        return t;
    }

    /** Layers of the tiny model of {@code arch}: 2, or 4 for smollm3, whose every fourth layer has no RoPE. */
    static int layers(String arch) {
        return arch.equals("smollm3") ? 4 : LAYERS;
    }

    static void write(Path path, String arch, long seed) throws IOException {
        Random r = new Random(seed);
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", GgufValue.string(arch));
        w.put(arch + ".embedding_length", GgufValue.uint32(EMBD));
        int layers = layers(arch);
        w.put(arch + ".block_count", GgufValue.uint32(layers));
        w.put(arch + ".attention.head_count", GgufValue.uint32(HEADS));
        w.put(arch + ".attention.head_count_kv", GgufValue.uint32(KV_HEADS));
        w.put(arch + ".feed_forward_length", GgufValue.uint32(FF));
        w.put(arch + ".context_length", GgufValue.uint32(128));
        w.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.float32(1e-5f));
        if (!arch.equals("gemma3")) {
            w.put(arch + ".rope.freq_base", GgufValue.float32(10000f));
        }
        boolean gemma = arch.startsWith("gemma");
        if (arch.equals("phi3") || gemma) {
            w.put(arch + ".attention.sliding_window", GgufValue.uint32(3)); // short enough to matter in a test
        }
        if (arch.equals("gemma3")) {
            w.put(arch + ".rope.freq_base", GgufValue.float32(1e6f)); // global layers; local ones keep 10000
        }
        if (arch.equals("mistral3")) {
            // the queries' temperature grows every 4 positions, so a short test sees it change
            w.put(arch + ".attention.temperature_scale", GgufValue.float32(0.1f));
            w.put(arch + ".rope.scaling.original_context_length", GgufValue.uint32(4));
        }
        int kvDim = KV_HEADS * HEAD_DIM;
        matrix(w, "token_embd.weight", GgmlType.Q8_0, VOCAB, EMBD, r, 1f);
        vector(w, "output_norm.weight", EMBD, r, true);
        if (!gemma) { // Gemma ties the output to the embedding
            matrix(w, "output.weight", GgmlType.Q6_K, VOCAB, EMBD, r, 0.1f);
        }
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            vector(w, p + "attn_norm.weight", EMBD, r, true);
            boolean fused = arch.equals("phi3");
            if (fused) {
                matrix(w, p + "attn_qkv.weight", GgmlType.Q8_0, EMBD + 2 * kvDim, EMBD, r, 0.1f);
            } else {
                matrix(w, p + "attn_q.weight", GgmlType.Q4_0, EMBD, EMBD, r, 0.1f);
                matrix(w, p + "attn_k.weight", GgmlType.Q8_0, kvDim, EMBD, r, 0.1f);
                matrix(w, p + "attn_v.weight", GgmlType.Q4_K, kvDim, EMBD, r, 0.1f);
            }
            matrix(w, p + "attn_output.weight", GgmlType.Q6_K, EMBD, EMBD, r, 0.1f);
            if (arch.equals("qwen2")) {
                vector(w, p + "attn_q.bias", EMBD, r, false);
                vector(w, p + "attn_k.bias", kvDim, r, false);
                vector(w, p + "attn_v.bias", kvDim, r, false);
            }
            if (arch.equals("qwen3") || arch.equals("gemma3")) {
                vector(w, p + "attn_q_norm.weight", HEAD_DIM, r, true);
                vector(w, p + "attn_k_norm.weight", HEAD_DIM, r, true);
            }
            if (gemma) {
                vector(w, p + "post_attention_norm.weight", EMBD, r, true);
                vector(w, p + "post_ffw_norm.weight", EMBD, r, true);
            }
            vector(w, p + "ffn_norm.weight", EMBD, r, true);
            if (fused) {
                matrix(w, p + "ffn_up.weight", GgmlType.Q8_0, 2 * FF, EMBD, r, 0.1f);
            } else {
                matrix(w, p + "ffn_gate.weight", GgmlType.Q5_0, FF, EMBD, r, 0.1f);
                matrix(w, p + "ffn_up.weight", GgmlType.Q4_K, FF, EMBD, r, 0.1f);
            }
            matrix(w, p + "ffn_down.weight", GgmlType.Q8_0, EMBD, FF, r, 0.1f);
        }
        w.write(path);
    }

    private static void matrix(GgufWriter w, String name, GgmlType type, int rows, int cols, Random r, float scale) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() * scale;
        }
        w.addTensor(name, type, new long[] {cols, rows}, Quantizer.quantize(type, v));
    }

    private static void vector(GgufWriter w, String name, int n, Random r, boolean aroundOne) {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat((aroundOne ? 1f : 0f) + 0.1f * (float) r.nextGaussian());
        }
        w.addTensor(name, GgmlType.F32, new long[] {n}, b.array());
    }
}
