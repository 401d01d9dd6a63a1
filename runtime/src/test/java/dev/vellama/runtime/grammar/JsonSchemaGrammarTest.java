package dev.vellama.runtime.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** JSON Schema → grammar: what each supported keyword lets through and keeps out, and the keywords refused. */
class JsonSchemaGrammarTest {
    private static void accepts(Grammar g, String... texts) {
        for (String t : texts) {
            assertTrue(g.accepts(t), "should accept " + t);
        }
    }

    private static void refuses(Grammar g, String... texts) {
        for (String t : texts) {
            assertFalse(g.accepts(t), "should refuse " + t);
        }
    }

    @Test
    void integerRangesHoldEveryNumberInsideAndNoneOutside() {
        long[][] ranges = {{0, 0}, {0, 9}, {3, 7}, {1, 100}, {5, 1234}, {-1, 1}, {-250, -17}, {-999, 1000}, {17, 17},
                {10, 99}, {100, 999}, {123, 4567}, {-5, Long.MAX_VALUE}, {Long.MIN_VALUE, 42}, {0, Long.MAX_VALUE},
                {1, Long.MAX_VALUE}, {Long.MIN_VALUE, -3}, {999, 1001}};
        for (long[] r : ranges) {
            Grammar g = Grammar.parse("root ::= " + IntegerRange.gbnf(r[0], r[1]));
            for (long n = -1300; n <= 1300; n++) {
                assertEquals(n >= r[0] && n <= r[1], g.accepts(Long.toString(n)), "[" + r[0] + ", " + r[1] + "] and " + n);
            }
            refuses(g, "-0", "007", "", "+1", "1.0");
        }
        Grammar open = Grammar.parse("root ::= " + IntegerRange.gbnf(7, Long.MAX_VALUE));
        accepts(open, "9999999999999999", "123456789012");
        refuses(open, "10000000000000000"); // 17 digits: the open side stops at 16, as llama.cpp's integral-part
    }

    @Test
    void anObjectWithRequiredAndOptionalProperties() {
        Grammar g = Grammar.fromJsonSchema("""
                {"type": "object", "title": "a person",
                 "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 150},
                                "email": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
                 "required": ["name", "age"]}""");
        accepts(g, "{\"name\": \"Ann\", \"age\": 31}", "{\"name\":\"Ann\",\"age\":0,\"tags\":[\"a\", \"b\"]}",
                "{\"name\": \"Ann\", \"age\": 150, \"email\": \"a@b\", \"tags\": []}",
                "{\n  \"name\": \"Ann\",\n  \"age\": 7\n}");
        refuses(g, "{\"age\": 31, \"name\": \"Ann\"}", // properties in the schema's order, required first
                "{\"name\": \"Ann\"}", "{\"name\": \"Ann\", \"age\": 151}", "{\"name\": \"Ann\", \"age\": -1}",
                "{\"name\": \"Ann\", \"age\": 3, \"other\": 1}", "{\"name\": \"Ann\", \"age\": 3, \"tags\": [1]}",
                "{\"name\": \"Ann\", \"age\": 3, \"tags\": [\"a\"], \"email\": \"x\"}");
    }

    @Test
    void enumsConstantsUnionsAndNullableTypes() {
        Grammar g = Grammar.fromJsonSchema("""
                {"type": "object", "properties": {
                   "mood": {"enum": ["happy", "sad", 3, null]},
                   "kind": {"const": {"a": [1, "x"]}},
                   "id": {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 3}]},
                   "note": {"type": ["string", "null"]}},
                 "required": ["mood", "kind", "id", "note"]}""");
        accepts(g, "{\"mood\": \"happy\", \"kind\": {\"a\":[1,\"x\"]}, \"id\": 12, \"note\": null}",
                "{\"mood\": 3, \"kind\": {\"a\":[1,\"x\"]}, \"id\": \"abc\", \"note\": \"hi\"}",
                "{\"mood\": null, \"kind\": {\"a\":[1,\"x\"]}, \"id\": -4, \"note\": \"\"}");
        refuses(g, "{\"mood\": \"angry\", \"kind\": {\"a\":[1,\"x\"]}, \"id\": 12, \"note\": null}",
                "{\"mood\": \"sad\", \"kind\": {\"a\":[2,\"x\"]}, \"id\": 12, \"note\": null}",
                "{\"mood\": \"sad\", \"kind\": {\"a\":[1,\"x\"]}, \"id\": \"abcd\", \"note\": null}",
                "{\"mood\": \"sad\", \"kind\": {\"a\":[1,\"x\"]}, \"id\": 1.5, \"note\": null}",
                "{\"mood\": \"sad\", \"kind\": {\"a\":[1,\"x\"]}, \"id\": 1, \"note\": 3}");
    }

    @Test
    void referencesAndRecursion() {
        Grammar g = Grammar.fromJsonSchema("""
                {"$defs": {"node": {"type": "object",
                                    "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                                    "required": ["v"], "additionalProperties": false}},
                 "$ref": "#/$defs/node"}""");
        accepts(g, "{\"v\": 1}", "{\"v\": 1, \"kids\": [{\"v\": 2}, {\"v\": 3, \"kids\": [{\"v\": 4, \"kids\": []}]}]}");
        refuses(g, "{\"v\": 1, \"kids\": [{\"w\": 2}]}", "{\"kids\": []}");
        Grammar list = Grammar.fromJsonSchema("""
                {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}}, "required": ["next"]}""");
        accepts(list, "{\"next\": null}", "{\"next\": {\"next\": {\"next\": null}}}");
        refuses(list, "{\"next\": {}}");
    }

    @Test
    void arraysStringsAndFormats() {
        Grammar items = Grammar.fromJsonSchema("{\"type\": \"array\", \"items\": {\"type\": \"boolean\"}, \"minItems\": 2, \"maxItems\": 3}");
        accepts(items, "[true, false]", "[true,false,true]");
        refuses(items, "[true]", "[true, true, true, true]", "[]");
        Grammar tuple = Grammar.fromJsonSchema("{\"prefixItems\": [{\"type\": \"string\"}, {\"type\": \"number\"}]}");
        accepts(tuple, "[\"a\", 1.5e3]", "[\"a\",-0.25]");
        refuses(tuple, "[1, \"a\"]", "[\"a\"]");
        Grammar word = Grammar.fromJsonSchema("{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 4}");
        accepts(word, "\"ab\"", "\"a\\\"cd\"", "\"日本語\"");
        refuses(word, "\"a\"", "\"abcde\"");
        Grammar date = Grammar.fromJsonSchema("{\"type\": \"string\", \"format\": \"date-time\"}");
        accepts(date, "\"2026-12-05T07:30:00Z\"", "\"2026-12-05T07:30:00.123+01:00\"");
        refuses(date, "\"2026-13-05T07:30:00Z\"", "\"yesterday\"");
        Grammar uuid = Grammar.fromJsonSchema("{\"type\": \"string\", \"format\": \"uuid\"}");
        accepts(uuid, "\"123e4567-e89b-12d3-a456-426614174000\"");
        refuses(uuid, "\"123e4567\"");
        Grammar nonNegative = Grammar.fromJsonSchema("{\"type\": \"number\", \"minimum\": 0}");
        accepts(nonNegative, "0", "3.25", "0.00001");
        refuses(nonNegative, "-1", "-0.5");
    }

    @Test
    void patternsMatchTheWholeStringAsJsonWritesIt() {
        Grammar g = Grammar.fromJsonSchema("{\"type\": \"string\", \"pattern\": \"^[A-Z]{2}-\\\\d{3,4}(x|yz)?$\"}");
        accepts(g, "\"AB-123\"", "\"QQ-1234x\"", "\"ZZ-000yz\"");
        refuses(g, "\"AB-12\"", "\"ab-123\"", "\"AB-123y\"", "\"xAB-123\"");
        Grammar quote = Grammar.fromJsonSchema("{\"type\": \"string\", \"pattern\": \"a\\\"b\\\\\\\\c.\"}");
        accepts(quote, "\"a\\\"b\\\\cz\"");
        refuses(quote, "\"a\"b\\cz\"", "\"a\\\"b\\\\c\\\"\"");
        for (String bad : List.of("(?=a)b", "\\\\1", "a\\\\b", "(ab", "[a-", "*a")) {
            String schema = "{\"type\": \"string\", \"pattern\": \"" + bad + "\"}";
            GrammarException e = assertThrows(GrammarException.class, () -> Grammar.fromJsonSchema(schema), bad);
            assertTrue(e.getMessage().contains("pattern"), e.getMessage());
        }
    }

    @Test
    void additionalPropertiesAndJsonMode() {
        Grammar g = Grammar.fromJsonSchema("""
                {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"],
                 "additionalProperties": {"type": "string"}}""");
        accepts(g, "{\"a\": 1}", "{\"a\": 1, \"b\": \"x\", \"c\": \"y\"}");
        refuses(g, "{\"a\": 1, \"b\": 2}", "{\"a\": 1, \"a\": \"x\"}");
        Grammar any = Grammar.jsonObject();
        accepts(any, "{}", "{\"x\": [1, {\"y\": null}, \"z\", true, -2.5e10]}");
        refuses(any, "[1]", "\"x\"", "{\"x\": }", "{x: 1}");
    }

    @Test
    void unsupportedKeywordsAreNamed() {
        String[][] cases = {
                {"{\"type\": \"integer\", \"multipleOf\": 3}", "multipleOf"},
                {"{\"type\": \"array\", \"items\": {}, \"uniqueItems\": true}", "uniqueItems"},
                {"{\"type\": \"string\", \"format\": \"email\"}", "email"},
                {"{\"not\": {\"type\": \"string\"}}", "not"},
                {"{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\", \"contentEncoding\": \"base64\"}}}", "contentEncoding"},
                {"{\"type\": \"number\", \"maximum\": 3.5}", "maximum"},
                {"{\"$ref\": \"https://example.com/s.json\"}", "$ref"},
                {"{\"type\": \"thing\"}", "thing"},
                {"{\"type\": [null]}", "type[0]"},
                {"{\"type\": [\"string\", 3], \"minLength\": 1}", "type[1]"},
                {"{\"type\": \"object\", \"required\": [\"x\"], \"properties\": {}}", "x"},
                {"not json", "not JSON"},
        };
        for (String[] c : cases) {
            GrammarException e = assertThrows(GrammarException.class, () -> Grammar.fromJsonSchema(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " → " + e.getMessage());
        }
    }

    @Test
    void theGbnfTextCanBeRead() {
        String gbnf = Grammar.jsonSchemaToGbnf(java.util.Map.of("type", "object",
                "properties", java.util.Map.of("n", java.util.Map.of("type", "integer"))));
        assertTrue(gbnf.startsWith("root ::= "), gbnf);
        assertTrue(gbnf.contains("space ::= "), gbnf);
        Grammar.parse(gbnf);
    }

    @Test
    void numberRangesWithWholeBounds() {
        String[][] cases = {
                {"\"minimum\": 0, \"maximum\": 1", "0", "1"}, {"\"exclusiveMinimum\": 0, \"maximum\": 2", "0x", "2"},
                {"\"minimum\": -2, \"exclusiveMaximum\": 3", "-2", "3x"}, {"\"minimum\": -3, \"maximum\": -1", "-3", "-1"},
                {"\"exclusiveMinimum\": -1, \"exclusiveMaximum\": 1", "-1x", "1x"}, {"\"minimum\": 2", "2", "inf"},
                {"\"maximum\": -2", "-inf", "-2"}};
        for (String[] c : cases) {
            Grammar g = Grammar.fromJsonSchema("{\"type\": \"number\", " + c[0] + "}");
            double lo = c[1].equals("-inf") ? Double.NEGATIVE_INFINITY : Double.parseDouble(c[1].replace("x", ""));
            double hi = c[2].equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(c[2].replace("x", ""));
            boolean loOpen = c[1].endsWith("x");
            boolean hiOpen = c[2].endsWith("x");
            for (int q = -24; q <= 24; q++) {
                double v = q / 4.0;
                boolean inside = (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
                for (String text : List.of(java.math.BigDecimal.valueOf(v).toPlainString(),
                        java.math.BigDecimal.valueOf(v).setScale(3).toPlainString())) {
                    if (text.equals("-0") || text.startsWith("-0.000") || text.equals("0.0")) {
                        continue; // not how JSON writes these / checked below
                    }
                    assertEquals(inside, g.accepts(text), c[0] + " and " + text);
                }
            }
        }
        Grammar positive = Grammar.fromJsonSchema("{\"type\": \"number\", \"exclusiveMinimum\": 0}");
        refuses(positive, "0", "0.0", "0.000", "-0.5", "1e3");
        accepts(positive, "0.001", "5", "12.5");
    }

    /** Facts from llama.cpp's grammar integration tests, restated: what its converter lets through and keeps out. */
    @Test
    void llamaCppsSchemaCases() {
        Grammar empty = Grammar.fromJsonSchema("{}");
        accepts(empty, "{}", "{\"foo\": \"bar\"}");
        refuses(empty, "", "[]", "null", "\"\"", "true");
        Grammar order = Grammar.fromJsonSchema("""
                {"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "string"}, "d": {"type": "string"},
                 "c": {"type": "string"}}, "required": ["a", "b"], "additionalProperties": false}""");
        accepts(order, "{\"b\": \"foo\", \"a\": \"bar\"}", "{\"b\":\"foo\",\"a\":\"bar\",\"d\":\"qux\"}",
                "{\"b\":\"foo\", \"a\":\"bar\", \"d\":\"qux\", \"c\":\"baz\"}");
        refuses(order, "{\"a\": \"foo\", \"b\": \"bar\"}", "{\"b\": \"bar\"}", "{\"a\": \"foo\", \"c\": \"baz\"}",
                "{\"a\":\"foo\", \"b\":\"bar\", \"c\":\"baz\", \"d\":\"qux\"}");
        Grammar noOverride = Grammar.fromJsonSchema("""
                {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                 "additionalProperties": {"type": "string"}}""");
        accepts(noOverride, "{\"a\": 42}", "{\"c\": \"\"}", "{\"a\": 42, \"c\": \"\"}", "{\"a_\": \"\"}");
        refuses(noOverride, "", "{\"a\": \"\"}", "{\"a\": \"\", \"b\": \"\"}");
        Grammar exotic = Grammar.fromJsonSchema("""
                {"items": [{"format": "date"}, {"format": "uuid"}, {"format": "time"}, {"format": "date-time"}]}""");
        accepts(exotic, "[\"2012-04-23\", \"12345678-1234-1234-1234-1234567890ab\", \"18:25:43.511Z\", \"2012-04-23T18:25:43.511Z\"]");
        refuses(exotic, "[\"foo\", \"bar\"]", "[\"12345678-1234-1234-1234-1234567890ab\"]");
    }
}
