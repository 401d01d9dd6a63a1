package dev.vellama.runtime.tokenizer;

/**
 * A text as code points, with the derived forms the split rules work on, computed on first use: the category
 * flags of each code point, and the two strings llama.cpp hands to its regex engine (one char per code point with
 * each non-ASCII code point collapsed to a stand-in for its category, and the text itself with non-ASCII
 * whitespace replaced by a vertical tab, which its regex engine's {@code \s} does match).
 */
final class CodepointText {
    /** Stand-ins for non-ASCII code points in the collapsed string, by category. */
    static final char COLLAPSED_OTHER = '\u00D0';
    static final char COLLAPSED_NUMBER = '\u00D1';
    static final char COLLAPSED_LETTER = '\u00D2';
    static final char COLLAPSED_PUNCTUATION = '\u00D3';
    static final char COLLAPSED_MARK = '\u00D4';
    static final char COLLAPSED_SYMBOL = '\u00D5';
    static final char COLLAPSED_WHITESPACE = '\u000B';

    private final int[] cps;
    private int[] flags;
    private String collapsed;
    private String plain;
    private int[] plainCharIndex;

    CodepointText(int[] cps) {
        this.cps = cps;
    }

    static CodepointText of(String s) {
        return new CodepointText(s.codePoints().toArray());
    }

    int length() {
        return cps.length;
    }

    /** The code point at {@code i}. */
    int at(int i) {
        return cps[i];
    }

    int flagsAt(int i) {
        if (flags == null) {
            int[] f = new int[cps.length];
            for (int k = 0; k < f.length; k++) {
                f[k] = CodepointClass.flags(cps[k]);
            }
            flags = f;
        }
        return flags[i];
    }

    /** One char per code point: ASCII unchanged, anything else the stand-in of its category. */
    String collapsed() {
        if (collapsed == null) {
            char[] out = new char[cps.length];
            for (int i = 0; i < cps.length; i++) {
                int cp = cps[i];
                if (cp < 0x80) {
                    out[i] = (char) cp;
                    continue;
                }
                int f = flagsAt(i);
                if ((f & CodepointClass.WHITESPACE) != 0) {
                    out[i] = COLLAPSED_WHITESPACE;
                } else {
                    out[i] = switch (f & CodepointClass.CATEGORY_MASK) {
                        case CodepointClass.NUMBER -> COLLAPSED_NUMBER;
                        case CodepointClass.LETTER -> COLLAPSED_LETTER;
                        case CodepointClass.PUNCTUATION -> COLLAPSED_PUNCTUATION;
                        case CodepointClass.MARK -> COLLAPSED_MARK;
                        case CodepointClass.SYMBOL -> COLLAPSED_SYMBOL;
                        default -> COLLAPSED_OTHER;
                    };
                }
            }
            collapsed = new String(out);
        }
        return collapsed;
    }

    /** The text as a Java string, non-ASCII whitespace replaced by U+000B. */
    String plain() {
        if (plain == null) {
            StringBuilder sb = new StringBuilder(cps.length + 8);
            int[] index = new int[cps.length + 1];
            for (int i = 0; i < cps.length; i++) {
                index[i] = sb.length();
                int cp = cps[i];
                if (cp >= 0x80 && CodepointClass.isWhitespace(cp)) {
                    cp = COLLAPSED_WHITESPACE;
                }
                sb.appendCodePoint(cp);
            }
            index[cps.length] = sb.length();
            plainCharIndex = index;
            plain = sb.toString();
        }
        return plain;
    }

    /** The char index in {@link #plain()} where code point {@code i} starts. */
    int plainCharIndex(int i) {
        plain();
        return plainCharIndex[i];
    }

    /** The code point index of a char index of {@link #plain()} that starts a code point. */
    int codepointIndexOfPlainChar(int charIndex) {
        plain();
        int i = java.util.Arrays.binarySearch(plainCharIndex, charIndex);
        if (i < 0) {
            throw new IllegalStateException("char index " + charIndex + " splits a surrogate pair");
        }
        return i;
    }

    String substring(int start, int end) {
        return new String(cps, start, end - start);
    }
}
