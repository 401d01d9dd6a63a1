package dev.vellama.runtime.grammar;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes the GBNF grammar of the JSON texts a JSON Schema allows: the subset llama.cpp converts, with its layout
 * (a {@code space} rule after each value, at most two line breaks and 20 spaces or tabs), so a model constrained by
 * either program writes the same shapes. Properties come in the schema's order, the required ones first; an object
 * without {@code additionalProperties} allows no other keys, as in llama.cpp. A keyword this converter cannot honour
 * is an error naming it, never silently dropped; annotations ({@code title}, {@code description}, ...) are ignored.
 */
final class JsonSchemaGrammar {
    private static final String SPACE = "| \" \" | \"\\n\"{1,2} [ \\t]{0,20}";
    private static final Map<String, String> PRIMITIVES = new LinkedHashMap<>();
    private static final Map<String, List<String>> PRIMITIVE_NEEDS = Map.ofEntries(
            Map.entry("number", List.of("integral-part", "decimal-part")),
            Map.entry("integer", List.of("integral-part")),
            Map.entry("value", List.of("object", "array", "string", "number", "boolean", "null")),
            Map.entry("object", List.of("string", "value")),
            Map.entry("array", List.of("value")),
            Map.entry("string", List.of("char")),
            Map.entry("date-time", List.of("date", "time")),
            Map.entry("date-string", List.of("date")),
            Map.entry("time-string", List.of("time")),
            Map.entry("date-time-string", List.of("date-time")));

    static {
        PRIMITIVES.put("boolean", "(\"true\" | \"false\") space");
        PRIMITIVES.put("decimal-part", "[0-9]{1,16}");
        PRIMITIVES.put("integral-part", "[0] | [1-9] [0-9]{0,15}");
        PRIMITIVES.put("number", "(\"-\"? integral-part) (\".\" decimal-part)? ([eE] [-+]? integral-part)? space");
        PRIMITIVES.put("integer", "(\"-\"? integral-part) space");
        PRIMITIVES.put("value", "object | array | string | number | boolean | null");
        PRIMITIVES.put("object", "\"{\" space ( string \":\" space value (\",\" space string \":\" space value)* )? \"}\" space");
        PRIMITIVES.put("array", "\"[\" space ( value (\",\" space value)* )? \"]\" space");
        PRIMITIVES.put("uuid", "\"\\\"\" [0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" "
                + "[0-9a-fA-F]{12} \"\\\"\" space");
        PRIMITIVES.put("char", "[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4})");
        PRIMITIVES.put("string", "\"\\\"\" char* \"\\\"\" space");
        PRIMITIVES.put("null", "\"null\" space");
        PRIMITIVES.put("date", "[0-9]{4} \"-\" ( \"0\" [1-9] | \"1\" [0-2] ) \"-\" ( \"0\" [1-9] | [1-2] [0-9] | \"3\" [0-1] )");
        PRIMITIVES.put("time", "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{3} )? "
                + "( \"Z\" | ( \"+\" | \"-\" ) ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] )");
        PRIMITIVES.put("date-time", "date \"T\" time");
        PRIMITIVES.put("date-string", "\"\\\"\" date \"\\\"\" space");
        PRIMITIVES.put("time-string", "\"\\\"\" time \"\\\"\" space");
        PRIMITIVES.put("date-time-string", "\"\\\"\" date-time \"\\\"\" space");
    }

    /** Keywords that only describe: they change nothing the model may write. */
    private static final Set<String> ANNOTATIONS = Set.of("$schema", "$id", "$comment", "$defs", "definitions", "title",
            "description", "examples", "default", "deprecated", "readOnly", "writeOnly", "$anchor", "strict", "name");

    /** The types each type-specific keyword applies to. */
    private static final Map<String, Set<String>> TYPE_KEYWORDS = Map.ofEntries(
            Map.entry("properties", Set.of("object")), Map.entry("required", Set.of("object")),
            Map.entry("additionalProperties", Set.of("object")), Map.entry("items", Set.of("array")),
            Map.entry("prefixItems", Set.of("array")), Map.entry("minItems", Set.of("array")),
            Map.entry("maxItems", Set.of("array")), Map.entry("pattern", Set.of("string")),
            Map.entry("format", Set.of("string")), Map.entry("minLength", Set.of("string")),
            Map.entry("maxLength", Set.of("string")), Map.entry("minimum", Set.of("integer", "number")),
            Map.entry("maximum", Set.of("integer", "number")), Map.entry("exclusiveMinimum", Set.of("integer", "number")),
            Map.entry("exclusiveMaximum", Set.of("integer", "number")));

    private final Object root;
    private final String rootName;
    private final Map<String, String> rules = new LinkedHashMap<>();
    private final Map<String, String> refRules = new LinkedHashMap<>(); // "$ref" → the rule written for it

    private JsonSchemaGrammar(Object root, String rootName) {
        this.root = root;
        this.rootName = rootName;
        rules.put("space", SPACE);
    }

    /** The GBNF text for {@code schema}: a JSON object as maps, lists, strings, numbers, booleans and nulls. */
    static String gbnf(Object schema) {
        return gbnf(schema, "root");
    }

    /**
     * The GBNF text for {@code schema} with its top rule named {@code ruleName}, one rule per line: other rules go by
     * names that start with it, except the built-in ones ({@code space}, {@code string}, ...), which are the same
     * in every such text, so texts for several schemas can be joined once duplicate lines are dropped.
     */
    static String gbnf(Object schema, String ruleName) {
        JsonSchemaGrammar g = new JsonSchemaGrammar(schema, ruleName);
        String top = g.visit(schema, ruleName, "");
        if (!top.equals(ruleName)) {
            g.rules.put(ruleName, top);
        }
        StringBuilder out = new StringBuilder();
        // the top rule first: easier to read, and the parser does not mind the order
        out.append(ruleName).append(" ::= ").append(g.rules.get(ruleName)).append('\n');
        g.rules.forEach((name, body) -> {
            if (!name.equals(ruleName)) {
                out.append(name).append(" ::= ").append(body).append('\n');
            }
        });
        return out.toString();
    }

    /** The grammar of any JSON object (OpenAI's {@code json_object} response format, llama.cpp's JSON mode). */
    static String anyObject() {
        return gbnf(Map.of("type", "object"));
    }

    /** Adds the rule for {@code schema} (at {@code path}, for messages) and returns its name. */
    private String visit(Object schema, String name, String path) {
        String at = path.isEmpty() ? "the schema" : path;
        if (schema instanceof Boolean b) {
            if (!b) {
                throw new GrammarException("JSON schema: " + at + " is false, which no value matches");
            }
            return rule(name, primitive("value"));
        }
        if (!(schema instanceof Map<?, ?> raw)) {
            throw new GrammarException("JSON schema: " + at + " must be an object or a boolean");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> s = (Map<String, Object>) raw;
        Object type = s.get("type");
        if (s.containsKey("$ref")) {
            only(s, at, "$ref");
            return rule(name, ref(string(s.get("$ref"), at + ".$ref"), at));
        }
        if (s.containsKey("anyOf") || s.containsKey("oneOf")) {
            String key = s.containsKey("anyOf") ? "anyOf" : "oneOf";
            only(s, at, key, "type");
            List<?> alternatives = list(s.get(key), at + "." + key);
            if (alternatives.isEmpty()) {
                throw new GrammarException("JSON schema: " + at + "." + key + " is empty");
            }
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < alternatives.size(); i++) {
                parts.add(visit(alternatives.get(i), child(name, String.valueOf(i)), at + "." + key + "[" + i + "]"));
            }
            return rule(name, String.join(" | ", parts));
        }
        if (type instanceof List<?> types) {
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < types.size(); i++) {
                String t = string(types.get(i), at + ".type[" + i + "]"); // checked first: a null has no keywords
                Map<String, Object> one = new LinkedHashMap<>(s);
                one.put("type", t);
                // a keyword for another type does not bear on values of this one
                one.keySet().removeIf(k -> TYPE_KEYWORDS.containsKey(k) && !TYPE_KEYWORDS.get(k).contains(t));
                parts.add(visit(one, child(name, t), at));
            }
            return rule(name, String.join(" | ", parts));
        }
        if (type != null && !(type instanceof String)) {
            throw new GrammarException("JSON schema: " + at + ".type must be a string or a list of strings");
        }
        if (s.containsKey("const")) {
            only(s, at, "const", "type");
            return rule(name, literal(json(s.get("const"))) + " space");
        }
        if (s.containsKey("enum")) {
            only(s, at, "enum", "type");
            List<String> values = new ArrayList<>();
            for (Object v : list(s.get("enum"), at + ".enum")) {
                values.add(literal(json(v)));
            }
            if (values.isEmpty()) {
                throw new GrammarException("JSON schema: " + at + ".enum is empty");
            }
            return rule(name, "(" + String.join(" | ", values) + ") space");
        }
        if (s.containsKey("allOf")) {
            return rule(name, allOf(s, name, at));
        }
        if (type == null) {
            if (s.containsKey("properties") || s.containsKey("additionalProperties") || s.containsKey("required")) {
                type = "object";
            } else if (s.containsKey("items") || s.containsKey("prefixItems")) {
                type = "array";
            } else if (s.containsKey("pattern") || s.containsKey("format") || s.containsKey("minLength")
                    || s.containsKey("maxLength")) {
                type = "string";
            } else {
                only(s, at);
                return rule(name, primitive("object")); // llama.cpp reads a schema with no type as an object
            }
        }
        return switch ((String) type) {
            case "object" -> rule(name, object(s, name, at));
            case "array" -> rule(name, array(s, name, at));
            case "string" -> string(s, name, at);
            case "integer" -> integer(s, name, at);
            case "number" -> number(s, name, at);
            case "boolean" -> {
                only(s, at, "type");
                yield rule(name, primitive("boolean"));
            }
            case "null" -> {
                only(s, at, "type");
                yield rule(name, primitive("null"));
            }
            default -> throw new GrammarException("JSON schema: " + at + ".type '" + type + "' is not a JSON type");
        };
    }

    private String object(Map<String, Object> s, String name, String at) {
        only(s, at, "type", "properties", "required", "additionalProperties");
        Map<String, Object> properties = map(s.getOrDefault("properties", Map.of()), at + ".properties");
        Set<String> required = new LinkedHashSet<>();
        for (Object r : list(s.getOrDefault("required", List.of()), at + ".required")) {
            required.add(string(r, at + ".required"));
        }
        for (String r : required) {
            if (!properties.containsKey(r)) {
                throw new GrammarException("JSON schema: " + at + ".required names '" + r + "', which is not in properties");
            }
        }
        Object additional = s.get("additionalProperties");
        if (properties.isEmpty() && (additional == null || Boolean.TRUE.equals(additional))
                && !s.containsKey("properties")) {
            return primitive("object"); // any object
        }
        return objectRule(properties, required, additional, name, at);
    }

    /** {@code allOf}: the properties of every part (objects or references to them) in one object. */
    private String allOf(Map<String, Object> s, String name, String at) {
        only(s, at, "allOf", "type");
        Map<String, Object> properties = new LinkedHashMap<>();
        Set<String> required = new LinkedHashSet<>();
        List<?> parts = list(s.get("allOf"), at + ".allOf");
        for (int i = 0; i < parts.size(); i++) {
            Map<String, Object> part = map(parts.get(i), at + ".allOf[" + i + "]");
            if (part.containsKey("$ref")) {
                part = map(resolve(string(part.get("$ref"), at), at), at + ".allOf[" + i + "]");
            }
            if (!part.containsKey("properties")) {
                throw new GrammarException("JSON schema: " + at + ".allOf[" + i + "] is not an object schema with "
                        + "properties (allOf is supported for merging objects only)");
            }
            properties.putAll(map(part.get("properties"), at + ".allOf[" + i + "].properties"));
            for (Object r : list(part.getOrDefault("required", List.of()), at + ".allOf[" + i + "].required")) {
                required.add(string(r, at));
            }
        }
        return objectRule(properties, required, null, name, at);
    }

    private String objectRule(Map<String, Object> properties, Set<String> required, Object additional, String name,
            String at) {
        Map<String, String> keyValues = new LinkedHashMap<>();
        List<String> requiredKeys = new ArrayList<>();
        List<String> optionalKeys = new ArrayList<>();
        for (Map.Entry<String, Object> p : properties.entrySet()) {
            String sub = child(name, p.getKey());
            String value = visit(p.getValue(), sub, at + ".properties." + p.getKey());
            keyValues.put(p.getKey(), rule(sub + "-kv", literal(json(p.getKey())) + " space \":\" space " + value));
            (required.contains(p.getKey()) ? requiredKeys : optionalKeys).add(p.getKey());
        }
        if (Boolean.TRUE.equals(additional) || additional instanceof Map<?, ?>) {
            String value = additional instanceof Map<?, ?> ? visit(additional, child(name, "additional-value"),
                    at + ".additionalProperties") : primitive("value");
            String key = properties.isEmpty() ? primitive("string") : rule(child(name, "additional-k"), notStrings(properties.keySet()));
            keyValues.put("*", rule(child(name, "additional-kv"), key + " \":\" space " + value));
            optionalKeys.add("*");
        } else if (additional != null && !Boolean.FALSE.equals(additional)) {
            throw new GrammarException("JSON schema: " + at + ".additionalProperties must be a boolean or a schema");
        }
        StringBuilder body = new StringBuilder("\"{\" space ");
        for (int i = 0; i < requiredKeys.size(); i++) {
            body.append(i > 0 ? " \",\" space " : "").append(keyValues.get(requiredKeys.get(i)));
        }
        if (!optionalKeys.isEmpty()) {
            // the optional keys in order, each present or not: an alternative for each that comes first
            body.append(" (");
            if (!requiredKeys.isEmpty()) {
                body.append(" \",\" space ( ");
            }
            for (int i = 0; i < optionalKeys.size(); i++) {
                body.append(i > 0 ? " | " : "").append(optionalFrom(optionalKeys.subList(i, optionalKeys.size()),
                        false, keyValues, name));
            }
            if (!requiredKeys.isEmpty()) {
                body.append(" )");
            }
            body.append(" )?");
        }
        return body.append(" \"}\" space").toString();
    }

    /** The optional keys {@code keys} in order: the first present (or, when {@code mayLack}, perhaps not), and so on. */
    private String optionalFrom(List<String> keys, boolean mayLack, Map<String, String> keyValues, String name) {
        String key = keys.get(0);
        String kv = keyValues.get(key);
        String withComma = "( \",\" space " + kv + " )";
        String first = mayLack ? withComma + (key.equals("*") ? "*" : "?") : kv + (key.equals("*") ? " " + withComma + "*" : "");
        if (keys.size() == 1) {
            return first;
        }
        return first + " " + rule(child(name, (key.equals("*") ? "additional" : key) + "-rest"),
                optionalFrom(keys.subList(1, keys.size()), true, keyValues, name));
    }

    /** A JSON string that is none of {@code names}: a trie of them, leaving by a character none continues with. */
    private String notStrings(Set<String> names) {
        Trie trie = new Trie();
        for (String n : names) {
            trie.add(n);
        }
        String ch = primitive("char");
        StringBuilder out = new StringBuilder("[\"] ( ");
        trie.write(out, ch);
        out.append(" )").append(trie.end ? "" : "?").append(" [\"] space");
        return out.toString();
    }

    private static final class Trie {
        final Map<Integer, Trie> next = new LinkedHashMap<>();
        boolean end;

        void add(String s) {
            Trie t = this;
            for (int i = 0; i < s.length(); ) {
                int cp = s.codePointAt(i);
                t = t.next.computeIfAbsent(cp, c -> new Trie());
                i += Character.charCount(cp);
            }
            t.end = true;
        }

        void write(StringBuilder out, String ch) {
            StringBuilder others = new StringBuilder();
            boolean first = true;
            for (Map.Entry<Integer, Trie> e : next.entrySet()) {
                String c = classChar(e.getKey());
                others.append(c);
                out.append(first ? "" : " | ").append('[').append(c).append(']');
                first = false;
                Trie t = e.getValue();
                if (!t.next.isEmpty()) {
                    out.append(" (");
                    t.write(out, ch);
                    out.append(")");
                    if (t.end) {
                        out.append('?');
                    }
                } else if (t.end) {
                    out.append(' ').append(ch).append('+');
                }
            }
            if (!next.isEmpty()) {
                out.append(first ? "" : " | ").append("[^\"").append(others).append("] ").append(ch).append('*');
            }
        }
    }

    private String array(Map<String, Object> s, String name, String at) {
        only(s, at, "type", "items", "prefixItems", "minItems", "maxItems");
        Object items = s.containsKey("prefixItems") ? s.get("prefixItems") : s.get("items");
        if (items instanceof List<?> tuple) {
            if (s.containsKey("minItems") || s.containsKey("maxItems")) {
                throw new GrammarException("JSON schema: " + at + ": minItems and maxItems are not supported beside a tuple of items");
            }
            StringBuilder body = new StringBuilder("\"[\" space ");
            for (int i = 0; i < tuple.size(); i++) {
                body.append(i > 0 ? " \",\" space " : "").append(visit(tuple.get(i), child(name, "tuple-" + i), at + ".items[" + i + "]"));
            }
            return body.append(" \"]\" space").toString();
        }
        String item = items == null ? primitive("value") : visit(items, child(name, "item"), at + ".items");
        int min = count(s, "minItems", 0, at);
        int max = count(s, "maxItems", Integer.MAX_VALUE, at);
        if (min > max) {
            throw new GrammarException("JSON schema: " + at + ": minItems " + min + " is above maxItems " + max);
        }
        return "\"[\" space " + repetition(item, min, max, "\",\" space") + " \"]\" space";
    }

    private String string(Map<String, Object> s, String name, String at) {
        only(s, at, "type", "pattern", "format", "minLength", "maxLength");
        if (s.containsKey("pattern")) {
            if (s.containsKey("format") || s.containsKey("minLength") || s.containsKey("maxLength")) {
                throw new GrammarException("JSON schema: " + at + ": pattern cannot be combined with format, minLength or maxLength here");
            }
            String regex = string(s.get("pattern"), at + ".pattern");
            return rule(name, "\"\\\"\" (" + new PatternGrammar(regex, at + ".pattern").gbnf() + ") \"\\\"\" space");
        }
        if (s.containsKey("format")) {
            String format = string(s.get("format"), at + ".format");
            if (s.containsKey("minLength") || s.containsKey("maxLength")) {
                throw new GrammarException("JSON schema: " + at + ": format cannot be combined with minLength or maxLength");
            }
            if (format.matches("uuid[1-5]?")) {
                return rule(name, primitive("uuid"));
            }
            if (format.equals("date") || format.equals("time") || format.equals("date-time")) {
                return rule(name, primitive(format + "-string"));
            }
            throw new GrammarException("JSON schema: " + at + ".format '" + format
                    + "' is not supported (supported: date, time, date-time, uuid)");
        }
        if (s.containsKey("minLength") || s.containsKey("maxLength")) {
            int min = count(s, "minLength", 0, at);
            int max = count(s, "maxLength", Integer.MAX_VALUE, at);
            if (min > max) {
                throw new GrammarException("JSON schema: " + at + ": minLength " + min + " is above maxLength " + max);
            }
            return rule(name, "\"\\\"\" " + repetition(primitive("char"), min, max, null) + " \"\\\"\" space");
        }
        return rule(name, primitive("string"));
    }

    private String integer(Map<String, Object> s, String name, String at) {
        only(s, at, "type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
        long lo = Long.MIN_VALUE;
        long hi = Long.MAX_VALUE;
        if (s.containsKey("minimum")) {
            lo = bound(s.get("minimum"), at + ".minimum", true);
        }
        if (s.containsKey("exclusiveMinimum")) {
            lo = Math.max(lo, Math.addExact(bound(s.get("exclusiveMinimum"), at + ".exclusiveMinimum", false), 1));
        }
        if (s.containsKey("maximum")) {
            hi = bound(s.get("maximum"), at + ".maximum", false);
        }
        if (s.containsKey("exclusiveMaximum")) {
            hi = Math.min(hi, Math.subtractExact(bound(s.get("exclusiveMaximum"), at + ".exclusiveMaximum", true), 1));
        }
        if (lo == Long.MIN_VALUE && hi == Long.MAX_VALUE) {
            return rule(name, primitive("integer"));
        }
        if (lo > hi) {
            throw new GrammarException("JSON schema: " + at + ": no integer lies between its minimum and maximum");
        }
        return rule(name, "(" + IntegerRange.gbnf(lo, hi) + ") space");
    }

    /**
     * A number, perhaps within bounds. Bounds must be whole numbers (the common case: 0, 1, 100); a bounded number
     * is written without an exponent, so its digits alone say whether it is in range.
     */
    private String number(Map<String, Object> s, String name, String at) {
        only(s, at, "type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
        if (!s.containsKey("minimum") && !s.containsKey("maximum") && !s.containsKey("exclusiveMinimum")
                && !s.containsKey("exclusiveMaximum")) {
            return rule(name, primitive("number"));
        }
        long lo = Long.MIN_VALUE;
        long hi = Long.MAX_VALUE;
        boolean loOpen = false; // exclusive
        boolean hiOpen = false;
        for (String key : List.of("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")) {
            if (!s.containsKey(key)) {
                continue;
            }
            if (!(s.get(key) instanceof Number n) || new BigDecimal(n.toString()).stripTrailingZeros().scale() > 0) {
                throw new GrammarException("JSON schema: " + at + "." + key + " on a number must be a whole number "
                        + "(fractional bounds are not supported)");
            }
            long v = bound(n, at + "." + key, true);
            if (key.endsWith("inimum") && (v > lo || v == lo && key.startsWith("exclusive"))) {
                lo = v;
                loOpen = key.startsWith("exclusive");
            } else if (key.endsWith("aximum") && (v < hi || v == hi && key.startsWith("exclusive"))) {
                hi = v;
                hiOpen = key.startsWith("exclusive");
            }
        }
        List<String> alternatives = new ArrayList<>();
        if (lo < 0) { // below zero: a magnitude from |min(hi, 0)| to |lo|
            String m = hi < 0 ? magnitude(-hi, hiOpen, lo == Long.MIN_VALUE ? Long.MAX_VALUE : -lo, loOpen)
                    : magnitude(0, true, lo == Long.MIN_VALUE ? Long.MAX_VALUE : -lo, loOpen);
            if (m != null) {
                alternatives.add("\"-\" (" + m + ")");
            }
        }
        if (hi >= 0) {
            String m = lo >= 0 ? magnitude(lo, loOpen, hi, hiOpen) : magnitude(0, false, hi, hiOpen);
            if (m != null) {
                alternatives.add(m);
            }
        }
        if (alternatives.isEmpty()) {
            throw new GrammarException("JSON schema: " + at + ": no number lies between its bounds");
        }
        return rule(name, "(" + String.join(" | ", alternatives) + ") space");
    }

    /**
     * Digits of a number from {@code a} to {@code b} (whole, {@code a} ≥ 0; {@link Long#MAX_VALUE} for no upper
     * bound), each end excluded when its flag says so; null when there is none.
     */
    private static String magnitude(long a, boolean aOpen, long b, boolean bOpen) {
        String fraction = "(\".\" [0-9]{1,16})?";
        List<String> alternatives = new ArrayList<>();
        if (a == b) {
            return aOpen || bOpen ? null : IntegerRange.gbnf(a, a) + " (\".\" [0]{1,16})?";
        }
        // a itself, with a fraction that must be above zero when a is excluded
        alternatives.add(IntegerRange.gbnf(a, a) + (aOpen ? " \".\" [0]{0,15} [1-9] [0-9]{0,15}" : " " + fraction));
        if (b == Long.MAX_VALUE || a + 1 <= b - 1) {
            alternatives.add("(" + IntegerRange.gbnf(a + 1, b == Long.MAX_VALUE ? Long.MAX_VALUE : b - 1) + ") " + fraction);
        }
        if (b != Long.MAX_VALUE && !bOpen) {
            alternatives.add(IntegerRange.gbnf(b, b) + " (\".\" [0]{1,16})?");
        }
        return String.join(" | ", alternatives);
    }

    /** An integer bound; a fractional one is rounded inwards (up for a lower bound, down for an upper). */
    private static long bound(Object v, String at, boolean lower) {
        if (!(v instanceof Number n)) {
            throw new GrammarException("JSON schema: " + at + " must be a number");
        }
        BigDecimal d = new BigDecimal(n.toString());
        d = d.setScale(0, lower ? java.math.RoundingMode.CEILING : java.math.RoundingMode.FLOOR);
        if (d.abs().compareTo(BigDecimal.valueOf(IntegerRange.LIMIT)) > 0) {
            throw new GrammarException("JSON schema: " + at + " is beyond ±" + IntegerRange.LIMIT);
        }
        return d.longValueExact();
    }

    /** {@code item} from {@code min} to {@code max} times, with {@code separator} between when given. */
    private static String repetition(String item, int min, int max, String separator) {
        boolean bounded = max != Integer.MAX_VALUE;
        if (min == 0 && max == 1) {
            return item + "?";
        }
        if (separator == null) {
            if (min == 1 && !bounded) {
                return item + "+";
            }
            if (min == 0 && !bounded) {
                return item + "*";
            }
            return item + "{" + min + "," + (bounded ? String.valueOf(max) : "") + "}";
        }
        if (max == 0) {
            return "";
        }
        String rest = repetition("(" + separator + " " + item + ")", Math.max(min - 1, 0), bounded ? max - 1 : max, null);
        String result = item + (rest.isEmpty() || rest.endsWith("{0,0}") ? "" : " " + rest);
        return min == 0 ? "(" + result + ")?" : result;
    }

    private Object resolve(String ref, String at) {
        if (!ref.startsWith("#")) {
            throw new GrammarException("JSON schema: " + at + ".$ref '" + ref + "' is not within this schema (only '#...' references are supported)");
        }
        Object target = root;
        String pointer = ref.substring(1);
        if (!pointer.isEmpty()) {
            if (!pointer.startsWith("/")) {
                throw new GrammarException("JSON schema: " + at + ".$ref '" + ref + "' is not a JSON pointer");
            }
            for (String part : pointer.substring(1).split("/", -1)) {
                String key = part.replace("~1", "/").replace("~0", "~");
                if (target instanceof Map<?, ?> m && m.containsKey(key)) {
                    target = m.get(key);
                } else if (target instanceof List<?> l && key.matches("\\d+") && Integer.parseInt(key) < l.size()) {
                    target = l.get(Integer.parseInt(key));
                } else {
                    throw new GrammarException("JSON schema: " + at + ".$ref '" + ref + "' points to nothing");
                }
            }
        }
        return target;
    }

    private String ref(String ref, String at) {
        String known = refRules.get(ref);
        if (known != null) {
            return known; // being written or written: a recursive schema refers to its own rule
        }
        Object target = resolve(ref, at);
        String base = ref.equals("#") ? "root" : ref.substring(ref.lastIndexOf('/') + 1);
        String name = ref.equals("#") ? rootName : fresh(child(rootName, "ref-" + base));
        refRules.put(ref, name);
        if (!name.equals(rootName)) {
            rules.put(name, "\"\"");  // reserved while its body is written
            String body = visit(target, name + "-body", ref);
            rules.put(name, body);
        }
        return name;
    }

    /** The name of a part of rule {@code name}: the root's parts go by their own names, as in llama.cpp. */
    private String child(String name, String part) {
        String n = name.equals("root") && rootName.equals("root") ? part : name + "-" + part;
        return n.equals(rootName) ? n + "-" : n;
    }

    /** Adds rule {@code name ::= body} (a fresh name if taken by another body) and returns the name used. */
    private String rule(String name, String body) {
        String n = sanitize(name);
        if (body.equals(n)) {
            return n;
        }
        String existing = rules.get(n);
        if (existing == null || existing.equals(body)) {
            rules.put(n, body);
            return n;
        }
        String f = fresh(n);
        rules.put(f, body);
        return f;
    }

    private String fresh(String base) {
        String n = sanitize(base);
        if (!rules.containsKey(n) && !PRIMITIVES.containsKey(n)) {
            return n;
        }
        for (int i = 1; ; i++) {
            if (!rules.containsKey(n + i)) {
                return n + i;
            }
        }
    }

    private static String sanitize(String name) {
        String n = name.replaceAll("[^a-zA-Z0-9-]+", "-");
        if (PRIMITIVES.containsKey(n)) {
            return n + "-"; // a property named like a built-in rule must not replace it
        }
        return n.isEmpty() ? "x" : n;
    }

    /** Adds a built-in rule and those it needs; returns its name. */
    private String primitive(String name) {
        if (!rules.containsKey(name)) {
            rules.put(name, PRIMITIVES.get(name));
            for (String need : PRIMITIVE_NEEDS.getOrDefault(name, List.of())) {
                primitive(need);
            }
        }
        return name;
    }

    /** Refuses any keyword of {@code s} besides {@code allowed} and annotations, naming it. */
    private static void only(Map<String, Object> s, String at, String... allowed) {
        Set<String> ok = new HashSet<>(List.of(allowed));
        for (String k : s.keySet()) {
            if (!ok.contains(k) && !ANNOTATIONS.contains(k)) {
                throw new GrammarException("JSON schema: keyword '" + k + "' at " + at + " is not supported"
                        + (s.containsKey("type") ? " for type " + s.get("type") : "") + " by the grammar converter");
            }
        }
    }

    private static int count(Map<String, Object> s, String key, int absent, String at) {
        Object v = s.get(key);
        if (v == null) {
            return absent;
        }
        if (!(v instanceof Number n) || n.doubleValue() < 0 || n.doubleValue() != Math.rint(n.doubleValue())
                || n.doubleValue() > 100_000) {
            throw new GrammarException("JSON schema: " + at + "." + key + " must be a whole number from 0 to 100000");
        }
        return n.intValue();
    }

    private static String string(Object v, String at) {
        if (!(v instanceof String s)) {
            throw new GrammarException("JSON schema: " + at + " must be a string");
        }
        return s;
    }

    private static List<?> list(Object v, String at) {
        if (!(v instanceof List<?> l)) {
            throw new GrammarException("JSON schema: " + at + " must be a list");
        }
        return l;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object v, String at) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new GrammarException("JSON schema: " + at + " must be an object");
        }
        return (Map<String, Object>) m;
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** Compact JSON text of a parsed value (a constant, an enum member, a property name), as llama.cpp's dump() writes it. */
    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new GrammarException("JSON schema: " + value + " is not a JSON value");
        }
    }

    /** A GBNF string literal matching {@code text} exactly. */
    static String literal(String text) {
        StringBuilder out = new StringBuilder("\"");
        text.codePoints().forEach(cp -> {
            switch (cp) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (cp < 0x20 || cp == 0x7F) {
                        out.append(String.format("\\x%02X", cp));
                    } else {
                        out.appendCodePoint(cp);
                    }
                }
            }
        });
        return out.append('"').toString();
    }

    /** A code point written for inside a GBNF character class. */
    static String classChar(int cp) {
        return switch (cp) {
            case '"' -> "\\\"";
            case '\\' -> "\\\\";
            case ']' -> "\\]";
            case '[' -> "\\[";
            case '-' -> "\\x2D";
            case '^' -> "\\x5E";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> cp < 0x20 || cp == 0x7F ? String.format("\\x%02X", cp) : new String(Character.toChars(cp));
        };
    }
}
