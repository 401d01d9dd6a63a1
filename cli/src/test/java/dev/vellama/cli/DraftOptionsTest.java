package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;

/** {@code -md/--model-draft} and {@code --draft-max} on {@code run} and {@code chat}, as llama.cpp's options. */
class DraftOptionsTest {
    private static final String MODEL = TestData.model("stories-llama2-q8_0.gguf").toString();
    private static final String DRAFT = TestData.model("stories-llama2-q4_0.gguf").toString();

    @Test
    void aDraftGivesTheSameTextAndSaysHowMuchWasKept() {
        String[] run = {"run", "-m", MODEL, "-p", "Once upon a time", "-n", "24", "--temp", "0", "-t", "2", "-c", "128"};
        CliRunner plain = CliRunner.runWith(run);
        // --draft-p-min 0: every proposal made, however unsure (this small pair is unsure of most)
        CliRunner drafted = CliRunner.runWith(run, "-md", DRAFT, "--draft-max", "4", "--draft-p-min", "0");
        assertEquals(0, drafted.exitCode(), drafted.err());
        assertEquals(plain.out(), drafted.out());
        assertTrue(drafted.err().contains("draft acceptance rate = "), drafted.err());
        CliRunner chat = CliRunner.runWithInput("Hello\n/stats\n", "chat", "-m", MODEL, "-n", "8", "-c", "128", "-md", DRAFT, "--draft-p-min", "0");
        assertEquals(0, chat.exitCode(), chat.err());
        assertTrue(chat.err().contains("draft acceptance rate = "), chat.err());
    }

    @Test
    void badDraftsAreOneLineErrors() {
        String[] head = {"run", "-m", MODEL, "-p", "hi", "-n", "2", "-c", "64"};
        for (String[] args : new String[][] {{"-md", TestData.model("tiny-llama3-q8_0.gguf").toString()},
                {"-md", "/nonexistent/draft.gguf"}, {"-md", DRAFT, "--draft-max", "0"}, {"-md", DRAFT, "--draft-p-min", "2"}}) {
            CliRunner r = CliRunner.runWith(head, args);
            assertEquals(1, r.exitCode(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("vellama: "), r.err());
        }
    }
}
