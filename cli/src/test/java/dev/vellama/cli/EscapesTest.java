package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class EscapesTest {
    @Test
    void expandsWhatLlamaCppExpands() {
        assertEquals("a\nb\tc\r\"'\\", Escapes.expand("a\\nb\\tc\\r\\\"\\'\\\\"));
        assertEquals("A!", Escapes.expand("\\x41\\x21"));
        assertEquals("\\q \\x4 end\\", Escapes.expand("\\q \\x4 end\\"));
    }

    @Test
    void tokenizeExpandsUnlessToldNot() {
        String model = dev.vellama.testdata.TestData.model("stories-llama2-q8_0.gguf").toString();
        CliRunner expanded = CliRunner.run("tokenize", "-m", model, "--json", "a\\tb");
        CliRunner literal = CliRunner.run("tokenize", "-m", model, "--json", "--no-escape", "a\\tb");
        CliRunner tab = CliRunner.run("tokenize", "-m", model, "--json", "--no-escape", "a\tb");
        assertEquals(tab.out(), expanded.out());
        org.junit.jupiter.api.Assertions.assertNotEquals(tab.out(), literal.out());
    }
}
