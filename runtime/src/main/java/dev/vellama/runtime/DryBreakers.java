package dev.vellama.runtime;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * DRY's sequence breakers in token terms, as llama.cpp derives them: a token whose text contains a breaker string
 * is a breaker on its own; a token whose text ends with the start of one is the head of a breaker whose tail is
 * the tokenization of the rest. Derived once per tokenizer and list (it reads every token's text).
 */
public final class DryBreakers {
    private static final int MAX_CHARS = 40;     // longer breaker strings are cut, as in llama.cpp
    private static final int MAX_TAIL = 20;      // tokens of a tail kept
    private static final Map<Tokenizer, Map<List<String>, DryBreakers>> CACHE = new WeakHashMap<>();

    /** Head token to its tails; an empty tail marks a breaker on its own. */
    private final Map<Integer, List<int[]>> sequences;

    private DryBreakers(Map<Integer, List<int[]>> sequences) {
        this.sequences = sequences;
    }

    /** No breakers (for tests, and for samplers without a tokenizer). */
    public static final DryBreakers NONE = new DryBreakers(Map.of());

    /**
     * The breakers {@code strings} give with {@code tokenizer}'s vocabulary, derived on the first call for that
     * tokenizer and list and shared afterwards.
     *
     * @param tokenizer the model's tokenizer, whose every token text is read
     * @param strings   breaker strings, as llama.cpp's {@code --dry-sequence-breaker}; empty ones are ignored and
     *                  longer than 40 characters are cut
     * @return the breakers; {@link #NONE} when no string is left
     */
    public static DryBreakers of(Tokenizer tokenizer, List<String> strings) {
        synchronized (CACHE) {
            Map<List<String>, DryBreakers> byList = CACHE.computeIfAbsent(tokenizer, t -> new HashMap<>());
            DryBreakers b = byList.get(strings);
            if (b == null) {
                b = derive(tokenizer, strings);
                byList.put(List.copyOf(strings), b);
            }
            return b;
        }
    }

    private static DryBreakers derive(Tokenizer tokenizer, List<String> strings) {
        Map<Integer, List<int[]>> sequences = new HashMap<>();
        List<String> cut = new ArrayList<>();
        for (String s : strings) {
            if (!s.isEmpty()) {
                cut.add(s.length() > MAX_CHARS ? s.substring(0, MAX_CHARS) : s);
            }
        }
        if (cut.isEmpty()) {
            return NONE;
        }
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            String word = new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8);
            if (word.isEmpty()) {
                continue;
            }
            for (String s : cut) {
                if (word.contains(s)) {
                    add(sequences, id, new int[0]);
                    continue;
                }
                // the word ends with a prefix of s starting at pos: the rest of s is the tail
                for (int pos = word.indexOf(s.charAt(0)); pos >= 0; pos = word.indexOf(s.charAt(0), pos + 1)) {
                    int i = 1;
                    while (i < s.length() && pos + i < word.length() && word.charAt(pos + i) == s.charAt(i)) {
                        i++;
                    }
                    if (pos + i == word.length()) {
                        int[] tail = tokenizer.encode(s.substring(i), false, false);
                        add(sequences, id, tail.length > MAX_TAIL ? java.util.Arrays.copyOf(tail, MAX_TAIL) : tail);
                    }
                }
            }
        }
        return new DryBreakers(sequences);
    }

    private static void add(Map<Integer, List<int[]>> sequences, int head, int[] tail) {
        List<int[]> tails = sequences.computeIfAbsent(head, h -> new ArrayList<>());
        for (int[] t : tails) {
            if (java.util.Arrays.equals(t, tail)) {
                return;
            }
        }
        tails.add(tail);
    }

    /** Tails of the breakers that start with {@code token}; null when none does. */
    List<int[]> tails(int token) {
        return sequences.get(token);
    }

    /** Whether {@code token} is a breaker on its own (its text holds a whole breaker string). */
    boolean breaksAlone(int token) {
        List<int[]> tails = sequences.get(token);
        if (tails != null) {
            for (int[] t : tails) {
                if (t.length == 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Breakers given directly: head token to tails (tests). */
    static DryBreakers of(Map<Integer, List<int[]>> sequences) {
        return new DryBreakers(Map.copyOf(sequences));
    }
}
