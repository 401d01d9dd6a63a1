package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {
    private static final String STORIES = TestData.model("stories-llama2-q8_0.gguf").toString();
    private static final String TINY = TestData.model("tiny-llama3-q8_0.gguf").toString();

    /** Two models on llama.cpp's HellaSwag format: llama-perplexity's accuracies (see EvaluationTest), CSV and charts. */
    @Test
    void multipleChoiceAcrossModelsWithCsvAndChart(@TempDir Path tmp) throws IOException {
        Path csv = tmp.resolve("acc.csv");
        Path svg = tmp.resolve("acc.svg");
        CliRunner r = CliRunner.run("eval", "-m", STORIES, "-m", TINY, "--hellaswag", "../docs/examples/docs-choices.hellaswag.txt",
                "--json", "--csv", csv.toString(), "--chart", svg.toString(), "-t", "2", "-c", "256");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals(23 / 24.0, doc.get("accuracy").asDouble(), 1e-9);
        assertEquals(10, doc.get("results").get(1).get("right").asInt());
        assertTrue(doc.get("results").get(0).get("ci_low").asDouble() < 23 / 24.0);
        assertEquals(3, Files.readAllLines(csv).size());
        assertTrue(Files.readAllLines(csv).get(1).startsWith("stories-llama2-q8_0.gguf,21105920,,0.958333"), Files.readAllLines(csv).get(1));
        String chart = Files.readString(svg);
        assertTrue(chart.contains("<svg") && chart.strip().endsWith("</svg>"), chart.substring(0, Math.min(200, chart.length())));
    }

    /** Classification of labelled texts at several k, drawn as a PNG. */
    @Test
    void classificationByPromptingAtSeveralK(@TempDir Path tmp) throws IOException {
        Path png = tmp.resolve("k.png");
        CliRunner r = CliRunner.run("eval", "-m", STORIES, "--tasks", "../docs/examples/reviews.jsonl", "--template",
                "Review: {text}\\nSentiment:", "--shots", "0,2", "--chart", png.toString(), "-t", "2", "-c", "256");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(3, r.out().strip().lines().count(), r.out());
        assertTrue(r.out().contains(" 40"), r.out());
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 4);
        assertEquals((byte) 0x89, head[0]);
        assertEquals("PNG", new String(head, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void badInputGetsOneLine(@TempDir Path tmp) throws IOException {
        Path mixed = Files.writeString(tmp.resolve("mixed.jsonl"),
                "{\"text\":\"a\",\"label\":\"x\"}\n{\"context\":\"c\",\"endings\":[\"a\",\"b\"],\"label\":0}\n");
        Path broken = Files.writeString(tmp.resolve("broken.jsonl"), "{\"text\": \n");
        String[][] bad = {
                {"--tasks", mixed.toString()},
                {"--tasks", broken.toString()},
                {"--tasks", "nope.jsonl"},
                {"--hellaswag", "../docs/examples/reviews.jsonl"},
                {"--tasks", "../docs/examples/reviews.jsonl", "--shots", "40"},
                {"--hellaswag", "../docs/examples/docs-choices.hellaswag.txt", "--chart", "x.gif"},
        };
        for (String[] args : bad) {
            CliRunner r = CliRunner.runWith(new String[] {"eval", "-m", STORIES}, args);
            assertEquals(1, r.exitCode(), String.join(" ", args));
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }
}
