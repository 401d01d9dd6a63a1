package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vellama perplexity}: llama-perplexity's lines, its base files, and one-line errors. */
class PerplexityCommandTest {
    private static String model(String name) {
        return TestData.model(name).toString();
    }

    @Test
    void perplexityAndKlDivergenceInLlamaPerplexitysFormat(@TempDir Path tmp) throws Exception {
        String text = TestData.root().resolve("golden/perplexity.txt").toString();
        Path base = tmp.resolve("base.bin");
        CliRunner ppl = CliRunner.run("perplexity", "-m", model("stories-llama2-q8_0.gguf"), "-f", text, "-c", "128", "-t", "2",
                "--chunks", "4", "--kl-divergence-base", base.toString());
        assertEquals(0, ppl.exitCode(), ppl.err());
        assertTrue(ppl.out().startsWith("[1]"), ppl.out());
        Matcher m = Pattern.compile("Final estimate: PPL = ([0-9.]+) \\+/- ([0-9.]+)").matcher(ppl.out());
        assertTrue(m.find(), ppl.out());
        // llama-perplexity -c 128 --chunks 4 on this file (its own [4] running value): 283.4955
        assertEquals(283.4955, Double.parseDouble(m.group(1)), 283.4955 * 0.002);
        assertTrue(Files.size(base) > 0);

        CliRunner kl = CliRunner.run("perplexity", "-m", model("stories-llama2-q4_0.gguf"), "-t", "2",
                "--kl-divergence-base", base.toString(), "--kl-divergence");
        assertEquals(0, kl.exitCode(), kl.err());
        for (String line : new String[] {"====== Perplexity statistics ======", "Mean PPL(Q)                   :",
                "====== KL divergence statistics ======", "Mean    KLD:", "Median  KLD:", "RMS Δp    :", "Same top p:"}) {
            assertTrue(kl.out().contains(line), line + " in\n" + kl.out());
        }
    }

    @Test
    void badInputIsOneLine(@TempDir Path tmp) throws Exception {
        Path junk = tmp.resolve("junk.bin");
        Files.writeString(junk, "not logits");
        CliRunner bad = CliRunner.run("perplexity", "-m", model("stories-llama2-q8_0.gguf"), "--kl-divergence-base", junk.toString(),
                "--kl-divergence");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("not a file of log-probabilities") && !bad.err().contains("\tat "), bad.err());
        CliRunner noBase = CliRunner.run("perplexity", "-m", model("stories-llama2-q8_0.gguf"), "--kl-divergence");
        assertEquals(1, noBase.exitCode());
        assertTrue(noBase.err().contains("--kl-divergence-base"), noBase.err());
        Path shortText = tmp.resolve("short.txt");
        Files.writeString(shortText, "Too short.");
        CliRunner tooShort = CliRunner.run("perplexity", "-m", model("stories-llama2-q8_0.gguf"), "-f", shortText.toString());
        assertEquals(1, tooShort.exitCode());
        assertTrue(tooShort.err().contains("needs at least 1024"), tooShort.err());
        assertFalse(tooShort.err().contains("\tat "));
    }
}
