package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import dev.vellama.testdata.TestData;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.junit.jupiter.api.Test;

/**
 * The interactive chat on a terminal JLine emulates over pipes, typed into key by key (replies run until the
 * context is full unless stopped, so a Ctrl-C always finds one running). Ctrl-C comes as a terminal delivers it,
 * as SIGINT ({@code Terminal.raise}): the emulation's own key handling pauses while no line is read. Ctrl-C stops a
 * reply and
 * the chat goes on, Up recalls the last message, a trailing backslash continues a message, Ctrl-C at an empty
 * prompt leaves.
 */
class ChatTerminalTest {
    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void ctrlCStopsAReplyUpRecallsAndAnEmptyCtrlCLeaves() throws Exception {
        PipedOutputStream keys = new PipedOutputStream();
        InputStream keyboard = new PipedInputStream(keys, 1 << 16);
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        Terminal terminal = TerminalBuilder.builder().system(false).streams(keyboard, screen).type("xterm")
                .size(new Size(160, 40)).build();
        // as a tty is set up by default: Ctrl-C (VINTR) outside line editing raises SIGINT
        org.jline.terminal.Attributes attributes = terminal.getAttributes();
        attributes.setLocalFlag(org.jline.terminal.Attributes.LocalFlag.ISIG, true);
        attributes.setControlChar(org.jline.terminal.Attributes.ControlChar.VINTR, 3);
        terminal.setAttributes(attributes);
        StringWriter replies = new StringWriter();
        StringWriter errors = new StringWriter();
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> Main.run(new String[] {"chat", "-m",
                TestData.model("stories-llama2-q8_0.gguf").toString(), "-n", "-1", "--temp", "0", "-t", "2", "-c", "4096",
                "--ignore-eos"}, InputStream.nullInputStream(), terminal, new PrintWriter(replies, true), new PrintWriter(errors, true)));
        String shown = "";
        await(() -> screen.toString(StandardCharsets.UTF_8).contains("Ctrl-C stops a reply"), "the banner");

        keys.write("Tell me about tables.\r".getBytes(StandardCharsets.UTF_8));
        keys.flush();
        await(() -> replies.toString().length() > 20, "the reply to start");
        terminal.raise(Terminal.Signal.INT); // what the terminal does with a Ctrl-C typed while no line is being edited
        try {
            await(() -> screen.toString(StandardCharsets.UTF_8).contains("(reply stopped)"), "the reply to stop");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; screen:\n" + screen.toString(StandardCharsets.UTF_8).replace("\u001b", "ESC")
                    + "\nreplies: " + replies.toString().length() + "\nerrors: " + errors + "\nexit: " + exit.getNow(-99));
        }
        int stoppedAt = replies.toString().length(); // a reply to the end of a 4096-token context would take seconds more

        keys.write("\u001bOA\r".getBytes(StandardCharsets.UTF_8)); // Up (application cursor keys, as JLine sets them), Enter
        keys.flush();
        await(() -> replies.toString().length() > stoppedAt + 20, "the second reply to start");
        terminal.raise(Terminal.Signal.INT);
        await(() -> count(screen.toString(StandardCharsets.UTF_8), "(reply stopped)") == 2, "the second reply to stop");
        shown = screen.toString(StandardCharsets.UTF_8);
        assertTrue(count(shown, "Tell me about tables.") >= 2, "Up brought the message back:\n" + shown);

        keys.write("/stats\r".getBytes(StandardCharsets.UTF_8));
        keys.flush();
        await(() -> screen.toString(StandardCharsets.UTF_8).contains("stop: cancelled"), "the stats of the stopped reply");
        // the prompt again after the stats: the line editor is reading (a Ctrl-C raised before it reads is lost)
        await(() -> {
            String now = screen.toString(StandardCharsets.UTF_8);
            return now.indexOf("> ", now.lastIndexOf("stop: cancelled")) > 0;
        }, "the prompt after the stats");

        terminal.raise(Terminal.Signal.INT); // Ctrl-C at an empty prompt: leave
        assertEquals(0, exit.get(60, TimeUnit.SECONDS), errors.toString());
        terminal.close();
    }

    @Test
    void aTrailingBackslashOrTripleQuotesMakeOneMessageOfSeveralLines() {
        // the same two lines as one message (continued, or a block) and as two: one message fills less of the
        // context (one turn of the template and one reply instead of two)
        int continued = contextUsed("first line \\\nsecond line\n/stats\n");
        int block = contextUsed("\"\"\"\nfirst line\nsecond line\n\"\"\"\n/stats\n");
        int two = contextUsed("first line\nsecond line\n/stats\n");
        assertTrue(continued < two, continued + " vs " + two);
        assertTrue(block < two, block + " vs " + two);
    }

    private static int contextUsed(String input) {
        CliRunner r = CliRunner.runWithInput(input, "chat", "-m", TestData.model("stories-llama2-q8_0.gguf").toString(),
                "-n", "2", "--temp", "0", "-c", "256");
        assertEquals(0, r.exitCode(), r.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("context: (\\d+) of").matcher(r.err());
        assertTrue(m.find(), r.err());
        return Integer.parseInt(m.group(1));
    }
}
