package dev.vellama.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The hand-written GPT-2, Llama 3 and Qwen 2 scanners must cut text exactly as their regexes do when run through the
 * general regex path (collapsed categories): llama.cpp relies on that equivalence, and so does this code.
 */
class SplitRuleConsistencyTest {
    /** Letters, digits, all kinds of whitespace, apostrophes, punctuation, symbols, marks, CJK and emoji. */
    private static final int[] ALPHABET = {'a', 'B', 'z', 'S', 'T', 'l', 'L', 'e', 'v', 'r', 'd', 'm', '0', '7', '\'',
            ' ', ' ', '\t', '\n', '\r', '\u000B', '\u00A0', '\u3000', '\u2009', '.', ',', '!', '?', '$', '+', '(',
            '\u00E9', '\u0416', '\u4E2D', '\u0301', '\u00B2', '\u0663', '\u2167', '\u00BF', '\u20AC', '\u200B',
            0x1F999, 0x1F600, '\u00B5', 'K', '\u212A', '_', '-', '\u0085'};

    @Test
    void gpt2ScannerMatchesItsRegex() {
        compare(new Gpt2Split(), new RegexSplit(Gpt2Split.REGEX), 11);
    }

    @Test
    void llama3ScannerMatchesItsRegex() {
        compare(new Llama3Split(3), new RegexSplit(Llama3Split.REGEX), 12);
    }

    @Test
    void qwen2ScannerMatchesItsRegex() {
        compare(new Llama3Split(1), new RegexSplit(Llama3Split.QWEN2_REGEX), 13);
    }

    private static void compare(SplitRule scanner, SplitRule regex, long seed) {
        Random random = new Random(seed);
        for (int round = 0; round < 3000; round++) {
            int n = 1 + random.nextInt(14);
            int[] cps = new int[n];
            for (int i = 0; i < n; i++) {
                cps[i] = ALPHABET[random.nextInt(ALPHABET.length)];
            }
            CodepointText text = new CodepointText(cps);
            assertEquals(pieces(regex, text), pieces(scanner, text), () -> "text " + LlamaCppVectorsTest.quote(
                    new String(cps, 0, cps.length)));
        }
    }

    private static List<String> pieces(SplitRule rule, CodepointText text) {
        IntList lengths = new IntList();
        rule.split(text, 0, text.length(), lengths);
        List<String> out = new java.util.ArrayList<>();
        int start = 0;
        for (int i = 0; i < lengths.size(); i++) {
            out.add(text.substring(start, start + lengths.get(i)));
            start += lengths.get(i);
        }
        assertEquals(text.length(), start, "pieces must cover the text");
        return out;
    }
}
