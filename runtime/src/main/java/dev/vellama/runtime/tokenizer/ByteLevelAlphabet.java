package dev.vellama.runtime.tokenizer;

/**
 * GPT-2's reversible byte-to-character mapping used by byte-level BPE vocabularies: printable Latin-1 bytes map to
 * themselves, the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) to U+0100 onwards in byte order, so that
 * every byte sequence becomes a string of visible characters ({@code ' '} becomes {@code 'Ġ'}).
 */
final class ByteLevelAlphabet {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = (char) (printable ? b : next++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevelAlphabet() {}

    /** Maps each byte of {@code utf8} to its character. */
    static String encode(byte[] utf8) {
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(out);
    }

    /** The byte a code point stands for, or -1 when it is not one of the 256 characters of the alphabet. */
    static int decode(int cp) {
        return cp >= 0 && cp < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[cp] : -1;
    }
}
