package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Every command's help renders cleanly: picocli warns on System.err when a description has a stray format sign. */
class HelpTextTest {
    private static final List<String> COMMANDS = List.of("info", "tokenize", "run", "chat", "bench", "synth", "serve",
            "perplexity", "quantize", "embed", "neurons", "eval", "pull", "list", "rm");

    @Test
    void everyCommandsHelpRendersWithoutWarnings() {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            CliRunner top = CliRunner.run("--help");
            assertEquals(0, top.exitCode(), top.err());
            for (String name : COMMANDS) {
                assertTrue(top.out().contains("  " + name), "top-level help lists " + name);
                CliRunner r = CliRunner.run(name, "--help");
                assertEquals(0, r.exitCode(), name + ": " + r.err());
                assertTrue(r.out().startsWith("Usage: vellama " + name), name + ": " + r.out());
                assertFalse(r.out().contains("picocli") || r.err().contains("picocli"), name + ": " + r.out() + r.err());
            }
        } finally {
            System.setErr(saved);
        }
        String warnings = captured.toString(StandardCharsets.UTF_8);
        assertFalse(warnings.contains("picocli WARN"), warnings);
    }
}
