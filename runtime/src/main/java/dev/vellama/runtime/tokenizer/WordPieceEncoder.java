package dev.vellama.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * BERT's WordPiece as llama.cpp runs it on converted vocabularies (where a word-initial piece carries a leading
 * U+2581 and continuation pieces have lost their {@code ##}): normalize and split into words, then cover each
 * word greedily with the longest matching tokens; a word that cannot be covered becomes the unknown token.
 */
final class WordPieceEncoder {
    private static final String WORD_START = "\u2581";

    private final Vocabulary vocab;

    WordPieceEncoder(Vocabulary vocab) {
        this.vocab = vocab;
    }

    void encode(String text, IntList out) {
        for (String word : words(text)) {
            encodeWord(WORD_START + word, out);
        }
    }

    private void encodeWord(String word, IntList out) {
        int mark = out.size();
        int[] bounds = codepointBounds(word);
        int[] bytesBefore = new int[bounds.length];
        for (int i = 1; i < bounds.length; i++) {
            bytesBefore[i] = bytesBefore[i - 1] + Vocabulary.utf8Length(word.substring(bounds[i - 1], bounds[i]));
        }
        int last = bounds.length - 1;
        int i = 0;
        while (i < last) {
            int match = -1;
            for (int j = last; j > i; j--) {
                if (bytesBefore[j] - bytesBefore[i] > vocab.maxTokenBytes) {
                    continue;
                }
                int id = vocab.id(word.substring(bounds[i], bounds[j]));
                if (id >= 0) {
                    out.add(id);
                    match = j;
                    break;
                }
            }
            if (match < 0) {
                out.truncate(mark); // a word is all known pieces or nothing
                break;
            }
            i = match;
        }
        if (out.size() == mark && vocab.unk >= 0) {
            out.add(vocab.unk);
        }
    }

    /** Char offsets of every code point boundary, both ends included. */
    private static int[] codepointBounds(String s) {
        int n = s.codePointCount(0, s.length());
        int[] bounds = new int[n + 1];
        for (int i = 0, offset = 0; i < n; i++) {
            bounds[i] = offset;
            offset += Character.charCount(s.codePointAt(offset));
        }
        bounds[n] = s.length();
        return bounds;
    }

    /**
     * BERT's normalizer and pre-tokenizer as llama.cpp runs it: accents stripped from precomposed characters (the
     * first code point of the canonical decomposition), while a combining mark written on its own stays in its
     * word (so "e" + U+0301 is a word no piece covers: [UNK], as llama.cpp gives); lowercasing; control characters dropped; whitespace separates
     * words; punctuation, ASCII symbols and CJK ideographs are words of their own.
     */
    List<String> words(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int[] cps = text.codePoints().toArray();
        for (int cp : cps) {
            if (vocab.stripAccents) {
                cp = CodepointClass.nfdFirst(cp);
            }
            int flags = CodepointClass.flags(cp);
            if ((flags & CodepointClass.WHITESPACE) != 0) {
                flush(current, words);
                continue;
            }
            if (cp == 0 || cp == 0xFFFD || (flags & CodepointClass.CONTROL) != 0) {
                continue;
            }
            int c = vocab.lowercase ? CodepointClass.toLower(cp) : cp;
            if ((flags & CodepointClass.PUNCTUATION) != 0 || (cp < 0x7F && (flags & CodepointClass.SYMBOL) != 0)
                    || isChineseChar(cp)) {
                flush(current, words);
                words.add(Character.toString(c));
            } else {
                current.appendCodePoint(c);
            }
        }
        flush(current, words);
        return words;
    }

    private static void flush(StringBuilder current, List<String> words) {
        if (!current.isEmpty()) {
            words.add(current.toString());
            current.setLength(0);
        }
    }

    /** The CJK blocks BERT isolates (with the 0x2B920 start Hugging Face's implementation uses). */
    private static boolean isChineseChar(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
