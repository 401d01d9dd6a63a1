package dev.vellama.runtime.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Texts fed to a grammar code point by code point end where llama.cpp's grammar engine says: dead at the same code
 * point, or alive and free to end, or alive and bound to go on; for GBNF grammars, and for JSON Schemas through
 * each program's own converter. Data and method: {@code grammar-differential/README.md}.
 */
class GrammarDifferentialTest {
    @ParameterizedTest
    @ValueSource(strings = {"arith", "misc", "json", "uni"})
    void everyTextEndsAsInLlamaCpp(String name) throws IOException {
        Grammar grammar = Grammar.parse(resource(name + ".gbnf"));
        List<String> texts = resource(name + ".inputs.hex").lines().toList();
        List<String> expected = resource(name + ".expected").lines().toList();
        assertSameOutcomes(grammar, texts, expected, name);
    }

    private static void assertSameOutcomes(Grammar grammar, List<String> texts, List<String> expected, String name) {
        assertEquals(texts.size(), expected.size());
        StringBuilder failures = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            String text = new String(HexFormat.of().parseHex(texts.get(i)), StandardCharsets.UTF_8);
            String got = outcome(grammar, text);
            if (!got.equals(expected.get(i))) {
                failures.append(String.format("%n#%d %s: want %s, got %s", i, text.replace("\n", "\\n"), expected.get(i), got));
            }
        }
        assertEquals("", failures.toString(), name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s10"})
    void everyTextEndsAsInLlamaCppUnderTheGrammarOfASchema(String name) throws IOException {
        Grammar grammar = Grammar.fromJsonSchema(resource("schema-" + name + ".json"));
        List<String> texts = resource("schema-" + name + ".inputs.hex").lines().toList();
        List<String> expected = resource("schema-" + name + ".expected").lines().toList();
        assertSameOutcomes(grammar, texts, expected, "schema " + name);
    }

    /** {@code D<k>} when dead after the k-th code point, {@code A} when it may end, {@code P} when it must go on. */
    private static String outcome(Grammar grammar, String text) {
        Grammar.State s = grammar.start();
        int k = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            s = s.accept(cp);
            k++;
            if (s.isDead()) {
                return "D" + k;
            }
        }
        return s.canEnd() ? "A" : "P";
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = GrammarDifferentialTest.class.getResourceAsStream("/grammar-differential/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
