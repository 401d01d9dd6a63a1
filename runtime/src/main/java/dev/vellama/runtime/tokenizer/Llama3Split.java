package dev.vellama.runtime.tokenizer;

/**
 * Llama 3's pre-tokenizer regex
 * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}
 * as a hand-written scanner over code point classes, which is how llama.cpp evaluates it; and Qwen 2's, which is
 * the same with single digits ({@code \p{N}} for {@code \p{N}{1,3}}) and which llama.cpp runs through its regex
 * engine with the same result (a test checks both against the regex path).
 */
final class Llama3Split implements SplitRule {
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private static final String REST = "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String REGEX = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" + REST;
    static final String QWEN2_REGEX = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" + REST;

    private final int digitsPerPiece;

    /** @param digitsPerPiece 3 for Llama 3, 1 for Qwen 2 */
    Llama3Split(int digitsPerPiece) {
        this.digitsPerPiece = digitsPerPiece;
    }

    private static final int WORDLIKE = CodepointClass.LETTER | CodepointClass.NUMBER | CodepointClass.WHITESPACE;

    @Override
    public void split(CodepointText text, int start, int end, IntList lengths) {
        int pos = start;
        while (pos < end) {
            if (CodepointClass.isNumber(text.at(pos))) {
                // \p{N}{1,3}: a run of digits in groups of three from the left (or one by one)
                int p = pos;
                while (p < end && (text.flagsAt(p) & CodepointClass.NUMBER) != 0) {
                    p++;
                }
                while (pos < p) {
                    int n = Math.min(digitsPerPiece, p - pos);
                    lengths.add(n);
                    pos += n;
                }
                continue;
            }
            int next = matchEnd(text, pos, end);
            lengths.add(next - pos);
            pos = next;
        }
    }

    private static int matchEnd(CodepointText text, int pos, int end) {
        int cp = text.at(pos);
        int f = text.flagsAt(pos);
        if (cp == '\'' && pos + 1 < end) {
            int c1 = CodepointClass.toLower(text.at(pos + 1));
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                return pos + 2;
            }
            if (pos + 2 < end) {
                int c2 = CodepointClass.toLower(text.at(pos + 2));
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                    return pos + 3;
                }
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+ (numbers were handled by the caller)
        if (cp != '\r' && cp != '\n') {
            if ((f & CodepointClass.LETTER) != 0 || (Gpt2Split.flags(text, pos + 1, end) & CodepointClass.LETTER) != 0) {
                int p = pos + 1;
                while ((Gpt2Split.flags(text, p, end) & CodepointClass.LETTER) != 0) {
                    p++;
                }
                return p;
            }
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int f2 = cp == ' ' ? Gpt2Split.flags(text, pos + 1, end) : f;
        if ((f2 & WORDLIKE) == 0 && f != 0) {
            int p = pos + (cp == ' ' ? 1 : 0);
            while (true) {
                int g = Gpt2Split.flags(text, p, end);
                if ((g & WORDLIKE) != 0 || g == 0) {
                    break;
                }
                p++;
            }
            while (p < end && (text.at(p) == '\r' || text.at(p) == '\n')) {
                p++;
            }
            return p;
        }
        int spaces = 0;
        int afterLastNewline = -1;
        while ((Gpt2Split.flags(text, pos + spaces, end) & CodepointClass.WHITESPACE) != 0) {
            int c = text.at(pos + spaces);
            if (c == '\r' || c == '\n') {
                afterLastNewline = pos + spaces + 1;
            }
            spaces++;
        }
        if (afterLastNewline > 0) {
            return afterLastNewline; // \s*[\r\n]+
        }
        if (spaces > 1 && pos + spaces < end) {
            return pos + spaces - 1; // \s+(?!\S)
        }
        if (spaces > 0) {
            return pos + spaces;
        }
        return pos + 1;
    }
}
