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
}
