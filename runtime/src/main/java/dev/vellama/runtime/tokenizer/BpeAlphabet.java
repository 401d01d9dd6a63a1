package dev.vellama.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * How the symbols a BPE vocabulary merges relate to the bytes of the text: what the text becomes before merging,
 * which tokens stand for a single byte when a symbol is not a token, and what bytes a token's text gives back.
 */
enum BpeAlphabet {
    /**
     * GPT-2's byte-level BPE: each UTF-8 byte of a word is one character of {@link ByteLevelAlphabet}, so a space
     * is {@code 'Ġ'}; only the printable ASCII bytes have a one-character token to fall back on.
     */
    BYTE_LEVEL {
        @Override
        String escape(String text) {
            return text;
        }

        @Override
        String spell(String word) {
            return ByteLevelAlphabet.encode(word.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        int byteToken(int b, TokenIndex index) {
            return b >= 0x21 && b <= 0x7E ? index.find(String.valueOf((char) b)) : -1;
        }

        @Override
        byte[] symbolBytes(String symbol) {
            byte[] out = new byte[symbol.length()];
            for (int i = 0; i < out.length; i++) {
                out[i] = (byte) ByteLevelAlphabet.decode(symbol.charAt(i));
            }
            return out;
        }

        /** A character outside the alphabet is flagged in the output, as llama.cpp does. */
        @Override
        byte[] decode(String text) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
            text.codePoints().forEach(cp -> {
                int b = ByteLevelAlphabet.decode(cp);
                if (b >= 0) {
                    out.write(b);
                } else {
                    StringBuilder marker = new StringBuilder("[UNK_BYTE_0x");
                    for (byte x : Character.toString(cp).getBytes(StandardCharsets.UTF_8)) {
                        marker.append(String.format("%02x", x & 0xFF));
                    }
                    marker.append(text).append(']');
                    out.writeBytes(marker.toString().getBytes(StandardCharsets.UTF_8));
                }
            });
            return out.toByteArray();
        }
    },

    /**
     * SentencePiece-style BPE (Gemma 4): merges run on the characters of the text itself with spaces written as
     * U+2581, and a symbol that is not a token is spelled with the byte tokens {@code <0xNN>}.
     */
    SENTENCE_PIECE {
        @Override
        String escape(String text) {
            return text.replace(' ', SPACE);
        }

        @Override
        String spell(String word) {
            return word;
        }

        @Override
        int byteToken(int b, TokenIndex index) {
            return index.find(String.format("<0x%02X>", b));
        }

        /** The escaped text's own bytes: an unknown U+2581 falls back to its three bytes, not to a space. */
        @Override
        byte[] symbolBytes(String symbol) {
            return symbol.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        byte[] decode(String text) {
            return text.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
        }
    };

    /** SentencePiece's visible space. */
    static final char SPACE = '\u2581';

    /** A text fragment as the pre-tokenizer and the merges see it. */
    abstract String escape(String text);

    /** A pre-tokenized word as the string whose characters are the initial symbols. */
    abstract String spell(String word);

    /** The token that stands for the byte {@code b} when a symbol is not a token, or -1. */
    abstract int byteToken(int b, TokenIndex index);

    /** The bytes of a symbol of a spelled word, each to be looked up with {@link #byteToken}. */
    abstract byte[] symbolBytes(String symbol);

    /** The bytes a normal token's text decodes to. */
    abstract byte[] decode(String text);
}
