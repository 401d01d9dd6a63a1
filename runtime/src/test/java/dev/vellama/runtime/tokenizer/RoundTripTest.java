package dev.vellama.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** decode(encode(text)) gives the text back wherever llama.cpp's detokenizer does. */
class RoundTripTest {

    /** Vocabularies whose decoding neither normalizes text nor cleans up spaces. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama-spm", "phi-3", "qwen2", "deepseek-llm"})
    void everyVectorRoundTrips(String name) {
        Tokenizer t = VocabFiles.vocab(name);
        for (VocabFiles.Case c : VocabFiles.cases(name)) {
            assertEquals(c.text(), t.decode(t.encode(c.text(), false, false)), name + " #" + c.index());
        }
    }

    /** Space clean-up changes " ," and the like, so only texts without such pairs come back unchanged. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gpt-2", "llama-bpe"})
    void vectorsWithoutCleanedPairsRoundTrip(String name) {
        Tokenizer t = VocabFiles.vocab(name);
        int checked = 0;
        for (VocabFiles.Case c : VocabFiles.cases(name)) {
            if (c.text().matches("(?s).*( [?!.,']).*")) {
                continue;
            }
            assertEquals(c.text(), t.decode(t.encode(c.text(), false, false)), name + " #" + c.index());
            checked++;
        }
        assertEquals(true, checked > 30, "too few vectors checked: " + checked);
    }

    /** Every single BMP character (llama.cpp's test-tokenizer-1 does the same for its vocabularies). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama-spm", "qwen2"})
    void everyCharacterRoundTrips(String name) {
        Tokenizer t = VocabFiles.vocab(name);
        StringBuilder failures = new StringBuilder();
        for (int cp = 1; cp < 0x10000; cp++) {
            if (Character.isSurrogate((char) cp) || cp == '\u2581') {
                continue; // U+2581 is SentencePiece's space: it decodes to ' ', in llama.cpp too
            }
            String s = Character.toString(cp);
            String back = t.decode(t.encode(s, false, false));
            if (!back.equals(s) && failures.length() < 400) {
                failures.append(String.format(" U+%04X", cp));
            }
        }
        assertEquals("", failures.toString(), name + " characters that do not round-trip");
    }
}
