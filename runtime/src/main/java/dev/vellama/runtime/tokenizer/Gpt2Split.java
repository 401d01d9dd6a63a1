package dev.vellama.runtime.tokenizer;

/**
 * GPT-2's pre-tokenizer regex {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}
 * as a hand-written scanner over code point classes, which is how llama.cpp evaluates it (full Unicode
 * categories, no regex engine). A code point matched by no alternative becomes a piece of its own.
 */
final class Gpt2Split implements SplitRule {
    static final String REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

    private static final int LETTER = CodepointClass.LETTER;
    private static final int NUMBER = CodepointClass.NUMBER;
    private static final int WORDLIKE = CodepointClass.LETTER | CodepointClass.NUMBER | CodepointClass.WHITESPACE;

    @Override
    public void split(CodepointText text, int start, int end, IntList lengths) {
        int pos = start;
        while (pos < end) {
            int next = matchEnd(text, pos, end);
            lengths.add(next - pos);
            pos = next;
        }
    }

    /** Where the piece that starts at {@code pos} ends. */
    private static int matchEnd(CodepointText text, int pos, int end) {
        int cp = text.at(pos);
        if (cp == '\'' && pos + 1 < end) {
            int c1 = text.at(pos + 1);
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                return pos + 2;
            }
            if (pos + 2 < end) {
                int c2 = text.at(pos + 2);
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                    return pos + 3;
                }
            }
        }
        int lead = cp == ' ' ? 1 : 0;
        int f = flags(text, pos + lead, end);
        if ((f & LETTER) != 0) {
            return runOf(text, pos + lead, end, LETTER);
        }
        if ((f & NUMBER) != 0) {
            return runOf(text, pos + lead, end, NUMBER);
        }
        if ((f & WORDLIKE) == 0 && f != 0) {
            int p = pos + lead;
            while (true) {
                int g = flags(text, p, end);
                if ((g & WORDLIKE) != 0 || g == 0) {
                    return p;
                }
                p++;
            }
        }
        int spaces = 0;
        while ((flags(text, pos + spaces, end) & CodepointClass.WHITESPACE) != 0) {
            spaces++;
        }
        if (spaces > 1 && pos + spaces < end) {
            return pos + spaces - 1; // \s+(?!\S): leave the last space to the word that follows
        }
        if (spaces > 0) {
            return pos + spaces;
        }
        return pos + 1;
    }

    private static int runOf(CodepointText text, int p, int end, int flag) {
        while ((flags(text, p, end) & flag) != 0) {
            p++;
        }
        return p;
    }

    /** Flags of a code point inside the segment, 0 outside it. */
    static int flags(CodepointText text, int pos, int end) {
        return pos < end ? text.flagsAt(pos) : 0;
    }
}
