package dev.vellama.runtime.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** GBNF as llama.cpp reads it: what each construct accepts and refuses, and errors that say where. */
class GrammarTest {
    private static void accepts(String gbnf, String... texts) {
        Grammar g = Grammar.parse(gbnf);
        for (String t : texts) {
            assertTrue(g.accepts(t), "should accept '" + t + "' with " + gbnf);
        }
    }

    private static void refuses(String gbnf, String... texts) {
        Grammar g = Grammar.parse(gbnf);
        for (String t : texts) {
            assertFalse(g.accepts(t), "should refuse '" + t + "' with " + gbnf);
        }
    }

    @Test
    void literalsAlternativesAndGroups() {
        String g = "root ::= \"yes\" | \"no\" | (\"may\" \"be\")";
        accepts(g, "yes", "no", "maybe");
        refuses(g, "", "ye", "yess", "may", "Yes");
    }

    @Test
    void characterClassesWithRangesNegationAndUnicode() {
        accepts("root ::= [a-c0-9_]", "a", "c", "5", "_");
        refuses("root ::= [a-c0-9_]", "d", "A", "", "ab");
        accepts("root ::= [^\\n\"]+", "hello world", "ü€😀");
        refuses("root ::= [^\\n\"]+", "a\nb", "say \"hi\"", "");
        accepts("root ::= [α-ω]+ \" \" [\\u4e00-\\u9fff]", "λογος 中");
        refuses("root ::= [α-ω]+ \" \" [\\u4e00-\\u9fff]", "logos 中", "λογος a", "λόγος 中");
        accepts("root ::= .", "x", "😀");
        refuses("root ::= .", "", "xy");
        accepts("root ::= [\\]\\-\\^] [-a]", "]-", "^a", "--");
    }

    @Test
    void groupsNestUpToALimitOnAVirtualThreadAndBeyondItAreRefused() throws Exception {
        int depth = GbnfParser.MAX_NESTING;
        String deepest = "root ::= " + "(".repeat(depth) + "\"a\"" + ")".repeat(depth);
        int patternDepth = PatternGrammar.MAX_NESTING;
        String pattern = "^" + "(".repeat(patternDepth) + "a" + ")+".repeat(patternDepth) + "$"; // each group repeated
        // the server parses grammars on virtual threads, whose stacks are the smallest a request runs on
        java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                accepts(deepest, "a");
                assertTrue(Grammar.fromJsonSchema("{\"type\": \"string\", \"pattern\": \"" + pattern + "\"}").accepts("\"a\""));
            } catch (Throwable thrown) {
                failed.set(thrown);
            }
        });
        t.join();
        assertEquals(null, failed.get());
        String tooDeep = "root ::= " + "(".repeat(depth + 1) + "\"a\"" + ")".repeat(depth + 1);
        GrammarException e = assertThrows(GrammarException.class, () -> Grammar.parse(tooDeep));
        assertTrue(e.getMessage().contains("nested more than " + depth), e.getMessage());
        String tooDeepPattern = "^" + "(".repeat(5000) + "a" + ")".repeat(5000) + "$";
        e = assertThrows(GrammarException.class,
                () -> Grammar.fromJsonSchema("{\"type\": \"string\", \"pattern\": \"" + tooDeepPattern + "\"}"));
        assertTrue(e.getMessage().contains("nested more than " + patternDepth), e.getMessage());
    }

    @Test
    void escapesInLiterals() {
        accepts("root ::= \"a\\tb\\n\\\\\\\"\\x41\\u00e9\\U0001F600\"", "a\tb\n\\\"Aé😀");
    }

    @Test
    void repetitionsAndTheirBounds() {
        accepts("root ::= \"a\"*", "", "a", "aaaa");
        accepts("root ::= \"ab\"+", "ab", "ababab");
        refuses("root ::= \"ab\"+", "", "aba", "abb");
        accepts("root ::= \"x\"? \"y\"", "y", "xy");
        refuses("root ::= \"x\"? \"y\"", "xxy", "x");
        String bounded = "root ::= [0-9]{2,4}";
        accepts(bounded, "12", "123", "1234");
        refuses(bounded, "1", "12345", "");
        accepts("root ::= \"a\"{3}", "aaa");
        refuses("root ::= \"a\"{3}", "aa", "aaaa");
        accepts("root ::= \"a\"{2,} \"b\"", "aab", "aaaaab");
        refuses("root ::= \"a\"{2,} \"b\"", "ab", "aa");
        accepts("root ::= (\"ha\" \" \"?){0,2}", "", "ha", "ha ha ", "haha");
        refuses("root ::= (\"ha\" \" \"?){0,2}", "ha ha ha");
    }

    @Test
    void rulesCommentsAndLines() {
        String g = """
                # a tiny arithmetic language
                root ::= expr ("=" expr)?   # an equation, or just an expression
                expr ::= term (op term)*
                op   ::= [-+*/]
                term ::= [0-9]+ | "(" expr ")"
                """;
        accepts(g, "1+2", "(1+2)*3=9", "42");
        refuses(g, "1+", "(1+2", "1==2", "a");
    }

    /** The shape of llama.cpp's json.gbnf: a body on the line after '::=', alternatives and groups over lines. */
    @Test
    void aJsonGrammarOverSeveralLines() {
        String g = """
                root   ::= object
                value  ::= object | array | string | number | ("true" | "false" | "null") ws
                object ::=
                  "{" ws (
                            string ":" ws value
                    ("," ws string ":" ws value)*
                  )? "}" ws
                array  ::=
                  "[" ws (
                            value
                    ("," ws value)*
                  )? "]" ws
                string ::=
                  "\\"" (
                    [^"\\\\\\x7F\\x00-\\x1F] |
                    "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})
                  )* "\\"" ws
                number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
                ws ::= | " " | "\\n" [ \\t]{0,20}
                """;
        accepts(g, "{}", "{\"a\": 1}", "{\"a\": [1, 2.5, -3e4], \"b\": {\"c\": null}}", "{\"s\": \"x\\\"y\\u00e9\"}");
        refuses(g, "[]", "{\"a\": }", "{\"a\" 1}", "{\"a\": 01x}", "{'a': 1}", "{\"a\": tru}");
        Grammar grammar = Grammar.parse(g);
        Grammar.State s = grammar.start().accept("{\"key\": ");
        assertFalse(s.isDead());
        assertFalse(s.canEnd());
        assertTrue(s.accept("[true]}").canEnd());
        assertTrue(s.accept("}").isDead());
    }

    @Test
    void badGrammarsSayWhereAndWhy() {
        assertMessage("root ::= \"a", "line 1, column 12", "closing '\"'");
        assertMessage("root ::= [a-", "line 1", "']'");
        assertMessage("root ::= foo\n", "line 1, column 10", "'foo' is used but never defined");
        assertMessage("start ::= \"a\"", "", "no 'root' rule");
        assertMessage("root ::= \"a\"\nroot ::= \"b\"", "line 2, column 1", "defined twice");
        assertMessage("root ::= x\nx ::= x \"a\" | \"b\"", "", "left-recursive: x -> x");
        assertMessage("root \"a\"", "line 1, column 6", "'::='");
        assertMessage("root ::= * \"a\"", "line 1, column 10", "follows nothing");
        assertMessage("root ::= \"a\"{3,1}", "line 1, column 13", "maximum below its minimum");
        assertMessage("root ::= \"\\q\"", "line 1, column 11", "unknown escape");
        assertMessage("root ::= [z-a]", "line 1, column 10", "backwards");
        assertMessage("root ::= \"a\" )", "line 1, column 14", "end of the line");
    }

    private static void assertMessage(String gbnf, String where, String what) {
        GrammarException e = assertThrows(GrammarException.class, () -> Grammar.parse(gbnf), gbnf);
        assertTrue(e.getMessage().contains(where) && e.getMessage().contains(what), e.getMessage());
    }

    @Test
    void statesShareNothingMutable() {
        Grammar g = Grammar.parse("root ::= \"a\" (\"b\" | \"c\")");
        Grammar.State a = g.start().accept('a');
        assertTrue(a.accept('b').canEnd());
        assertTrue(a.accept('c').canEnd());
        assertTrue(a.accept('b').mustEnd());
        assertEquals(2, a.stackCount());
        assertTrue(a.accept('d').isDead());
    }

    /** Facts from llama.cpp's grammar integration tests, restated: what its matcher accepts and refuses. */
    @Test
    void llamaCppsIntegrationCases() {
        String expression = """
                root ::= expression
                expression ::= term ws (("+"|"-") ws term)*
                term ::= factor ws (("*"|"/") ws factor)*
                factor ::= number | variable | "(" expression ")" | function-call
                number ::= [0-9]+
                variable ::= [a-zA-Z_][a-zA-Z0-9_]*
                function-call ::= variable ws "(" (expression ("," ws expression)*)? ")"
                ws ::= [ \\t\\n\\r]?""";
        accepts(expression, "42", "1*2*3*4*5", "x1+y2", "(a+b)*(c-d)", "func()", "func(x, y + 2)", "f(g(x), h(y, z))",
                "a * (b + c) - d / e");
        refuses(expression, "+", "/ 3x", "x + + y", "a * / b", "func(,)", "func(x y)", "(a + b", "x + y)", "42 +", "func(");
        accepts("root ::= ... \"abc\" ...", "abcabcabc", "aaaabcccc", "🔵🟠✅abc❌🟠🔵");
        refuses("root ::= ... \"abc\" ...", "aaabcccc", "aaaaabcccc", "aaaabccc", "🔵🟠✅❌abc❌✅🟠🔵", "🔵🟠abc🟠🔵");
        accepts("root ::= (\"0x\" [A-F0-9]{2} \" \"?){3,5}", "0xFF 0x12 0xAB", "0xFF 0x12 0xAB 0x00 0x00");
        refuses("root ::= (\"0x\" [A-F0-9]{2} \" \"?){3,5}", "", "0xFF", "0xFF 0x12", "0xFF 0x12 0xAB 0x00 0x00 0x00");
    }
}
