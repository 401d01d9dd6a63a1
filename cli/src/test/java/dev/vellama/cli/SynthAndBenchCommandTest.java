package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.testdata.TestData;
import dev.vellama.runtime.synth.ModelShape;
import dev.vellama.runtime.synth.SyntheticModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthAndBenchCommandTest {
    @TempDir
    Path tmp;

    /** A Llama-3-layout model small enough for a unit test, with the real vocabulary and RoPE scaling. */
    private Path smallLlama(SyntheticModel.FileType type) throws IOException {
        ModelShape small = new ModelShape("small", "llama", "10M", 256, 2, 4, 2, 64, 512, 2048, 500000f, 1e-5f,
                true, false, false, "tiny-llama3-q8_0.gguf", new float[] {32f, 1f, 4f, 8192f}, null, null, null, null);
        Path out = tmp.resolve("small-" + type + ".gguf");
        try (GgufFile vocab = GgufFile.open(TestData.model("tiny-llama3-q8_0.gguf"))) {
            SyntheticModel.write(small, type, vocab.metadata(), 7, out);
        }
        return out;
    }

    @Test
    void synthWritesTheShapeAndTypesAsked() throws IOException {
        Path file = smallLlama(SyntheticModel.FileType.Q4_K_M);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(256, f.metadata().getInt("llama.embedding_length"));
            assertEquals(15, f.metadata().getInt("general.file_type"));
            assertEquals(GgmlType.Q6_K, f.tensor("token_embd.weight").type(), "tied output in Q6_K");
            assertEquals(GgmlType.Q4_K, f.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.Q4_K, f.tensor("blk.0.attn_v.weight").type());
            assertEquals(GgmlType.Q6_K, f.tensor("blk.1.attn_v.weight").type(), "the last eighth of the layers gets more bits");
            assertEquals(32, f.tensor("rope_freqs.weight").elementCount());
            assertEquals(128256, f.metadata().getStringArray("tokenizer.ggml.tokens").length);
        }
        // the engine runs it
        CliRunner r = CliRunner.run("run", "-m", file.toString(), "-p", "Hello", "-n", "4", "--temp", "0", "--json");
        assertEquals(0, r.exitCode(), r.err());
    }

    /**
     * A Qwen1.5-MoE-layout model scaled down (8 experts of 128, 2 per token, a shared expert): the stacked expert
     * tensors in the file's types with the router in F32, as llama-quantize leaves them, and the engine runs it.
     */
    /** gpt-oss scaled down: MXFP4 experts whatever the file type, sinks, biases and the window come with the family. */
    @Test
    void synthWritesGptOssShapes() throws IOException {
        ModelShape small = new ModelShape("small-oss", "gpt-oss", "A10M", 256, 2, 4, 2, 64, 256, 4096, 150000f, 1e-5f,
                false, true, false, "tiny-llama3-q8_0.gguf", null, new ModelShape.Experts(8, 2, 256, 0), null, null, null);
        Path file = tmp.resolve("small-oss.gguf");
        try (GgufFile vocab = GgufFile.open(TestData.model("tiny-llama3-q8_0.gguf"))) {
            SyntheticModel.write(small, SyntheticModel.FileType.Q8_0, vocab.metadata(), 7, file);
        }
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(GgmlType.MXFP4, f.tensor("blk.0.ffn_up_exps.weight").type());
            assertEquals(GgmlType.Q8_0, f.tensor("blk.0.attn_q.weight").type());
            assertEquals(4, f.tensor("blk.1.attn_sinks.weight").elementCount());
            assertEquals(128, f.metadata().getInt("gpt-oss.attention.sliding_window"));
            assertEquals("yarn", f.metadata().getString("gpt-oss.rope.scaling.type"));
        }
        CliRunner r = CliRunner.run("bench", "-m", file.toString(), "-p", "8", "-n", "4", "-t", "2", "-r", "1");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(2, r.out().lines().filter(l -> l.startsWith("| gpt-oss A10M Q8_0")).count(), r.out());
    }

    /**
     * Qwen3.5 scaled down, dense and with experts: three linear-attention layers (F32 convolution, the rest in the
     * file's type) and a gated attention layer whose query projection carries the gates; the engine benches both.
     */
    @Test
    void synthWritesQwen35Shapes() throws IOException {
        ModelShape.LinearAttention linear = new ModelShape.LinearAttention(2, 4, 64);
        ModelShape dense = new ModelShape("small-qwen35", "qwen35", "10M", 256, 4, 4, 2, 64, 512, 4096, 10000000f, 1e-6f,
                true, false, true, "tiny-qwen3-q8_0.gguf", null, null, linear, null, null);
        ModelShape moe = new ModelShape("small-qwen35moe", "qwen35moe", "A10M", 256, 4, 4, 2, 64, 0, 4096, 10000000f, 1e-6f,
                false, false, true, "tiny-qwen3-q8_0.gguf", null, new ModelShape.Experts(8, 2, 128, 128), linear, null, null);
        for (ModelShape shape : new ModelShape[] {dense, moe}) {
            Path file = tmp.resolve(shape.name() + ".gguf");
            try (GgufFile vocab = GgufFile.open(TestData.model(shape.tokenizerModel()))) {
                SyntheticModel.write(shape, SyntheticModel.FileType.Q4_0, vocab.metadata(), 7, file);
            }
            try (GgufFile f = GgufFile.open(file)) {
                assertEquals(GgmlType.F32, f.tensor("blk.0.ssm_conv1d.weight").type());
                assertEquals(GgmlType.Q4_0, f.tensor("blk.0.attn_qkv.weight").type());
                assertEquals((2 * 2 * 64 + 4 * 64) * 256, f.tensor("blk.0.attn_qkv.weight").elementCount());
                assertEquals(2 * 4 * 64 * 256, f.tensor("blk.3.attn_q.weight").elementCount(), "queries and their gates");
                assertEquals(16, f.metadata().getInt(shape.architecture() + ".rope.dimension_count"));
            }
            CliRunner r = CliRunner.run("bench", "-m", file.toString(), "-p", "8", "-n", "4", "-t", "2", "-r", "1");
            assertEquals(0, r.exitCode(), r.err());
            assertEquals(2, r.out().lines().filter(l -> l.startsWith("| " + shape.architecture() + " " + shape.sizeLabel() + " Q4_0"))
                    .count(), r.out());
        }
    }

    /**
     * GLM-4.5 and Llama 4 scaled down: GLM's dense first layer, selection bias and shared expert with half of each
     * head rotated; Llama 4's experts on every layer with a shared expert; the engine benches both.
     */
    @Test
    void synthWritesGlmAndLlama4Shapes() throws IOException {
        ModelShape glm = new ModelShape("small-glm", "glm4moe", "A10M", 256, 3, 4, 2, 64, 512, 4096, 1000000f, 1e-5f,
                false, true, false, "tiny-qwen2-q4_0.gguf", null, new ModelShape.Experts(8, 2, 128, 0), null, null, null);
        ModelShape llama4 = new ModelShape("small-llama4", "llama4", "A10M", 256, 4, 4, 2, 64, 512, 4096, 500000f, 1e-5f,
                false, false, false, "tiny-llama3-q8_0.gguf", new float[] {16f, 1f, 1f, 8192f}, new ModelShape.Experts(8, 1, 128, 0), null, null, null);
        for (ModelShape shape : new ModelShape[] {glm, llama4}) {
            Path file = tmp.resolve(shape.name() + ".gguf");
            try (GgufFile vocab = GgufFile.open(TestData.model(shape.tokenizerModel()))) {
                SyntheticModel.write(shape, SyntheticModel.FileType.Q4_0, vocab.metadata(), 7, file);
            }
            try (GgufFile f = GgufFile.open(file)) {
                assertEquals(GgmlType.Q4_0, f.tensor("blk.1.ffn_up_exps.weight").type());
                assertEquals(128 * 256, f.tensor("blk.1.ffn_up_shexp.weight").elementCount());
                if (shape == glm) {
                    assertEquals(512 * 256, f.tensor("blk.0.ffn_up.weight").elementCount(), "the dense first layer");
                    assertEquals(8, f.tensor("blk.2.exp_probs_b.bias").elementCount());
                    assertEquals(32, f.metadata().getInt("glm4moe.rope.dimension_count"));
                }
            }
            CliRunner r = CliRunner.run("bench", "-m", file.toString(), "-p", "8", "-n", "4", "-t", "2", "-r", "1");
            assertEquals(0, r.exitCode(), r.err());
            assertEquals(2, r.out().lines().filter(l -> l.startsWith("| " + shape.architecture() + " A10M Q4_0")).count(), r.out());
        }
    }

    /**
     * Gemma 4 scaled down: the edge layout (per-layer inputs, the last layers sharing caches with a double-wide
     * feed-forward) and the mixture of experts beside each dense block; the engine benches both.
     */
    @Test
    void synthWritesGemma4Shapes() throws IOException {
        ModelShape edge = new ModelShape("small-gemma4-e", "gemma4", "E10M", 256, 10, 4, 1, 128, 512, 4096, 1000000f, 1e-6f,
                true, false, true, "tiny-qwen3-q8_0.gguf", null, null, null,
                new ModelShape.Gemma4(5, 16, 64, 1, 0.25f, 10000f, false, 5, 32, true, 30f), null);
        ModelShape moe = new ModelShape("small-gemma4-moe", "gemma4", "A10M", 256, 6, 4, 2, 128, 256, 4096, 1000000f, 1e-6f,
                true, false, true, "tiny-qwen3-q8_0.gguf", null, new ModelShape.Experts(8, 2, 128, 0), null,
                new ModelShape.Gemma4(6, 16, 64, 1, 0.25f, 10000f, true, 0, 0, false, 30f), null);
        for (ModelShape shape : new ModelShape[] {edge, moe}) {
            Path file = tmp.resolve(shape.name() + ".gguf");
            try (GgufFile vocab = GgufFile.open(TestData.model(shape.tokenizerModel()))) {
                SyntheticModel.write(shape, SyntheticModel.FileType.Q4_0, vocab.metadata(), 7, file);
            }
            try (GgufFile f = GgufFile.open(file)) {
                assertEquals(shape == edge, f.hasTensor("per_layer_token_embd.weight"));
                assertEquals(shape == moe, f.hasTensor("blk.0.ffn_gate_up_exps.weight"));
                assertEquals(64, f.metadata().getInt("gemma4.attention.key_length_swa"));
            }
            CliRunner r = CliRunner.run("bench", "-m", file.toString(), "-p", "8", "-n", "4", "-t", "2", "-r", "1");
            assertEquals(0, r.exitCode(), r.err());
            assertEquals(2, r.out().lines().filter(l -> l.startsWith("| gemma4 " + shape.sizeLabel() + " Q4_0")).count(), r.out());
        }
    }

    /**
     * Gemma 3n scaled down (five layers with AltUp, LAuReL and per-layer inputs of 256, Llama 2's vocabulary keeping
     * the per-layer embeddings small); the engine benches it.
     */
    @Test
    void synthWritesGemma3nShapes() throws IOException {
        ModelShape small = new ModelShape("small-gemma3n", "gemma3n", "E10M", 256, 5, 4, 2, 64, 512, 4096, 1000000f, 1e-6f,
                true, false, true, "stories-llama2-q8_0.gguf", null, null, null, null,
                new ModelShape.Gemma3n(5, 16, 10000f, 0, 256, 4, 64, 10, 0.95f, 30f));
        Path file = tmp.resolve("small-gemma3n.gguf");
        try (GgufFile vocab = GgufFile.open(TestData.model(small.tokenizerModel()))) {
            SyntheticModel.write(small, SyntheticModel.FileType.Q4_0, vocab.metadata(), 7, file);
        }
        try (GgufFile f = GgufFile.open(file)) {
            assertTrue(f.hasTensor("altup_proj.weight"));
            assertTrue(f.hasTensor("blk.4.laurel_l.weight"));
            assertEquals(256 * 5, f.tensor("per_layer_token_embd.weight").dim(0));
        }
        CliRunner r = CliRunner.run("bench", "-m", file.toString(), "-p", "8", "-n", "4", "-t", "2", "-r", "1");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(2, r.out().lines().filter(l -> l.startsWith("| gemma3n E10M Q4_0")).count(), r.out());
    }

    /** The help names every shape synth knows, none broken across lines. */
    @Test
    void synthHelpListsEveryShape() {
        CliRunner r = CliRunner.run("synth", "--help");
        assertEquals(0, r.exitCode(), r.err());
        for (ModelShape shape : ModelShape.KNOWN) {
            assertTrue(r.out().contains(shape.name()), shape.name() + " missing from: " + r.out());
        }
    }

    @Test
    void synthWritesMixtureOfExpertsShapes() throws IOException {
        ModelShape small = new ModelShape("small-moe", "qwen2moe", "A10M", 256, 2, 4, 4, 64, 512, 2048, 1000000f, 1e-6f,
                false, true, false, "tiny-qwen2-q4_0.gguf", null, new ModelShape.Experts(8, 2, 128, 256), null, null, null);
        Path file = tmp.resolve("small-moe.gguf");
        try (GgufFile vocab = GgufFile.open(TestData.model("tiny-qwen2-q4_0.gguf"))) {
            SyntheticModel.write(small, SyntheticModel.FileType.Q4_0, vocab.metadata(), 7, file);
        }
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(8, f.metadata().getInt("qwen2moe.expert_count"));
            assertEquals(2, f.metadata().getInt("qwen2moe.expert_used_count"));
            assertEquals(GgmlType.F32, f.tensor("blk.0.ffn_gate_inp.weight").type());
            assertEquals(GgmlType.Q4_0, f.tensor("blk.0.ffn_up_exps.weight").type());
            assertEquals(3, f.tensor("blk.1.ffn_down_exps.weight").dimensions());
            assertEquals(GgmlType.Q4_0, f.tensor("blk.1.ffn_down_shexp.weight").type());
        }
        CliRunner r = CliRunner.run("bench", "-m", file.toString(), "-p", "8", "-n", "4", "-t", "2", "-r", "1");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(2, r.out().lines().filter(l -> l.startsWith("| qwen2moe A10M Q4_0")).count(), r.out());
    }

    @Test
    void synthCommandChecksItsArguments() {
        CliRunner r = CliRunner.run("synth", "--like", "gpt-5", "--type", "Q4_0", "-o", tmp.resolve("x.gguf").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("unknown model shape 'gpt-5'"), r.err());
        r = CliRunner.run("synth", "--like", "llama-3.2-1b", "--type", "Q3_X", "-o", tmp.resolve("x.gguf").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("unknown type 'Q3_X'"), r.err());
    }

    @Test
    void benchPrintsLlamaBenchTableAndJson() throws IOException {
        Path file = smallLlama(SyntheticModel.FileType.Q4_0);
        CliRunner r = CliRunner.run("bench", "-m", file.toString(), "-p", "16,8", "-n", "4", "-t", "1,2", "-r", "2");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("| model "), r.out());
        assertEquals(6, r.out().lines().filter(l -> l.startsWith("| llama 10M Q4_0")).count(), r.out());
        assertTrue(r.out().contains("pp16") && r.out().contains("pp8") && r.out().contains("tg4"));

        r = CliRunner.run("bench", "-m", file.toString(), "-p", "8", "-n", "4", "-r", "2", "-t", "2", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals(2, doc.size());
        for (JsonNode test : doc) {
            for (String field : new String[] {"model_filename", "model_type", "model_size", "model_n_params", "n_threads",
                    "n_prompt", "n_gen", "avg_ts", "stddev_ts", "samples_ts", "samples_ns", "avg_ns"}) {
                assertTrue(test.has(field), "field " + field);
            }
            assertEquals(2, test.get("samples_ts").size());
            assertTrue(test.get("avg_ts").asDouble() > 0);
        }
        assertEquals(8, doc.get(0).get("n_prompt").asInt());
        assertEquals(4, doc.get(1).get("n_gen").asInt());
    }
}
