package dev.vellama.testdata;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufWriter;

/**
 * A small BERT written with the GGUF writer: the shared {@code bert-bge} vocabulary and its metadata, 2 layers of
 * 64 with 4 heads and a 128-wide feed-forward, random weights from a fixed seed (matrices and embeddings F16, norms
 * and biases F32), so the file is the same byte for byte on every machine. Its llama-embedding vectors are kept in
 * runtime's {@code bert-embeddings.json}; {@code main} writes the file for computing them. In the gguf test-jar so
 * every module's tests can use it.
 */
public final class TinyBert {
    public static final int D = 64;
    public static final int FF = 128;
    public static final int LAYERS = 2;
    public static final int HEADS = 4;
    public static final int CONTEXT = 512;

    private TinyBert() {}

    public static Path write(Path out) throws IOException {
        return write(out, 0);
    }

    /**
     * The same BERT with a reranker's classification head after its layers (llama.cpp's {@code cls} and, with
     * {@code outputs} 1, {@code cls.output}; 0 for a head without it, as jina-reranker-v1-tiny has) and
     * {@code bert.pooling_type} 4 (rank): the layers' weights are those of {@link #write}.
     */
    public static Path writeReranker(Path out, boolean withOutput) throws IOException {
        return write(out, withOutput ? 2 : 1);
    }

    /** head: 0 none, 1 cls only, 2 cls and cls.output. */
    private static Path write(Path out, int head) throws IOException {
        Random random = new Random(20261205L);
        try (GgufFile vocab = GgufFile.open(TestData.root().resolve("tokenizer-tests/ggml-vocab-bert-bge.gguf"))) {
            int vocabSize = vocab.metadata().getStringArray("tokenizer.ggml.tokens").length;
            GgufWriter w = new GgufWriter().putAll(vocab.metadata());
            w.put("general.name", GgufValue.string("tiny-bert"));
            w.put("bert.block_count", GgufValue.uint32(LAYERS));
            w.put("bert.context_length", GgufValue.uint32(CONTEXT));
            w.put("bert.embedding_length", GgufValue.uint32(D));
            w.put("bert.feed_forward_length", GgufValue.uint32(FF));
            w.put("bert.attention.head_count", GgufValue.uint32(HEADS));
            w.put("bert.pooling_type", GgufValue.uint32(head == 0 ? 1 : 4));
            w.put("general.file_type", GgufValue.uint32(1));
            w.addTensor("token_embd.weight", GgmlType.F16, new long[] {D, vocabSize}, f16(random, D * vocabSize, 0.5f));
            w.addTensor("token_types.weight", GgmlType.F32, new long[] {D, 2}, f32(random, D * 2, 0.1f, 0f));
            w.addTensor("position_embd.weight", GgmlType.F16, new long[] {D, CONTEXT}, f16(random, D * CONTEXT, 0.1f));
            w.addTensor("token_embd_norm.weight", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 1f));
            w.addTensor("token_embd_norm.bias", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 0f));
            for (int i = 0; i < LAYERS; i++) {
                String p = "blk." + i + ".";
                for (String m : new String[] {"attn_q", "attn_k", "attn_v", "attn_output"}) {
                    w.addTensor(p + m + ".weight", GgmlType.F16, new long[] {D, D}, f16(random, D * D, 0.15f));
                    w.addTensor(p + m + ".bias", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 0f));
                }
                w.addTensor(p + "attn_output_norm.weight", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 1f));
                w.addTensor(p + "attn_output_norm.bias", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 0f));
                w.addTensor(p + "ffn_up.weight", GgmlType.F16, new long[] {D, FF}, f16(random, D * FF, 0.15f));
                w.addTensor(p + "ffn_up.bias", GgmlType.F32, new long[] {FF}, f32(random, FF, 0.1f, 0f));
                w.addTensor(p + "ffn_down.weight", GgmlType.F16, new long[] {FF, D}, f16(random, D * FF, 0.15f));
                w.addTensor(p + "ffn_down.bias", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 0f));
                w.addTensor(p + "layer_output_norm.weight", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 1f));
                w.addTensor(p + "layer_output_norm.bias", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 0f));
            }
            if (head > 0) {
                w.addTensor("cls.weight", GgmlType.F16, new long[] {D, D}, f16(random, D * D, 0.3f));
                w.addTensor("cls.bias", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 0f));
            }
            if (head > 1) {
                w.addTensor("cls.output.weight", GgmlType.F32, new long[] {D, 1}, f32(random, D, 0.5f, 0f));
                w.addTensor("cls.output.bias", GgmlType.F32, new long[] {1}, f32(random, 1, 0.1f, 0f));
            }
            w.write(out);
        }
        return out;
    }

    private static byte[] f16(Random r, int n, float std) {
        ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putShort(Float.floatToFloat16((float) r.nextGaussian() * std));
        }
        return b.array();
    }

    private static byte[] f32(Random r, int n, float std, float mean) {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat(mean + (float) r.nextGaussian() * std);
        }
        return b.array();
    }

    /**
     * The same shape as {@code nomic-bert} (nomic-embed's layout): no position table, NEOX RoPE (base 1000), a fused
     * q|k|v matrix, SwiGLU, no biases but the LayerNorms'.
     */
    public static Path writeNomic(Path out) throws IOException {
        Random random = new Random(20261206L);
        try (GgufFile vocab = GgufFile.open(TestData.root().resolve("tokenizer-tests/ggml-vocab-bert-bge.gguf"))) {
            int vocabSize = vocab.metadata().getStringArray("tokenizer.ggml.tokens").length;
            GgufWriter w = new GgufWriter().putAll(vocab.metadata());
            for (String key : vocab.metadata().asMap().keySet()) {
                if (key.startsWith("bert.")) {
                    w.remove(key);
                }
            }
            w.put("general.architecture", GgufValue.string("nomic-bert"));
            w.put("general.name", GgufValue.string("tiny-nomic-bert"));
            w.put("nomic-bert.block_count", GgufValue.uint32(LAYERS));
            w.put("nomic-bert.context_length", GgufValue.uint32(CONTEXT));
            w.put("nomic-bert.embedding_length", GgufValue.uint32(D));
            w.put("nomic-bert.feed_forward_length", GgufValue.uint32(FF));
            w.put("nomic-bert.attention.head_count", GgufValue.uint32(HEADS));
            w.put("nomic-bert.attention.layer_norm_epsilon", GgufValue.float32(1e-12f));
            w.put("nomic-bert.attention.causal", GgufValue.bool(false));
            w.put("nomic-bert.pooling_type", GgufValue.uint32(1));
            w.put("nomic-bert.rope.freq_base", GgufValue.float32(1000f));
            w.put("general.file_type", GgufValue.uint32(1));
            w.addTensor("token_embd.weight", GgmlType.F16, new long[] {D, vocabSize}, f16(random, D * vocabSize, 0.5f));
            w.addTensor("token_types.weight", GgmlType.F32, new long[] {D, 2}, f32(random, D * 2, 0.1f, 0f));
            w.addTensor("token_embd_norm.weight", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 1f));
            w.addTensor("token_embd_norm.bias", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 0f));
            for (int i = 0; i < LAYERS; i++) {
                String p = "blk." + i + ".";
                w.addTensor(p + "attn_qkv.weight", GgmlType.F16, new long[] {D, 3 * D}, f16(random, 3 * D * D, 0.15f));
                w.addTensor(p + "attn_output.weight", GgmlType.F16, new long[] {D, D}, f16(random, D * D, 0.15f));
                w.addTensor(p + "attn_output_norm.weight", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 1f));
                w.addTensor(p + "attn_output_norm.bias", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 0f));
                w.addTensor(p + "ffn_up.weight", GgmlType.F16, new long[] {D, FF}, f16(random, D * FF, 0.15f));
                w.addTensor(p + "ffn_gate.weight", GgmlType.F16, new long[] {D, FF}, f16(random, D * FF, 0.15f));
                w.addTensor(p + "ffn_down.weight", GgmlType.F16, new long[] {FF, D}, f16(random, D * FF, 0.15f));
                w.addTensor(p + "layer_output_norm.weight", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 1f));
                w.addTensor(p + "layer_output_norm.bias", GgmlType.F32, new long[] {D}, f32(random, D, 0.1f, 0f));
            }
            w.write(out);
        }
        return out;
    }

    public static void main(String[] args) throws IOException {
        if (args.length > 1 && args[1].equals("nomic")) {
            writeNomic(Path.of(args[0]));
        } else if (args.length > 1 && args[1].startsWith("reranker")) {
            writeReranker(Path.of(args[0]), !args[1].equals("reranker-no-output"));
        } else {
            write(Path.of(args[0]));
        }
    }
}
