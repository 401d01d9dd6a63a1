package dev.vellama.runtime.grammar;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A GBNF grammar (llama.cpp's format, see {@link #parse}), and what it accepts, code point by code point. The matcher
 * follows llama.cpp's: a {@link State} is a set of stacks, each the elements still to match, innermost first; a
 * code point advances every stack whose next character set holds it, and rule references are expanded until each
 * stack shows a character set or is empty (the text may end there). Immutable and thread-safe.
 */
public final class Grammar {
    /** One element of an alternative. */
    sealed interface Element permits CharSet, RuleRef {}

    /** Code points in any of the inclusive ranges {@code [r0, r1], [r2, r3], ...}, or in none of them if negated. */
    record CharSet(int[] ranges, boolean negated) implements Element {
        boolean matches(int cp) {
            boolean in = false;
            for (int i = 0; i < ranges.length; i += 2) {
                if (cp >= ranges[i] && cp <= ranges[i + 1]) {
                    in = true;
                    break;
                }
            }
            return in != negated;
        }

        /** Whether some code point in {@code [lo, hi]} is in the set. */
        boolean intersects(int lo, int hi) {
            for (int i = 0; i < ranges.length; i += 2) {
                if (!negated && ranges[i] <= hi && ranges[i + 1] >= lo) {
                    return true;
                }
                if (negated && ranges[i] <= lo && ranges[i + 1] >= hi) {
                    return false; // the whole interval is excluded by one range
                }
            }
            return negated; // negated: no single range excludes it all (adjacent ones may; rare, and checked later)
        }
    }

    record RuleRef(int rule) implements Element {}

    /** A stack: the element at {@code index} of alternative {@code alt} of {@code rule}, then {@code next}. */
    private record Frame(int rule, int alt, int index, Frame next) {}

    private final List<String> names;
    private final List<List<List<Element>>> rules; // rule → alternatives → elements
    private final int root;
    private final State start;
    // States by their stacks, so a text that comes back to the same place finds the transitions already worked out:
    // the matcher becomes a DFA built lazily. Bounded; past the bound new states are neither kept nor cached.
    private final ConcurrentHashMap<Set<Frame>, State> interned = new ConcurrentHashMap<>();
    private static final int MAX_INTERNED = 1 << 16;

    Grammar(List<String> names, List<List<List<Element>>> rules, int root) {
        this.names = names;
        this.rules = rules;
        this.root = root;
        checkLeftRecursion();
        Set<Frame> stacks = new LinkedHashSet<>();
        for (int a = 0; a < rules.get(root).size(); a++) {
            expand(new Frame(root, a, 0, null), stacks);
        }
        this.start = intern(stacks);
    }

    private State intern(Set<Frame> stacks) {
        State known = interned.get(stacks);
        if (known != null) {
            return known;
        }
        if (interned.size() >= MAX_INTERNED) {
            return new State(this, stacks, false);
        }
        State fresh = new State(this, stacks, true);
        State raced = interned.putIfAbsent(stacks, fresh);
        return raced != null ? raced : fresh;
    }

    /**
     * Parses llama.cpp's GBNF.
     *
     * @param gbnf the grammar's text: rules {@code name ::= ...}, one of them {@code root}
     * @return the grammar, its matcher ready at {@link #start}
     * @throws GrammarException naming the line and column of a syntax error, a rule used but never defined, a
     *                          missing {@code root}, or a left-recursive rule
     */
    public static Grammar parse(String gbnf) {
        return new GbnfParser(gbnf).parse();
    }

    /**
     * The grammar of the JSON texts that a JSON Schema allows: the subset llama.cpp converts (types, {@code properties}
     * with {@code required} and {@code additionalProperties}, {@code enum}, {@code const}, {@code items} and
     * {@code prefixItems}, {@code minItems}/{@code maxItems}, {@code anyOf}/{@code oneOf}, {@code allOf} of objects,
     * {@code $ref} within the schema, string {@code pattern}, {@code format} date/time/date-time/uuid,
     * {@code minLength}/{@code maxLength}, integer ranges, number ranges with whole bounds). Properties are written in the
     * schema's order; without {@code additionalProperties} an object has no other keys.
     *
     * @param schema the JSON Schema as JSON text
     * @return the grammar of the JSON texts the schema allows, in llama.cpp's layout
     * @throws GrammarException for text that is not JSON, or a keyword the converter cannot honour (named)
     */
    public static Grammar fromJsonSchema(String schema) {
        Object parsed;
        try {
            parsed = JSON.readValue(schema, Object.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new GrammarException("JSON schema: not JSON: " + e.getOriginalMessage());
        }
        return fromJsonSchema(parsed);
    }

    /**
     * {@link #fromJsonSchema(String)} for a schema already parsed into maps, lists and plain values.
     *
     * @param schema the schema as a JSON parser gives it: maps, lists, strings, numbers, booleans, null
     * @return the grammar of the JSON texts the schema allows
     * @throws GrammarException for a keyword the converter cannot honour (named)
     */
    public static Grammar fromJsonSchema(Object schema) {
        return parse(jsonSchemaToGbnf(schema));
    }

    /**
     * The GBNF text {@link #fromJsonSchema(Object)} parses: to read, or to hand to another program.
     *
     * @param schema the schema as a JSON parser gives it: maps, lists, strings, numbers, booleans, null
     * @return the grammar's rules, {@code root} first, one per line
     * @throws GrammarException for a keyword the converter cannot honour (named)
     */
    public static String jsonSchemaToGbnf(Object schema) {
        return JsonSchemaGrammar.gbnf(schema);
    }

    /**
     * The GBNF rules for {@code schema} with its top rule named {@code ruleName} (and no {@code root}), one per line,
     * to be joined with other rules: the built-in ones ({@code space}, {@code string}, {@code value}, ...) read the
     * same in every such text, so drop repeated lines when joining several.
     *
     * @param schema   the schema as a JSON parser gives it: maps, lists, strings, numbers, booleans, null
     * @param ruleName the name of the rule for the schema's values: a letter, then letters, digits and {@code -};
     *                 the other rules it needs start with this name, apart from the shared built-in ones
     * @return the rules, one per line
     * @throws IllegalArgumentException if {@code ruleName} is not such a name
     * @throws GrammarException         for a keyword the converter cannot honour (named)
     */
    public static String jsonSchemaToGbnf(Object schema, String ruleName) {
        if (!ruleName.matches("[a-zA-Z][a-zA-Z0-9-]*")) {
            throw new IllegalArgumentException("a rule name is letters, digits and '-', not '" + ruleName + "'");
        }
        return JsonSchemaGrammar.gbnf(schema, ruleName);
    }

    /**
     * {@return the grammar of any JSON object, with llama.cpp's layout: JSON mode, OpenAI's {@code json_object}
     * response format; one shared instance}
     */
    public static Grammar jsonObject() {
        return JsonObjectHolder.GRAMMAR;
    }

    private static final class JsonObjectHolder {
        static final Grammar GRAMMAR = parse(JsonSchemaGrammar.anyObject());
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** {@return the state before any text} */
    public State start() {
        return start;
    }

    /**
     * Whether the whole of {@code text} is a sentence of the grammar.
     *
     * @param text the candidate text, matched code point by code point
     * @return true when the grammar accepts all of it and may end there; false for a prefix that must go on
     */
    public boolean accepts(String text) {
        State s = start;
        for (int i = 0; i < text.length() && !s.isDead(); ) {
            int cp = text.codePointAt(i);
            s = s.accept(cp);
            i += Character.charCount(cp);
        }
        return s.canEnd();
    }

    /** Rules in the order they were first named, the generated ones for groups and repetitions included. */
    int ruleCount() {
        return rules.size();
    }

    /**
     * Pushes {@code frame}'s stack into {@code out} with every leading rule reference expanded, so each stack in
     * {@code out} begins with a character set or is empty (represented by null).
     */
    private void expand(Frame frame, Set<Frame> out) {
        if (frame == null) {
            out.add(null);
            return;
        }
        List<Element> seq = rules.get(frame.rule()).get(frame.alt());
        if (frame.index() >= seq.size()) { // this alternative is done: go on with what called it
            expand(frame.next(), out);
            return;
        }
        Element e = seq.get(frame.index());
        if (e instanceof CharSet) {
            out.add(frame);
            return;
        }
        int ref = ((RuleRef) e).rule();
        Frame after = frame.index() + 1 < seq.size() ? new Frame(frame.rule(), frame.alt(), frame.index() + 1, frame.next())
                : frame.next();
        for (int a = 0; a < rules.get(ref).size(); a++) {
            expand(new Frame(ref, a, 0, after), out);
        }
    }

    /** Refuses a rule that can reach itself before matching a character: its expansion would never end. */
    private void checkLeftRecursion() {
        boolean[] nullable = new boolean[rules.size()];
        for (boolean changed = true; changed; ) {
            changed = false;
            for (int r = 0; r < rules.size(); r++) {
                if (!nullable[r] && rules.get(r).stream().anyMatch(seq -> seq.stream().allMatch(
                        e -> e instanceof RuleRef ref && nullable[ref.rule()]))) {
                    nullable[r] = true;
                    changed = true;
                }
            }
        }
        int[] mark = new int[rules.size()]; // 0 unvisited, 1 on the path, 2 done
        for (int r = 0; r < rules.size(); r++) {
            leftVisit(r, nullable, mark, new ArrayList<>());
        }
    }

    private void leftVisit(int r, boolean[] nullable, int[] mark, List<Integer> path) {
        if (mark[r] == 2) {
            return;
        }
        if (mark[r] == 1) {
            List<String> cycle = new ArrayList<>();
            for (int i = path.indexOf(r); i < path.size(); i++) {
                cycle.add(displayName(path.get(i)));
            }
            cycle.add(displayName(r));
            throw new GrammarException("the grammar is left-recursive: " + String.join(" -> ", cycle)
                    + " can reach itself before matching any character");
        }
        mark[r] = 1;
        path.add(r);
        for (List<Element> seq : rules.get(r)) {
            for (Element e : seq) {
                if (!(e instanceof RuleRef ref)) {
                    break;
                }
                leftVisit(ref.rule(), nullable, mark, path);
                if (!nullable[ref.rule()]) {
                    break;
                }
            }
        }
        path.remove(path.size() - 1);
        mark[r] = 2;
    }

    private String displayName(int rule) {
        return names.get(rule);
    }

    /** Where a text stands in the grammar: the stacks still alive. Immutable; its transitions are cached. */
    public static final class State {
        private final Grammar grammar;
        private final Set<Frame> stacks;
        private final boolean canEnd;
        // the state after each ASCII code point and after others, filled as they are asked for; a race only
        // computes the same interned state twice (State's fields are final, so a reader sees it whole)
        private final State[] afterAscii;
        // beyond ASCII, by which stacks' next character sets hold the code point: code points alike to the grammar
        // here (most of Unicode, usually) share one entry
        private final ConcurrentHashMap<Long, State> afterMatching;
        private final CharSet[] heads;

        private State(Grammar grammar, Set<Frame> stacks, boolean cached) {
            this.grammar = grammar;
            this.stacks = stacks;
            this.canEnd = stacks.contains(null);
            this.afterAscii = cached ? new State[128] : null;
            this.afterMatching = cached && stacks.size() <= 64 ? new ConcurrentHashMap<>() : null;
            this.heads = stacks.stream().map(f -> f == null ? null
                    : (CharSet) grammar.rules.get(f.rule()).get(f.alt()).get(f.index())).toArray(CharSet[]::new);
        }

        /**
         * The state after {@code codePoint}; a dead one if the grammar does not allow it here.
         *
         * @param codePoint the next Unicode code point of the text
         * @return the next state, {@link #isDead dead} when the code point is not allowed here
         */
        public State accept(int codePoint) {
            if (afterAscii != null && codePoint >= 0 && codePoint < 128) {
                State s = afterAscii[codePoint];
                if (s == null) {
                    s = step(codePoint);
                    afterAscii[codePoint] = s;
                }
                return s;
            }
            if (afterMatching != null) {
                long matching = 0;
                for (int i = 0; i < heads.length; i++) {
                    if (heads[i] != null && heads[i].matches(codePoint)) {
                        matching |= 1L << i;
                    }
                }
                State s = afterMatching.get(matching);
                if (s == null) {
                    s = step(codePoint);
                    afterMatching.put(matching, s);
                }
                return s;
            }
            return step(codePoint);
        }

        private State step(int codePoint) {
            Set<Frame> next = new LinkedHashSet<>();
            for (Frame f : stacks) {
                if (f == null) {
                    continue;
                }
                CharSet set = (CharSet) grammar.rules.get(f.rule()).get(f.alt()).get(f.index());
                if (set.matches(codePoint)) {
                    grammar.expand(new Frame(f.rule(), f.alt(), f.index() + 1, f.next()), next);
                }
            }
            return grammar.intern(next);
        }

        /**
         * The state after every code point of {@code text}.
         *
         * @param text the text that follows, such as a token's piece
         * @return the state after the last code point, or a dead one as soon as one is refused
         */
        public State accept(String text) {
            State s = this;
            for (int i = 0; i < text.length() && !s.isDead(); ) {
                int cp = text.codePointAt(i);
                s = s.accept(cp);
                i += Character.charCount(cp);
            }
            return s;
        }

        /**
         * Whether some code point in {@code [lo, hi]} may come next: what a token that ends inside a multi-byte
         * character is checked against, before the rest of the character is known.
         *
         * @param lo the lowest code point, inclusive
         * @param hi the highest code point, inclusive
         * @return true when the range meets a next character set; it may overstate for sets negated by several
         *         adjacent ranges, so the whole character is checked once known
         */
        public boolean allowsAnyIn(int lo, int hi) {
            for (Frame f : stacks) {
                if (f != null && ((CharSet) grammar.rules.get(f.rule()).get(f.alt()).get(f.index())).intersects(lo, hi)) {
                    return true;
                }
            }
            return false;
        }

        /** {@return true when no text can follow: the text so far is no prefix of a sentence} */
        public boolean isDead() {
            return stacks.isEmpty();
        }

        /** {@return true when the text so far is a whole sentence (generation may end here)} */
        public boolean canEnd() {
            return canEnd;
        }

        /** {@return whether only the end may follow (every stack is empty)} */
        public boolean mustEnd() {
            return !stacks.isEmpty() && stacks.stream().allMatch(java.util.Objects::isNull);
        }

        int stackCount() {
            return new HashSet<>(stacks).size();
        }
    }
}
