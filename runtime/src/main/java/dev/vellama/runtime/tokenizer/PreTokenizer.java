package dev.vellama.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts text into the words that byte-level BPE merges within. The rules apply in sequence, each one cutting the
 * pieces the previous ones produced further (a single rule is the common case).
 */
final class PreTokenizer {
    private final List<SplitRule> rules;

    PreTokenizer(List<SplitRule> rules) {
        if (rules.isEmpty()) {
            throw new IllegalArgumentException("a pre-tokenizer needs at least one rule");
        }
        this.rules = List.copyOf(rules);
    }

    /** The words of {@code text}, in order; they concatenate back to the text. */
    List<String> split(String text) {
        CodepointText cps = CodepointText.of(text);
        IntList lengths = new IntList(4);
        lengths.add(cps.length());
        for (SplitRule rule : rules) {
            IntList next = new IntList(Math.max(16, cps.length() / 3));
            int start = 0;
            for (int i = 0; i < lengths.size(); i++) {
                int end = start + lengths.get(i);
                if (end > start) {
                    rule.split(cps, start, end, next);
                }
                start = end;
            }
            lengths = next;
        }
        List<String> words = new ArrayList<>(lengths.size());
        int start = 0;
        for (int i = 0; i < lengths.size(); i++) {
            int end = start + lengths.get(i);
            if (end > start) {
                words.add(cps.substring(start, end));
            }
            start = end;
        }
        return words;
    }
}
