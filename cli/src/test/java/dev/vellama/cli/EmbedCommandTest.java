package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vellama embed}: llama-embedding's input splitting and its output formats. */
class EmbedCommandTest {
    private static String model() {
        return TestData.model("tiny-llama3-q8_0.gguf").toString();
    }

    @Test
    void jsonArrayAndDefaultFormats(@TempDir Path tmp) throws Exception {
        CliRunner json = CliRunner.run("embed", "-m", model(), "-p", "Hello world\nThe cat sat on the mat.", "--embd-output-format", "json", "-t", "2");
        assertEquals(0, json.exitCode(), json.err());
        JsonNode doc = new ObjectMapper().readTree(json.out());
        assertEquals("list", doc.path("object").asText());
        assertEquals(2, doc.path("data").size());
        assertEquals("embedding", doc.path("data").get(1).path("object").asText());
        assertEquals(1, doc.path("data").get(1).path("index").asInt());
        assertEquals(64, doc.path("data").get(0).path("embedding").size());

        Path file = tmp.resolve("texts.txt");
        Files.writeString(file, "one<#>two<#>three");
        CliRunner array = CliRunner.run("embed", "-m", model(), "-f", file.toString(), "--embd-separator", "<#>",
                "--embd-output-format", "array", "--pooling", "last", "-t", "2");
        assertEquals(0, array.exitCode(), array.err());
        assertEquals(3, new ObjectMapper().readTree(array.out()).size());

        CliRunner plain = CliRunner.run("embed", "-m", model(), "-p", "a\nb", "-t", "2");
        assertEquals(0, plain.exitCode(), plain.err());
        assertTrue(plain.out().contains("embedding 0: ") && plain.out().contains("cosine similarity matrix:"), plain.out());

        CliRunner bad = CliRunner.run("embed", "-m", model(), "-p", "x", "--pooling", "none");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("per-token") && !bad.err().contains("\tat "), bad.err());
    }

    /** llama-embedding's {@code --pooling rank}: each line a query and a document split at a tab, one score each. */
    @Test
    void rankPoolingScoresPairsWithAReranker(@TempDir Path tmp) throws Exception {
        Path rr = dev.vellama.testdata.TinyBert.writeReranker(tmp.resolve("rr.gguf"), true);
        String pairs = "what is a panda?\tThe giant panda is a bear native to China.\nwhat is a panda?\tParis is the capital of France.";
        float[] expected;
        try (dev.vellama.runtime.EncoderModel m = dev.vellama.runtime.EncoderModel.load(rr, 2)) {
            expected = m.rank("what is a panda?", java.util.List.of("The giant panda is a bear native to China.",
                    "Paris is the capital of France."));
        }
        CliRunner plain = CliRunner.run("embed", "-m", rr.toString(), "-p", pairs, "--pooling", "rank", "-t", "2");
        assertEquals(0, plain.exitCode(), plain.err());
        assertEquals(String.format(java.util.Locale.ROOT, "rerank score 0: %8.3f%nrerank score 1: %8.3f%n", expected[0], expected[1]),
                plain.out());
        CliRunner array = CliRunner.run("embed", "-m", rr.toString(), "-p", pairs, "--pooling", "rank",
                "--embd-output-format", "array", "-t", "2");
        JsonNode scores = new ObjectMapper().readTree(array.out());
        assertEquals(expected[1], scores.get(1).get(0).floatValue(), 1e-6f);

        for (String[] bad : new String[][] {{"-m", rr.toString(), "-p", "no tab"},
                {"-m", dev.vellama.testdata.TinyBert.write(tmp.resolve("plain.gguf")).toString(), "-p", "a\tb"},
                {"-m", model(), "-p", "a\tb"}}) {
            CliRunner r = CliRunner.runWith(new String[] {"embed", "--pooling", "rank", "-t", "2"}, bad);
            assertEquals(1, r.exitCode(), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        }
    }
}
