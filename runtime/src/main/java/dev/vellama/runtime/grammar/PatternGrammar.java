package dev.vellama.runtime.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * GBNF for the contents of a JSON string that a schema's {@code pattern} matches, whole (as llama.cpp reads it,
 * with or without {@code ^...$}). The basics: literals and escapes, {@code .}, classes with ranges and negation,
 * {@code \d \w \s} and their negations, groups ({@code (?:...)} too), {@code |}, and {@code * + ? {n} {n,} {n,m}}
 * (lazy forms read as greedy). A character the JSON text must escape is written escaped; {@code .} and negated
 * classes produce no quote, backslash or control character. Lookaround, backreferences and word boundaries are
 * refused by name.
 */
final class PatternGrammar {
    private static final String NOT_JSON_SPECIAL = "\"\\\\\\x00-\\x1F\\x7F";

    /**
     * Groups nested deeper than this are refused: the parser recurses once per level, and each group may become two
     * levels of the GBNF it writes (a repeated group is wrapped again) inside the rules around it.
     */
    static final int MAX_NESTING = GbnfParser.MAX_NESTING / 2 - 4;

    private final String regex;
    private final String at;
    private int pos;
    private int nesting;

    PatternGrammar(String regex, String at) {
        this.regex = regex;
        this.at = at;
    }

    String gbnf() {
        int end = regex.length();
        if (regex.startsWith("^")) {
            pos = 1;
        }
        String body = alternation(regex.endsWith("$") && !regex.endsWith("\\$") ? end - 1 : end);
        if (pos != (regex.endsWith("$") && !regex.endsWith("\\$") ? end - 1 : end)) {
            throw error("unexpected '" + regex.charAt(pos) + "'");
        }
        return body.isEmpty() ? "\"\"" : body;
    }

    private String alternation(int end) {
        List<String> alternatives = new ArrayList<>();
        alternatives.add(sequence(end));
        while (pos < end && regex.charAt(pos) == '|') {
            pos++;
            alternatives.add(sequence(end));
        }
        if (alternatives.size() == 1) {
            return alternatives.get(0);
        }
        return String.join(" | ", alternatives.stream().map(a -> a.isEmpty() ? "\"\"" : a).toList());
    }

    private String sequence(int end) {
        List<String> items = new ArrayList<>();
        while (pos < end && regex.charAt(pos) != '|' && regex.charAt(pos) != ')') {
            String atom = atom(end);
            items.add(quantified(atom, end));
        }
        return String.join(" ", items);
    }

    private String quantified(String atom, int end) {
        if (pos >= end) {
            return atom;
        }
        char c = regex.charAt(pos);
        String q;
        if (c == '*' || c == '+' || c == '?') {
            pos++;
            q = String.valueOf(c);
        } else if (c == '{' && regex.indexOf('}', pos) > 0 && regex.substring(pos + 1, regex.indexOf('}', pos)).matches("\\d+(,\\d*)?")) {
            int close = regex.indexOf('}', pos);
            String[] parts = regex.substring(pos + 1, close).split(",", -1);
            int min = Integer.parseInt(parts[0]);
            if (parts.length == 2 && !parts[1].isEmpty() && Integer.parseInt(parts[1]) < min) {
                throw error("repetition {" + regex.substring(pos + 1, close) + "} has its maximum below its minimum");
            }
            q = "{" + regex.substring(pos + 1, close) + "}";
            pos = close + 1;
        } else {
            return atom;
        }
        if (pos < end && regex.charAt(pos) == '?') {
            pos++; // lazy: the same strings
        } else if (pos < end && regex.charAt(pos) == '+') {
            throw error("possessive quantifiers are not supported");
        }
        return "(" + atom + ")" + q;
    }

    private String atom(int end) {
        char c = regex.charAt(pos);
        switch (c) {
            case '(' -> {
                if (++nesting > MAX_NESTING) {
                    throw error("groups nested more than " + MAX_NESTING + " deep");
                }
                pos++;
                if (regex.startsWith("?:", pos)) {
                    pos += 2;
                } else if (regex.startsWith("?", pos)) {
                    throw error("lookaround and other (? groups are not supported");
                }
                String inner = alternation(end);
                if (pos >= end || regex.charAt(pos) != ')') {
                    throw error("a group is not closed");
                }
                pos++;
                nesting--;
                return "(" + (inner.isEmpty() ? "\"\"" : inner) + ")";
            }
            case '[' -> {
                return charClass(end);
            }
            case '.' -> {
                pos++;
                return "[^" + NOT_JSON_SPECIAL + "]";
            }
            case '\\' -> {
                return escape(end, false);
            }
            case '^', '$' -> throw error("an anchor '" + c + "' inside the pattern is not supported");
            case '*', '+', '?', '{' -> throw error("'" + c + "' has nothing to repeat");
            default -> {
                int cp = regex.codePointAt(pos);
                pos += Character.charCount(cp);
                return jsonChar(cp);
            }
        }
    }

    /** An escape outside a class as GBNF; inside one ({@code inClass}) as class contents. */
    private String escape(int end, boolean inClass) {
        if (pos + 1 >= end + (inClass ? 1 : 0) && pos + 1 >= regex.length()) {
            throw error("the pattern ends in a backslash");
        }
        char e = regex.charAt(pos + 1);
        pos += 2;
        return switch (e) {
            case 'd' -> inClass ? "0-9" : "[0-9]";
            case 'w' -> inClass ? "a-zA-Z0-9_" : "[a-zA-Z0-9_]";
            case 's' -> inClass ? " " : "([ ] | \"\\\\t\" | \"\\\\n\" | \"\\\\r\")";
            case 'D' -> notIn(inClass, "0-9");
            case 'W' -> notIn(inClass, "a-zA-Z0-9_");
            case 'S' -> notIn(inClass, " ");
            case 'b', 'B' -> throw error("word boundaries (\\" + e + ") are not supported");
            case 'n' -> inClass ? "" : jsonChar('\n');
            case 't' -> inClass ? "" : jsonChar('\t');
            case 'r' -> inClass ? "" : jsonChar('\r');
            case 'u' -> {
                if (pos + 4 > regex.length() || !regex.substring(pos, pos + 4).matches("[0-9a-fA-F]{4}")) {
                    throw error("\\u needs four hex digits");
                }
                int cp = Integer.parseInt(regex.substring(pos, pos + 4), 16);
                pos += 4;
                yield inClass ? classPart(cp) : jsonChar(cp);
            }
            default -> {
                if (Character.isDigit(e)) {
                    throw error("backreferences (\\" + e + ") are not supported");
                }
                if (Character.isLetter(e)) {
                    throw error("the escape \\" + e + " is not supported");
                }
                yield inClass ? classPart(e) : jsonChar(e);
            }
        };
    }

    private String notIn(boolean inClass, String set) {
        if (inClass) {
            throw error("negated shorthands (\\D \\W \\S) inside a class are not supported");
        }
        return "[^" + set + NOT_JSON_SPECIAL + "]";
    }

    private String charClass(int end) {
        pos++; // [
        boolean negated = pos < end && regex.charAt(pos) == '^';
        if (negated) {
            pos++;
        }
        StringBuilder set = new StringBuilder();
        List<String> escaped = new ArrayList<>(); // quote and backslash, which the JSON text writes escaped
        boolean first = true;
        while (pos < end && (regex.charAt(pos) != ']' || first)) {
            first = false;
            int cp;
            if (regex.charAt(pos) == '\\') {
                char e = pos + 1 < regex.length() ? regex.charAt(pos + 1) : 0;
                if ("dwsDWSntrbBu".indexOf(e) >= 0 || Character.isDigit(e)) {
                    set.append(escape(end, true));
                    continue;
                }
                pos += 2;
                cp = e;
            } else {
                cp = regex.codePointAt(pos);
                pos += Character.charCount(cp);
            }
            if (pos + 1 < end && regex.charAt(pos) == '-' && regex.charAt(pos + 1) != ']') {
                pos++;
                int hi;
                if (regex.charAt(pos) == '\\') {
                    hi = regex.charAt(pos + 1);
                    pos += 2;
                } else {
                    hi = regex.codePointAt(pos);
                    pos += Character.charCount(hi);
                }
                if (hi < cp) {
                    throw error("a class range runs backwards");
                }
                set.append(classPart(cp)).append('-').append(classPart(hi));
                continue;
            }
            if (cp == '"' || cp == '\\') {
                if (!negated) {
                    escaped.add(jsonChar(cp));
                }
                continue;
            }
            set.append(classPart(cp));
        }
        if (pos >= end) {
            throw error("a class is not closed");
        }
        pos++; // ]
        if (negated) {
            return "[^" + set + NOT_JSON_SPECIAL + "]";
        }
        List<String> alternatives = new ArrayList<>(escaped);
        if (!set.isEmpty()) {
            alternatives.add(0, "[" + set + "]");
        }
        if (alternatives.isEmpty()) {
            throw error("an empty class matches nothing");
        }
        return alternatives.size() == 1 ? alternatives.get(0) : "(" + String.join(" | ", alternatives) + ")";
    }

    private static String classPart(int cp) {
        return JsonSchemaGrammar.classChar(cp);
    }

    /** The GBNF literal of one character as a JSON string writes it. */
    private static String jsonChar(int cp) {
        return switch (cp) {
            case '"' -> "\"\\\\\\\"\"";
            case '\\' -> "\"\\\\\\\\\"";
            case '\n' -> "\"\\\\n\"";
            case '\t' -> "\"\\\\t\"";
            case '\r' -> "\"\\\\r\"";
            default -> cp < 0x20 || cp == 0x7F ? JsonSchemaGrammar.literal(String.format("\\u%04x", cp))
                    : JsonSchemaGrammar.literal(new String(Character.toChars(cp)));
        };
    }

    private GrammarException error(String what) {
        return new GrammarException("JSON schema: " + at + " '" + regex + "': " + what + " (at character " + (pos + 1) + ")");
    }
}
