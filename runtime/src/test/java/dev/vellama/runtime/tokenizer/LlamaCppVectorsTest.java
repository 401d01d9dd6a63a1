package dev.vellama.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every test vector of llama.cpp's tokenizer tests, for every vocabulary that ships with them. */
class LlamaCppVectorsTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama-spm", "phi-3", "llama-bpe", "qwen2", "gpt-2", "deepseek-llm", "bert-bge"})
    void everyVectorMatches(String name) {
        Tokenizer tokenizer = VocabFiles.vocab(name);
        List<VocabFiles.Case> cases = VocabFiles.cases(name);
        assertTrue(cases.size() >= 40, name + ": only " + cases.size() + " vectors");
        StringBuilder failures = new StringBuilder();
        for (VocabFiles.Case c : cases) {
            int[] got = tokenizer.encode(c.text(), false, false);
            if (!Arrays.equals(c.ids(), got)) {
                failures.append(String.format("%n#%d %s%n  want %s%n  got  %s", c.index(), quote(c.text()),
                        Arrays.toString(c.ids()), Arrays.toString(got)));
            }
        }
        assertEquals("", failures.toString(), name + " mismatches");
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length() && i < 120; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> sb.append(c);
            }
        }
        return sb.append(s.length() > 120 ? "...\"" : "\"").toString();
    }
}
