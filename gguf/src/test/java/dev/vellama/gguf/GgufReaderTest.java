package dev.vellama.gguf;

import dev.vellama.testdata.TestData;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GgufReaderTest {

    static Stream<Path> sharedFiles() {
        return TestData.allGgufFiles();
    }

    @ParameterizedTest
    @MethodSource("sharedFiles")
    void opensEverySharedFile(Path path) throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            assertTrue(f.version() == 2 || f.version() == 3);
            assertTrue(f.metadata().size() > 0);
            assertTrue(f.metadata().contains("tokenizer.ggml.model"), "every shared file carries a tokenizer");
            int vocab = f.metadata().getStringArray("tokenizer.ggml.tokens").length;
            assertTrue(vocab > 1000, "vocabulary of " + vocab);
            long end = f.dataOffset();
            for (GgufTensor t : f.tensors()) {
                assertEquals(t.type().byteSize(t.elementCount()), t.byteSize(), t.name());
                assertEquals(0, (t.fileOffset() - f.dataOffset()) % f.alignment(), t.name());
                assertTrue(t.fileOffset() >= end, "tensors are laid out in order without overlap: " + t.name());
                end = t.fileOffset() + t.byteSize();
            }
            assertTrue(f.tensors().isEmpty() || end <= f.fileSize());
        }
    }

    @Test
    void readsTheStoriesModelAsGgufDumpDoes() throws IOException {
        try (GgufFile f = GgufFile.open(TestData.model("stories-llama2-q8_0.gguf"))) {
            assertEquals(3, f.version());
            assertEquals("llama", f.architecture());
            assertEquals(27, f.metadata().size());
            assertEquals(57, f.tensors().size());
            GgufMetadata m = f.metadata();
            assertEquals(6, m.getInt("llama.block_count"));
            assertEquals(256, m.getInt("llama.embedding_length"));
            assertEquals(768, m.getInt("llama.feed_forward_length"));
            assertEquals(4, m.getInt("llama.attention.head_count"));
            assertEquals(2, m.getInt("llama.attention.head_count_kv"));
            assertEquals(10000f, m.getFloat("llama.rope.freq_base"));
            assertEquals(1e-5f, m.getFloat("llama.attention.layer_norm_rms_epsilon"));
            assertEquals("llama", m.getString("tokenizer.ggml.model"));
            assertTrue(m.getBool("tokenizer.ggml.add_bos_token"));
            String[] tokens = m.getStringArray("tokenizer.ggml.tokens");
            assertEquals(32000, tokens.length);
            assertEquals("<s>", tokens[1]);
            assertEquals("<0x0A>", tokens[3 + 10]);
            assertEquals(32000, m.getFloatArray("tokenizer.ggml.scores").length);
            assertEquals(6, m.getIntArray("tokenizer.ggml.token_type")[3]);

            Map<GgmlType, Integer> byType = new TreeMap<>();
            f.tensors().forEach(t -> byType.merge(t.type(), 1, Integer::sum));
            assertEquals(Map.of(GgmlType.F32, 13, GgmlType.Q8_0, 44), byType);

            GgufTensor out = f.tensor("output.weight");
            assertArrayEquals(new long[] {256, 32000}, out.shape());
            assertEquals(256, out.columns());
            assertEquals(32000, out.rows());
            assertEquals(32000L * 256 / 32 * 34, out.byteSize());
            GgufTensor norm = f.tensor("output_norm.weight");
            float w0 = norm.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
            assertTrue(Float.isFinite(w0) && w0 != 0f, "norm weights are real numbers");
        }
    }

    @Test
    void readsQuantizationMixesOfTheSharedModels() throws IOException {
        try (GgufFile f = GgufFile.open(TestData.model("tiny-qwen2-q4_0.gguf"))) {
            assertEquals("qwen2", f.architecture());
            assertEquals(GgmlType.Q8_0, f.tensor("token_embd.weight").type());
            assertEquals(GgmlType.Q4_0, f.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.F32, f.tensor("blk.0.attn_q.bias").type());
            assertEquals(151936, f.metadata().getStringArray("tokenizer.ggml.tokens").length);
        }
        try (GgufFile f = GgufFile.open(TestData.model("stories-llama2-q4_k_m.gguf"))) {
            assertTrue(f.tensors().stream().anyMatch(t -> t.type() == GgmlType.Q4_K));
            assertTrue(f.tensors().stream().anyMatch(t -> t.type() == GgmlType.Q6_K));
        }
        try (GgufFile f = GgufFile.open(TestData.model("tiny-llama3-q8_0.gguf"))) {
            GgufTensor freqs = f.tensor("rope_freqs.weight");
            assertEquals(GgmlType.F32, freqs.type());
            assertEquals(1, freqs.dimensions());
            assertFalse(f.hasTensor("output.weight"), "tied embeddings: no separate output matrix");
        }
    }

    @Test
    void typedAccessNamesKeyAndActualType() throws IOException {
        try (GgufFile f = GgufFile.open(TestData.model("stories-llama2-q8_0.gguf"))) {
            GgufMetadata m = f.metadata();
            var e = assertThrows(GgufMetadataException.class, () -> m.getString("llama.block_count"));
            assertEquals("metadata key 'llama.block_count' is UINT32, not STRING", e.getMessage());
            e = assertThrows(GgufMetadataException.class, () -> m.getInt("tokenizer.ggml.tokens"));
            assertTrue(e.getMessage().contains("ARRAY[STRING]"), e.getMessage());
            e = assertThrows(GgufMetadataException.class, () -> m.getInt("no.such.key"));
            assertEquals("metadata key 'no.such.key' is missing", e.getMessage());
            assertEquals(7, m.getInt("no.such.key", 7));
            var t = assertThrows(GgufMetadataException.class, () -> f.tensor("blk.99.attn_q.weight"));
            assertTrue(t.getMessage().contains("blk.99.attn_q.weight"));
        }
    }

    @Test
    void closingUnmapsTheFile() throws IOException {
        GgufFile f = GgufFile.open(TestData.model("stories-llama2-q8_0.gguf"));
        GgufTensor t = f.tensor("output_norm.weight");
        f.close();
        assertThrows(IllegalStateException.class, () -> t.data().get(ValueLayout.JAVA_BYTE, 0));
        f.close(); // idempotent
    }

    @Test
    void missingFileIsAClearError() {
        var e = assertThrows(java.nio.file.NoSuchFileException.class, () -> GgufFile.open(Path.of("/no/such/model.gguf")));
        assertTrue(e.getMessage().contains("/no/such/model.gguf"));
    }
}
