package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vellama quantize}: llama-quantize's arguments, progress on stderr, and one-line refusals. */
class QuantizeCommandTest {
    @Test
    void quantizesAndTheResultRuns(@TempDir Path tmp) {
        String in = TestData.model("stories-llama2-q8_0.gguf").toString();
        Path out = tmp.resolve("q4km.gguf");
        CliRunner q = CliRunner.run("quantize", "--allow-requantize", in, out.toString(), "q4_k_m", "2");
        assertEquals(0, q.exitCode(), q.err());
        assertTrue(q.err().contains("output.weight") && q.err().contains("Q6_K") && q.err().contains("quant size"), q.err());
        CliRunner run = CliRunner.run("run", "-m", out.toString(), "-p", "Once upon a time", "-n", "8", "--temp", "0");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().startsWith("Once upon a time"), run.out());
    }

    @Test
    void refusalsAreOneLine(@TempDir Path tmp) {
        String in = TestData.model("stories-llama2-q8_0.gguf").toString();
        CliRunner requant = CliRunner.run("quantize", in, tmp.resolve("a.gguf").toString(), "Q4_0");
        assertEquals(1, requant.exitCode());
        assertTrue(requant.err().contains("--allow-requantize") && !requant.err().contains("\tat "), requant.err());
        CliRunner unknown = CliRunner.run("quantize", "--allow-requantize", in, tmp.resolve("b.gguf").toString(), "Q9_K");
        assertEquals(1, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown quantization type 'Q9_K'"), unknown.err());
        CliRunner imatrix = CliRunner.run("quantize", "--imatrix", "x.dat", in, tmp.resolve("c.gguf").toString(), "Q4_0");
        assertEquals(1, imatrix.exitCode());
        assertTrue(imatrix.err().contains("no such file: x.dat"), imatrix.err());
        assertFalse(Files.exists(tmp.resolve("b.gguf")));
    }
}
