package dev.vellama.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class PreTokenizerTest {

    @Test
    void everyCatalogEntryCompilesAndCoversItsInput() {
        String sample = "Hello, y'all! 123 4567 \u00E9t\u00E9 \u4E2D\u6587 \uD83E\uDD99\n\n  x\tIMGIMGABZ <sentinel:3>";
        for (String name : PreTokenizerCatalog.names()) {
            List<String> words = PreTokenizerCatalog.forName(name).create().split(sample);
            assertEquals(sample, String.join("", words), name + " lost or added text");
        }
    }

    @Test
    void requiredPreTokenizersAreKnown() {
        for (String name : List.of("default", "gpt-2", "llama-bpe", "llama3", "qwen2", "deepseek-llm", "deepseek-coder",
                "falcon", "mpt", "starcoder", "refact", "smollm", "gpt-neox", "olmo", "command-r", "tekken")) {
            assertTrue(PreTokenizerCatalog.names().contains(name), name);
        }
    }

    @Test
    void unknownNameIsAnErrorThatNamesIt() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> PreTokenizerCatalog.forName("no-such-pre"));
        assertTrue(e.getMessage().contains("'no-such-pre'"), e.getMessage());
    }

    @Test
    void missingNameMeansDefault() {
        assertEquals(PreTokenizerCatalog.forName("default"), PreTokenizerCatalog.forName(""));
    }

    @Test
    void gpt2KeepsOneSpaceWithTheFollowingWord() {
        assertEquals(List.of("Hello", " ", " world", "'s", " 123", "!!", "\n"), split("gpt-2", "Hello  world's 123!!\n"));
    }

    @Test
    void llama3GroupsDigitsByThreeAndNewlinesWithPunctuation() {
        assertEquals(List.of("123", "456", "7", " x", ".\n\n", "Hi"), split("llama-bpe", "1234567 x.\n\nHi"));
    }

    @Test
    void qwen2SplitsSingleDigits() {
        assertEquals(List.of("Hello", " ", "1", "2", "3"), split("qwen2", "Hello 123"));
    }

    @Test
    void starcoderSplitsDigitsBeforeTheGpt2Rules() {
        assertEquals(List.of("abc", " ", "1", "2", "3"), split("starcoder", "abc 123"));
    }

    @Test
    void deepseekCoderIsolatesNewlinesAndCjk() {
        assertEquals(List.of("def", " f", "():", "\n", "\u4E2D\u6587", "1", "2"),
                split("deepseek-coder", "def f():\n\u4E2D\u658712"));
    }

    @Test
    void tekkenSplitsCamelCase() {
        assertEquals(List.of("Hello", "World", " foo", "Bar"), split("tekken", "HelloWorld fooBar"));
    }

    @Test
    void falconSplitsRunsOfThreeDigits() {
        assertEquals(List.of("x", " ", "123", "456", "7"), split("falcon", "x 1234567"));
    }

    private static List<String> split(String pre, String text) {
        return PreTokenizerCatalog.forName(pre).create().split(text);
    }
}
