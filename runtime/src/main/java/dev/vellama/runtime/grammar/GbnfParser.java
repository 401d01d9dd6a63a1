package dev.vellama.runtime.grammar;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads llama.cpp's GBNF: {@code name ::= alternatives} rules, {@code |}, grouping, string literals and character
 * classes (ranges, {@code ^} negation) with llama.cpp's escapes, {@code .}, rule references, {@code *} {@code +}
 * {@code ?} {@code {m}} {@code {m,}} {@code {m,n}}, {@code #} comments. Repetitions become generated rules, as
 * llama.cpp's parser makes them, so the matcher sees only character sets and rule references.
 */
final class GbnfParser {
    /** Repetitions above this are refused: each bound copy is a rule element, and a grammar is no place for 10⁶. */
    private static final int MAX_REPEAT = 1000;

    /** Parentheses nested deeper than this are refused: the parser recurses once per level. */
    static final int MAX_NESTING = 256;

    private final String src;
    private int at;
    private int nesting;
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<String> names = new ArrayList<>();
    private final List<List<List<Grammar.Element>>> rules = new ArrayList<>();
    private final Map<Integer, int[]> firstUse = new HashMap<>(); // rule → where it was first referenced (offset)
    private final List<Boolean> defined = new ArrayList<>();

    GbnfParser(String src) {
        this.src = src;
    }

    Grammar parse() {
        skipSpace(true);
        while (at < src.length()) {
            parseRule();
            skipSpace(true);
        }
        for (int r = 0; r < rules.size(); r++) {
            if (!defined.get(r)) {
                int[] use = firstUse.get(r);
                throw error("rule '" + names.get(r) + "' is used but never defined", use[0]);
            }
        }
        Integer root = ids.get("root");
        if (root == null) {
            throw new GrammarException("the grammar has no 'root' rule");
        }
        return new Grammar(List.copyOf(names), freeze(), root);
    }

    private List<List<List<Grammar.Element>>> freeze() {
        List<List<List<Grammar.Element>>> out = new ArrayList<>();
        for (List<List<Grammar.Element>> alts : rules) {
            List<List<Grammar.Element>> a = new ArrayList<>();
            for (List<Grammar.Element> seq : alts) {
                a.add(List.copyOf(seq));
            }
            out.add(List.copyOf(a));
        }
        return List.copyOf(out);
    }

    private int rule(String name, int offset) {
        Integer id = ids.get(name);
        if (id == null) {
            id = rules.size();
            ids.put(name, id);
            names.add(name);
            rules.add(new ArrayList<>());
            defined.add(false);
            firstUse.put(id, new int[] {offset});
        }
        return id;
    }

    private int generated(String base, List<List<Grammar.Element>> alternatives) {
        String name = base + "_" + rules.size();
        int id = rule(name, at);
        rules.get(id).addAll(alternatives);
        defined.set(id, true);
        return id;
    }

    private void parseRule() {
        int start = at;
        String name = name();
        if (name.isEmpty()) {
            throw error("expected a rule name", at);
        }
        skipSpace(false);
        if (!src.startsWith("::=", at)) {
            throw error("expected '::=' after rule name '" + name + "'", at);
        }
        at += 3;
        skipSpace(true); // the body may start on the next line
        int id = rule(name, start);
        if (defined.get(id)) {
            throw error("rule '" + name + "' is defined twice", start);
        }
        defined.set(id, true);
        rules.get(id).addAll(alternatives(name, false));
        if (at < src.length() && src.charAt(at) != '\n' && src.charAt(at) != '\r') {
            throw error("expected the end of the line after rule '" + name + "'", at);
        }
    }

    /** Alternatives up to the end of the line (or the closing parenthesis when nested). */
    private List<List<Grammar.Element>> alternatives(String ruleName, boolean nested) {
        List<List<Grammar.Element>> alts = new ArrayList<>();
        alts.add(sequence(ruleName, nested));
        while (peekAfterSpace(nested) == '|') {
            at++;
            skipSpace(true); // an alternative may start on the next line
            alts.add(sequence(ruleName, nested));
        }
        return alts;
    }

    private char peekAfterSpace(boolean nested) {
        skipSpace(nested);
        return at < src.length() ? src.charAt(at) : '\0';
    }

    private List<Grammar.Element> sequence(String ruleName, boolean nested) {
        List<Grammar.Element> seq = new ArrayList<>();
        int lastStart = -1; // where the last symbol's elements begin in seq, for a repetition that follows it
        while (true) {
            skipSpace(nested);
            if (at >= src.length()) {
                break;
            }
            char c = src.charAt(at);
            if (c == '"') {
                lastStart = seq.size();
                at++;
                while (at < src.length() && src.charAt(at) != '"') {
                    int cp = charOrEscape();
                    seq.add(new Grammar.CharSet(new int[] {cp, cp}, false));
                }
                expect('"', "a closing '\"' of the string");
            } else if (c == '[') {
                lastStart = seq.size();
                seq.add(charClass());
            } else if (c == '.') {
                lastStart = seq.size();
                at++;
                seq.add(new Grammar.CharSet(new int[] {0, 0x10FFFF}, false));
            } else if (c == '(') {
                lastStart = seq.size();
                if (++nesting > MAX_NESTING) {
                    throw error("groups nested more than " + MAX_NESTING + " deep", at);
                }
                at++;
                skipSpace(true);
                List<List<Grammar.Element>> inner = alternatives(ruleName, true);
                skipSpace(true);
                expect(')', "a closing ')'");
                nesting--;
                seq.add(new Grammar.RuleRef(generated(ruleName, inner)));
            } else if (isNameChar(c)) {
                int start = at;
                String ref = name();
                int save = at;
                skipSpace(false);
                if (src.startsWith("::=", at)) { // the next rule begins: this sequence ended at the line before
                    at = start;
                    break;
                }
                at = save;
                lastStart = seq.size();
                seq.add(new Grammar.RuleRef(rule(ref, start)));
            } else if (c == '*' || c == '+' || c == '?' || c == '{') {
                if (lastStart < 0) {
                    throw error("'" + c + "' follows nothing it could repeat", at);
                }
                repeat(ruleName, seq, lastStart);
                lastStart = -1;
            } else {
                break; // '|', ')', end of line: the caller decides
            }
        }
        return seq;
    }

    /** Replaces seq[lastStart..] (one symbol) by its repetition, as llama.cpp's parser rewrites it. */
    private void repeat(String ruleName, List<Grammar.Element> seq, int lastStart) {
        List<Grammar.Element> item = new ArrayList<>(seq.subList(lastStart, seq.size()));
        seq.subList(lastStart, seq.size()).clear();
        int min;
        int max; // -1: unbounded
        char c = src.charAt(at++);
        switch (c) {
            case '*' -> { min = 0; max = -1; }
            case '+' -> { min = 1; max = -1; }
            case '?' -> { min = 0; max = 1; }
            default -> {
                int braceAt = at - 1;
                skipSpace(false);
                min = number();
                skipSpace(false);
                if (at < src.length() && src.charAt(at) == ',') {
                    at++;
                    skipSpace(false);
                    max = at < src.length() && Character.isDigit(src.charAt(at)) ? number() : -1;
                } else {
                    max = min;
                }
                skipSpace(false);
                expect('}', "a closing '}' of the repetition");
                if (max != -1 && max < min) {
                    throw error("repetition {" + min + "," + max + "} has its maximum below its minimum", braceAt);
                }
                if (min > MAX_REPEAT || max > MAX_REPEAT) {
                    throw error("repetitions above " + MAX_REPEAT + " are not supported", braceAt);
                }
            }
        }
        for (int i = 0; i < min; i++) {
            seq.addAll(item);
        }
        if (max == -1) {
            // star ::= item star | ε
            int star = rule(ruleName + "_star_" + rules.size(), at);
            List<Grammar.Element> again = new ArrayList<>(item);
            again.add(new Grammar.RuleRef(star));
            rules.get(star).add(again);
            rules.get(star).add(List.of());
            defined.set(star, true);
            seq.add(new Grammar.RuleRef(star));
        } else if (max > min) {
            // (item (item (...)?)?)? nested from the inside out, so n optional copies cost n rules
            int next = -1;
            for (int i = 0; i < max - min; i++) {
                List<Grammar.Element> one = new ArrayList<>(item);
                if (next >= 0) {
                    one.add(new Grammar.RuleRef(next));
                }
                next = generated(ruleName + "_opt", List.of(one, List.of()));
            }
            seq.add(new Grammar.RuleRef(next));
        }
    }

    private Grammar.CharSet charClass() {
        int start = at;
        at++; // '['
        boolean negated = at < src.length() && src.charAt(at) == '^';
        if (negated) {
            at++;
        }
        List<Integer> ranges = new ArrayList<>();
        while (at < src.length() && src.charAt(at) != ']') {
            int lo = charOrEscape();
            int hi = lo;
            if (at + 1 < src.length() && src.charAt(at) == '-' && src.charAt(at + 1) != ']') {
                at++;
                hi = charOrEscape();
                if (hi < lo) {
                    throw error("character range is backwards", start);
                }
            }
            ranges.add(lo);
            ranges.add(hi);
        }
        if (at >= src.length()) {
            throw error("expected a closing ']' of the character class", start);
        }
        at++;
        int[] r = new int[ranges.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = ranges.get(i);
        }
        return new Grammar.CharSet(r, negated);
    }

    /** One character of a literal or class, with llama.cpp's escapes. */
    private int charOrEscape() {
        if (at >= src.length()) {
            throw error("unexpected end of the grammar", at);
        }
        int cp = src.codePointAt(at);
        if (cp == '\n' || cp == '\r') {
            throw error("a string or character class does not end on its line", at);
        }
        if (cp != '\\') {
            at += Character.charCount(cp);
            return cp;
        }
        int escAt = at;
        at++;
        if (at >= src.length()) {
            throw error("unexpected end of the grammar after '\\'", escAt);
        }
        char e = src.charAt(at++);
        return switch (e) {
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case '\\', '"', '[', ']', '-', '^' -> e;
            case 'x' -> hex(2, escAt);
            case 'u' -> hex(4, escAt);
            case 'U' -> hex(8, escAt);
            default -> throw error("unknown escape '\\" + e + "'", escAt);
        };
    }

    private int hex(int digits, int escAt) {
        if (at + digits > src.length()) {
            throw error("expected " + digits + " hex digits", escAt);
        }
        int v;
        try {
            v = Integer.parseUnsignedInt(src.substring(at, at + digits), 16);
        } catch (NumberFormatException e) {
            throw error("expected " + digits + " hex digits", escAt);
        }
        if (v < 0 || v > 0x10FFFF) {
            throw error("not a Unicode code point", escAt);
        }
        at += digits;
        return v;
    }

    private int number() {
        int start = at;
        while (at < src.length() && Character.isDigit(src.charAt(at))) {
            at++;
        }
        if (start == at) {
            throw error("expected a number", at);
        }
        try {
            return Integer.parseInt(src.substring(start, at));
        } catch (NumberFormatException e) {
            throw error("number too large", start);
        }
    }

    private String name() {
        int start = at;
        while (at < src.length() && isNameChar(src.charAt(at))) {
            at++;
        }
        return src.substring(start, at);
    }

    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_';
    }

    private void expect(char c, String what) {
        if (at >= src.length() || src.charAt(at) != c) {
            throw error("expected " + what, at);
        }
        at++;
    }

    /** Skips blanks and comments; line ends too when {@code newlines}. */
    private void skipSpace(boolean newlines) {
        while (at < src.length()) {
            char c = src.charAt(at);
            if (c == '#') {
                while (at < src.length() && src.charAt(at) != '\n') {
                    at++;
                }
            } else if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
                at++;
            } else {
                return;
            }
        }
    }

    private GrammarException error(String message, int offset) {
        int line = 1;
        int col = 1;
        for (int i = 0; i < Math.min(offset, src.length()); i++) {
            if (src.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new GrammarException("grammar line " + line + ", column " + col + ": " + message);
    }
}
