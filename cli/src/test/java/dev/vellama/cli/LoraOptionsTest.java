package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import dev.vellama.testdata.LoraFiles;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --lora} and {@code --lora-scaled} on {@code run}, {@code chat} and {@code perplexity}, as llama.cpp's options. */
class LoraOptionsTest {
    @TempDir
    static Path dir;
    private static String model;
    private static String adapter;

    @BeforeAll
    static void write() throws IOException {
        Path m = TestData.model("stories-llama2-q8_0.gguf");
        model = m.toString();
        adapter = LoraFiles.random(m, dir.resolve("adapter.gguf"), List.of("blk.0.attn_q.weight", "blk.2.ffn_down.weight",
                "blk.3.attn_output.weight"), 8, 16, 0.3f, 11).toString();
    }

    private static String run(String... extra) {
        String[] head = {"run", "-m", model, "-p", "Once upon a time", "-n", "12", "--temp", "0", "-t", "2", "-c", "128"};
        CliRunner r = CliRunner.runWith(head, extra);
        assertEquals(0, r.exitCode(), r.err());
        return r.out();
    }

    @Test
    void anAdapterChangesTheTextAndScaleZeroIsTheBaseModel() {
        String plain = run();
        String adapted = run("--lora", adapter);
        assertNotEquals(plain, adapted);
        assertEquals(adapted, run("--lora-scaled", adapter + ":1"));
        assertEquals(plain, run("--lora-scaled", adapter + ":0"));
        // llama.cpp's lists: two halves add up to the whole (within rounding, so compare with the same halves)
        assertEquals(run("--lora-scaled", adapter + ":0.5", "--lora-scaled", adapter + ":0.5"),
                run("--lora-scaled", adapter + ":0.5," + adapter + ":0.5"));
        CliRunner chat = CliRunner.runWithInput("Hello\n", "chat", "-m", model, "-n", "4", "-c", "128", "--lora", adapter);
        assertEquals(0, chat.exitCode(), chat.err());
    }

    @Test
    void perplexityScoresTheAdaptedModel() {
        String text = TestData.root().resolve("golden/perplexity.txt").toString();
        String[] head = {"perplexity", "-m", model, "-f", text, "-c", "128", "-t", "2", "--chunks", "2"};
        String plain = finalEstimate(CliRunner.runWith(head));
        assertEquals(plain, finalEstimate(CliRunner.runWith(head, "--lora-scaled", adapter + ":0")));
        assertNotEquals(plain, finalEstimate(CliRunner.runWith(head, "--lora", adapter)));
    }

    private static String finalEstimate(CliRunner r) {
        assertEquals(0, r.exitCode(), r.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Final estimate: PPL = ([0-9.]+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        return m.group(1);
    }

    @Test
    void badAdaptersAreOneLineErrors() {
        String[] head = {"run", "-m", model, "-p", "hi", "-n", "1"};
        for (String[] args : new String[][] {{"--lora", model}, {"--lora-scaled", adapter}, {"--lora-scaled", adapter + ":x"},
                {"--lora", dir.resolve("missing.gguf").toString()}}) {
            CliRunner r = CliRunner.runWith(head, args);
            assertEquals(1, r.exitCode(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("vellama: "), r.err());
        }
    }
}
