package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.VellamaException;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KL divergence as llama-perplexity measures it: a base file in llama.cpp's format, written here and read back,
 * and a Q4_0 model compared with its Q8_0 base, next to what llama.cpp computes from the same base file.
 */
class KlDivergenceTest {
    private static final int CHUNK = 128;
    private static final int CHUNKS = 8;
    private static int[] tokens;

    @TempDir
    static Path dir;

    private static Path base;

    @BeforeAll
    static void writeBase() throws IOException {
        base = dir.resolve("base8.bin");
        try (Model q8 = Model.load(TestData.model("stories-llama2-q8_0.gguf"));
             Session s = q8.newSession(SessionOptions.defaults().withContextSize(CHUNK).withBatchSize(CHUNK).withThreads(2))) {
            String text = Files.readString(TestData.root().resolve("golden/perplexity.txt"), StandardCharsets.UTF_8);
            tokens = q8.tokenizer().encode(text, true, false);
            Perplexity.Result r = Perplexity.compute(s, tokens, CHUNK, CHUNKS, null, base);
            assertEquals(reference().path("base_ppl").asDouble(), r.ppl(), 1e-3, "the base run's own PPL");
        }
    }

    private static JsonNode reference() throws IOException {
        try (InputStream in = KlDivergenceTest.class.getResourceAsStream("/kl-divergence.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static KlDivergence.Result compare(String model) throws IOException {
        try (Model m = Model.load(TestData.model(model));
             Session s = m.newSession(SessionOptions.defaults().withContextSize(CHUNK).withBatchSize(CHUNK).withThreads(2));
             LogProbsFile.Reader reader = new LogProbsFile.Reader(base)) {
            return KlDivergence.compare(s, reader, null);
        }
    }

    @Test
    void theBaseFileHasLlamaCppsHeaderAndTheTokens() throws IOException {
        try (LogProbsFile.Reader r = new LogProbsFile.Reader(base)) {
            assertEquals(CHUNK, r.chunkSize());
            assertEquals(32000, r.vocab());
            assertEquals(CHUNKS, r.chunks());
            assertArrayEquals(Arrays.copyOf(tokens, CHUNK * CHUNKS), r.tokens());
        }
        long rows = (long) (CHUNK - 1 - CHUNK / 2) * CHUNKS;
        assertEquals(20 + 4L * CHUNK * CHUNKS + 2 * rows * (32000 + 4), Files.size(base));
    }

    @Test
    void theSameModelDivergesByNothing() throws IOException {
        KlDivergence.Result r = compare("stories-llama2-q8_0.gguf");
        assertEquals(0, r.kld().value(), 1e-5, "only the file's 16-bit rounding of log-probabilities");
        assertEquals(1.0, r.sameTop().value());
        assertEquals(r.ppl().value(), r.pplBase().value(), r.ppl().value() * 1e-4);
    }

    @Test
    void q4_0AgainstItsQ8_0BaseAsLlamaCppMeasuresIt() throws IOException {
        JsonNode ref = reference().path("llama_cpp_q4_0");
        KlDivergence.Result r = compare("stories-llama2-q4_0.gguf");
        assertEquals(reference().path("base_ppl").asDouble(), r.pplBase().value(), 1e-3, "PPL(base) is read from the file");
        assertEquals(ref.path("ppl").asDouble(), r.ppl().value(), 0.1);
        // the two programs' Q4_0 logits differ by rounding, so the statistics agree closely, not to every digit
        assertEquals(ref.path("mean_kld").asDouble(), r.kld().value(), 0.1 * ref.path("mean_kld").asDouble());
        assertEquals(ref.path("median_kld").asDouble(), KlDivergence.Result.median(r.sortedKld()), 0.1 * ref.path("median_kld").asDouble());
        assertEquals(ref.path("rms_dp_percent").asDouble(), 100 * r.pDifferenceRms().value(), 0.05);
        assertEquals(ref.path("same_top_percent").asDouble(), 100 * r.sameTop().value(), 0.5);
        assertEquals(CHUNKS * (CHUNK - 1 - CHUNK / 2), r.count());
    }

    @Test
    void cutForeignAndMismatchedFilesAreRefused() throws IOException {
        Path cut = dir.resolve("cut.bin");
        byte[] all = Files.readAllBytes(base);
        Files.write(cut, Arrays.copyOf(all, all.length - 1000));
        VellamaException e = assertThrows(VellamaException.class, () -> new LogProbsFile.Reader(cut));
        assertTrue(e.getMessage().contains("cut or damaged"), e.getMessage());
        Path foreign = dir.resolve("foreign.bin");
        Files.writeString(foreign, "GGUF and more");
        e = assertThrows(VellamaException.class, () -> new LogProbsFile.Reader(foreign));
        assertTrue(e.getMessage().contains("not a file of log-probabilities"), e.getMessage());
        e = assertThrows(VellamaException.class, () -> compare("tiny-llama3-q8_0.gguf"));
        assertTrue(e.getMessage().contains("not the same tokenizer"), e.getMessage());
        e = assertThrows(VellamaException.class, () -> new LogProbsFile.Reader(dir.resolve("missing.bin")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void nearestIntRoundsHalfToEvenAsGgml() {
        assertEquals(2, LogProbsFile.nearestInt(2.5f));
        assertEquals(4, LogProbsFile.nearestInt(3.5f));
        assertEquals(3, LogProbsFile.nearestInt(3.4999f));
        assertEquals(65535, LogProbsFile.nearestInt(65535f));
    }
}
