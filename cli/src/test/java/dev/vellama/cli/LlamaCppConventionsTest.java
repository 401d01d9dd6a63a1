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

/** Command lines pasted from llama.cpp work, and what llama.cpp refuses is refused in one line. */
class LlamaCppConventionsTest {
    private static String model() {
        return TestData.model("stories-llama2-q8_0.gguf").toString();
    }

    @Test
    void usageErrorsAreOneLineAndExitTwo() {
        CliRunner r = CliRunner.run("run", "-m", model(), "-p", "hi", "--no-such-option");
        assertEquals(2, r.exitCode());
        assertEquals(2, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("Unknown option: '--no-such-option'"), r.err());
        assertTrue(r.err().contains("see 'vellama run --help'"), r.err());
        assertEquals(2, CliRunner.run("run", "-m", model(), "-p", "hi", "-n", "many").exitCode());
    }

    @Test
    void meaninglessValuesAreRefusedInOneLine() {
        for (String[] args : new String[][] {{"-t", "0"}, {"-t", "-2"}, {"-n", "-5"}, {"--top-logprobs", "2"},
                {"--mirostat", "3"}, {"--typical", "0"}, {"--dry-multiplier", "-1"}, {"--xtc-probability", "2"}}) {
            String[] full = new String[6 + args.length];
            System.arraycopy(new String[] {"run", "-m", model(), "-p", "hi", "--temp=0"}, 0, full, 0, 6);
            System.arraycopy(args, 0, full, 6, args.length);
            CliRunner r = CliRunner.run(full);
            assertEquals(1, r.exitCode(), String.join(" ", args));
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("vellama: "), r.err());
        }
    }

    @Test
    void llamaCppNamesAreAccepted(@TempDir Path dir) throws IOException {
        Path prompt = dir.resolve("prompt.txt");
        Files.writeString(prompt, "Once upon a time");
        CliRunner r = CliRunner.run("run", "-m", model(), "-f", prompt.toString(), "--n-predict", "4", "--ctx-size", "64",
                "--batch-size", "16", "--threads", "2", "-s", "7", "--repeat-last-n", "16", "-r", "zzz", "--no-display-prompt",
                "--temp", "0", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals(4, doc.get("tokens").size());
        assertEquals(7, doc.get("seed").asLong());
        assertTrue(doc.get("logprobs").get(0).get("token").isTextual());
        assertTrue(r.out().endsWith("\n"));
        CliRunner chat = CliRunner.runWithInput("Hello\n", "chat", "-m", model(), "-sys", "Be brief.", "-n", "3", "-c", "128");
        assertEquals(0, chat.exitCode(), chat.err());
    }

    @Test
    void aChatGoesOnWhenItsContextIsFull() {
        String input = "Tell me about the tables in the database.\nAnd what about the indexes on them?\n"
                + "How do I make a backup of it all?\nThanks, and one more thing about views.\n"
                + "word ".repeat(80) + "\nBye.\n";
        // by default the context shifts, keeping the system message: even a message longer than the context is read
        CliRunner r = CliRunner.runWithInput(input, "chat", "-m", model(), "-c", "64", "-n", "12", "--temp", "0", "-t", "2",
                "-sys", "Be brief.");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("(the context was full: the oldest"), r.err());
        assertTrue(r.err().contains("the system message is kept"), r.err());
        assertTrue(r.out().strip().split("\n").length >= 6, "every message has a reply: " + r.out());
        // the other policy: the oldest messages go, and a message longer than the context is refused, not fatal
        CliRunner drop = CliRunner.runWithInput(input, "chat", "-m", model(), "-c", "64", "-n", "12", "--temp", "0", "-t", "2",
                "--no-context-shift");
        assertEquals(0, drop.exitCode(), drop.err());
        assertTrue(drop.err().contains("(the context is full: the oldest"), drop.err());
        assertTrue(drop.err().contains("it was not sent"), drop.err());
        assertTrue(drop.out().strip().length() > 20, drop.out());
    }

    /** run stops at a full context unless asked to shift, as llama.cpp's completion does. */
    @Test
    void runShiftsTheContextWhenAsked() {
        String[] base = {"run", "-m", model(), "-p", "Once upon a time", "-c", "48", "-n", "80", "--temp", "0", "-t", "2",
                "--ignore-eos", "--no-display-prompt"};
        CliRunner stop = CliRunner.run(base);
        assertEquals(0, stop.exitCode(), stop.err());
        assertTrue(stop.err().contains("stop: context"), stop.err());
        String[] shifting = java.util.Arrays.copyOf(base, base.length + 3);
        shifting[base.length] = "--context-shift";
        shifting[base.length + 1] = "--keep";
        shifting[base.length + 2] = "2";
        CliRunner shift = CliRunner.run(shifting);
        assertEquals(0, shift.exitCode(), shift.err());
        assertTrue(shift.err().contains("stop: length"), shift.err());
        assertTrue(shift.err().matches("(?s).*context shift: \\d+ tokens forgotten, 3 kept at the start.*"), shift.err());
        assertEquals(1, CliRunner.run("run", "-m", model(), "-p", "x", "--keep", "-2").exitCode());
    }

    /** On a terminal, run says it is loading the model, then clears that line; elsewhere it prints nothing of it. */
    @Test
    void runShowsALoadingLineOnlyOnATerminal() {
        String[] args = {"run", "-m", model(), "-p", "Once", "-n", "2", "--temp", "0"};
        java.io.StringWriter err = new java.io.StringWriter();
        int code = Main.run(args, new java.io.ByteArrayInputStream(new byte[0]), new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(err), java.util.Map.of("VELLAMA_STDERR_TTY", "1"));
        assertEquals(0, code, err.toString());
        assertTrue(err.toString().startsWith("loading stories-llama2-q8_0.gguf ...\r"), err.toString());
        assertTrue(!CliRunner.run(args).err().contains("loading"));
    }

    /** llama.cpp's other samplers: each flag taken, and DRY changes a repetitive greedy run. */
    @Test
    void typicalMirostatDryAndXtcAreAccepted() {
        for (String[] args : new String[][] {{"--typical", "0.9"}, {"--mirostat", "2", "--mirostat-lr", "0.2", "--mirostat-ent", "4"},
                {"--mirostat", "1"}, {"--xtc-probability", "0.5", "--xtc-threshold", "0.2"},
                {"--dry-multiplier", "0.8", "--dry-base", "2", "--dry-allowed-length", "3", "--dry-penalty-last-n", "64",
                        "--dry-sequence-breaker", "\\n", "--dry-sequence-breaker", "none"}}) {
            String[] full = new String[9 + args.length];
            System.arraycopy(new String[] {"run", "-m", model(), "-p", "Once upon a time", "-n", "8", "-s", "1"}, 0, full, 0, 9);
            System.arraycopy(args, 0, full, 9, args.length);
            CliRunner r = CliRunner.run(full);
            assertEquals(0, r.exitCode(), String.join(" ", args) + ": " + r.err());
        }
        // greedy, the stories model repeats "in-" (see its golden run); DRY breaks the loop
        CliRunner loop = CliRunner.run("run", "-m", model(), "-p", "Once upon a time", "-n", "32", "--temp", "0");
        CliRunner dry = CliRunner.run("run", "-m", model(), "-p", "Once upon a time", "-n", "32", "--temp", "0",
                "--dry-multiplier", "0.8");
        assertTrue(loop.out().contains("in-in-in-in-"), loop.out());
        assertTrue(!dry.out().contains("in-in-in-in-"), dry.out());
    }

    @Test
    void logitBiasAndIgnoreEosTakeLlamaCppsForm() throws IOException {
        CliRunner ends = CliRunner.run("run", "-m", model(), "-p", "Once", "-n", "5", "--temp", "0", "--logit-bias", "2+100", "--json");
        assertEquals(0, ends.exitCode(), ends.err());
        assertEquals("eos", new ObjectMapper().readTree(ends.out()).get("stop_reason").asText());
        CliRunner goes = CliRunner.run("run", "-m", model(), "-p", "Once", "-n", "5", "--temp", "0", "--logit-bias", "2+100",
                "--ignore-eos", "--json");
        assertEquals(5, new ObjectMapper().readTree(goes.out()).get("tokens").size());
        CliRunner banned = CliRunner.run("run", "-m", model(), "-p", "Once", "-n", "5", "--temp", "0", "-l", "2-inf", "--json");
        assertEquals(0, banned.exitCode(), banned.err());
        CliRunner bad = CliRunner.run("run", "-m", model(), "-p", "Once", "--logit-bias", "hello");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("TOKEN_ID(+|-)BIAS"), bad.err());
    }

    @Test
    void runEchoesThePromptUnlessToldNotTo() {
        CliRunner echoed = CliRunner.run("run", "-m", model(), "-p", "Once upon a time", "-n", "3", "--temp", "0");
        CliRunner bare = CliRunner.run("run", "-m", model(), "-p", "Once upon a time", "-n", "3", "--temp", "0", "--no-display-prompt");
        assertEquals("Once upon a time" + bare.out(), echoed.out());
        assertTrue(echoed.err().contains("seed: "), echoed.err());
    }

    @Test
    void chatTemplateCanBeReplaced(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("qa.jinja");
        Files.writeString(file, "{% for m in messages %}Question: {{ m['content'] }}\n{% endfor %}Answer:");
        int own = contextUsed(CliRunner.runWithInput("Hello\n/stats\n", "chat", "-m", model(), "-n", "1", "--temp", "0"));
        int fromFile = contextUsed(CliRunner.runWithInput("Hello\n/stats\n", "chat", "-m", model(), "-n", "1", "--temp", "0",
                "--chat-template", file.toString()));
        int chatml = contextUsed(CliRunner.runWithInput("Hello\n/stats\n", "chat", "-m", model(), "-n", "1", "--temp", "0",
                "--chat-template", "chatml"));
        assertTrue(own != fromFile && fromFile != chatml, own + " " + fromFile + " " + chatml);
        CliRunner bad = CliRunner.run("chat", "-m", model(), "--chat-template", "no-such-template");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("--chat-template takes"), bad.err());
    }

    private static int contextUsed(CliRunner r) {
        assertEquals(0, r.exitCode(), r.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("context: (\\d+) of").matcher(r.err());
        assertTrue(m.find(), r.err());
        return Integer.parseInt(m.group(1));
    }

    @Test
    void contextZeroIsTheTrainingContext() {
        CliRunner r = CliRunner.runWithInput("/stats\n", "chat", "-m", model(), "-c", "0");
        assertEquals(0, r.exitCode(), r.err());
        // the stories model was trained with 512 positions (llama.context_length)
        assertTrue(r.err().contains("context: 0 of 512 tokens used"), r.err());
    }

    @Test
    void infoTakesTheModelAsAnOptionToo() {
        CliRunner positional = CliRunner.run("info", model());
        CliRunner option = CliRunner.run("info", "-m", model());
        assertEquals(0, option.exitCode(), option.err());
        assertEquals(positional.out(), option.out());
        assertEquals(1, CliRunner.run("info").exitCode());
    }

    @Test
    void benchSizeColumnIsAsWideAsItsHeader() {
        CliRunner r = CliRunner.run("bench", "-m", model(), "-p", "8", "-n", "0", "-r", "1", "-t", "1");
        assertEquals(0, r.exitCode(), r.err());
        String[] lines = r.out().lines().filter(l -> l.startsWith("|")).toArray(String[]::new);
        assertTrue(lines.length >= 3, r.out());
        for (String line : lines) {
            assertEquals(lines[0].length(), line.length(), "every row as wide as the header:\n" + r.out());
            assertEquals(lines[0].indexOf('|', 40), line.indexOf('|', 40), "size column ends where its header does");
        }
    }
}
