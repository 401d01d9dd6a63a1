package dev.vellama.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds special tokens written out in the text, so that they become single tokens instead of being spelled out
 * by the tokenizer. Tokens are tried longest first, each one splitting the text fragments that remain. Control and
 * unknown tokens are matched only when asked to parse specials; user-defined tokens are always matched (as Hugging
 * Face tokenizers do with added tokens). A token marked LSTRIP or RSTRIP swallows the ASCII whitespace before or
 * after it.
 */
final class SpecialTokenSplitter {
    private final Vocabulary vocab;

    SpecialTokenSplitter(Vocabulary vocab) {
        this.vocab = vocab;
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(Fragment.text(text));
        for (int id : vocab.specialTokens) {
            if (!parseSpecial && vocab.has(id, TokenAttributes.CONTROL | TokenAttributes.UNKNOWN)) {
                continue;
            }
            String special = vocab.texts[id];
            boolean anyText = false;
            for (Fragment f : fragments) {
                if (!f.isToken() && f.text().contains(special)) {
                    anyText = true;
                    break;
                }
            }
            if (!anyText) {
                continue;
            }
            List<Fragment> next = new ArrayList<>(fragments.size() + 4);
            for (Fragment f : fragments) {
                if (f.isToken()) {
                    next.add(f);
                } else {
                    splitFragment(f.text(), id, special, next);
                }
            }
            fragments = next;
        }
        return fragments;
    }

    private void splitFragment(String text, int id, String special, List<Fragment> out) {
        boolean lstrip = vocab.has(id, TokenAttributes.LSTRIP);
        boolean rstrip = vocab.has(id, TokenAttributes.RSTRIP);
        int from = 0;
        while (true) {
            int match = text.indexOf(special, from);
            if (match < 0) {
                if (from < text.length()) {
                    out.add(Fragment.text(text.substring(from)));
                }
                return;
            }
            int leftEnd = match;
            if (lstrip) {
                while (leftEnd > from && isAsciiSpace(text.charAt(leftEnd - 1))) {
                    leftEnd--;
                }
            }
            if (leftEnd > from) {
                out.add(Fragment.text(text.substring(from, leftEnd)));
            }
            out.add(Fragment.token(id));
            from = match + special.length();
            if (rstrip) {
                while (from < text.length() && isAsciiSpace(text.charAt(from))) {
                    from++;
                }
            }
        }
    }

    /** C's isspace in the "C" locale. */
    private static boolean isAsciiSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
