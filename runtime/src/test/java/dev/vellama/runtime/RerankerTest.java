package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.vellama.testdata.TinyBert;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rerankers: the small BERT with a classification head ({@link TinyBert#writeReranker}), with and without
 * {@code cls.output}, scores pairs as llama.cpp's rank pooling does (llama-embedding's scores kept in
 * reranker-scores.json), and lays a query and a document out as llama-server does.
 */
class RerankerTest {
    @TempDir
    static Path dir;
    private static Path withOutput;
    private static Path withoutOutput;
    private static JsonNode ref;

    @BeforeAll
    static void write() throws Exception {
        withOutput = TinyBert.writeReranker(dir.resolve("rr.gguf"), true);
        withoutOutput = TinyBert.writeReranker(dir.resolve("rr0.gguf"), false);
        try (InputStream in = RerankerTest.class.getResourceAsStream("/reranker-scores.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        assertEquals(ref.path("sha256").path("output").asText(), sha256(withOutput), "the file llama-embedding scored");
        assertEquals(ref.path("sha256").path("no-output").asText(), sha256(withoutOutput), "the file llama-embedding scored");
    }

    private static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    @Test
    void scoresAreLlamaCppsRankPooling() throws IOException {
        for (String head : new String[] {"output", "no-output"}) {
            try (EncoderModel m = EncoderModel.load(head.equals("output") ? withOutput : withoutOutput, 2)) {
                assertTrue(m.ranks());
                JsonNode cases = ref.path("cases");
                int[][] tokens = new int[cases.size()][];
                for (int i = 0; i < tokens.length; i++) {
                    tokens[i] = m.tokenizer().encode(cases.get(i).path("prompt").asText(), true, true);
                }
                int[] first = new int[ref.path("first_tokens").size()];
                for (int i = 0; i < first.length; i++) {
                    first[i] = ref.path("first_tokens").get(i).asInt();
                }
                assertArrayEquals(first, tokens[0], "the tokens llama-embedding scored");
                float[] together = m.rankTokens(tokens);
                for (int i = 0; i < tokens.length; i++) {
                    double expected = cases.get(i).path(head).asDouble();
                    // llama.cpp rounds the [CLS] state to F16 for the F16 dense layer; so do the F16 layers before it
                    assertEquals(expected, together[i], 2e-3 * Math.max(1, Math.abs(expected)), head + " case " + i);
                    assertEquals(together[i], m.rankTokens(new int[][] {tokens[i]})[0], 1e-5, "alone and in a batch");
                }
            }
        }
    }

    @Test
    void aQueryAndADocumentAreLaidOutAsLlamaServerLaysThemOut() throws IOException {
        try (EncoderModel m = EncoderModel.load(withOutput, 2)) {
            int[] q = m.tokenizer().encode("what is a panda?", false, false);
            int[] d = m.tokenizer().encode("The giant panda is a bear native to China.", false, false);
            int[] pair = m.tokenizer().rerankPair(q, d);
            // BERT's WordPiece: [CLS] query [SEP] document (BOS, the pair separator, no EOS)
            assertEquals(101, pair[0]);
            assertEquals(102, pair[1 + q.length]);
            assertEquals(2 + q.length + d.length, pair.length);
            assertArrayEquals(q, java.util.Arrays.copyOfRange(pair, 1, 1 + q.length));
            assertArrayEquals(d, java.util.Arrays.copyOfRange(pair, 2 + q.length, pair.length));
            List<String> docs = List.of("The giant panda is a bear native to China.", "Paris is the capital of France.");
            float[] scores = m.rank("what is a panda?", docs);
            assertEquals(2, scores.length);
            assertEquals(m.rankTokens(new int[][] {pair})[0], scores[0], 1e-5);
        }
    }

    @Test
    void anEmbeddingModelIsNotAReranker() throws IOException {
        try (EncoderModel m = EncoderModel.load(TinyBert.write(dir.resolve("plain.gguf")), 2)) {
            assertFalse(m.ranks());
            UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> m.rank("q", List.of("d")));
            assertTrue(e.getMessage().contains("not a reranker"), e.getMessage());
        }
    }
}
