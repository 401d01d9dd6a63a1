package dev.vellama.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns tokens into text as they are generated. A token may end inside a UTF-8 sequence (byte-fallback and
 * byte-level tokens often do, for emoji and CJK); such trailing bytes are held back until the tokens that complete
 * them arrive, so every string returned is whole characters. Bytes that can never form a character come out as
 * U+FFFD rather than blocking the stream. The text is the plain concatenation of {@link Tokenizer#tokenBytes},
 * as llama.cpp prints generated pieces: no leading-space removal and no clean-up of spaces, which need the whole
 * sequence ({@link Tokenizer#decode} does those). Not thread-safe: one decoder per stream.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private byte[] pending = new byte[0];

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Adds a token and returns the text it completes; empty when it only extends an unfinished character.
     *
     * @param id the token just generated, a valid id of the tokenizer's vocabulary
     * @return the whole characters now complete: held-back bytes from earlier tokens first, then this token's
     * @throws TokenizerException if {@code id} is outside the vocabulary
     */
    public String push(int id) {
        byte[] piece = tokenizer.tokenBytes(id);
        if (piece.length == 0) {
            return "";
        }
        byte[] all = Arrays.copyOf(pending, pending.length + piece.length);
        System.arraycopy(piece, 0, all, pending.length, piece.length);
        int complete = completePrefix(all);
        pending = Arrays.copyOfRange(all, complete, all.length);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    /**
     * Returns whatever is still held back (as U+FFFD when incomplete) and starts afresh; call it when the stream ends.
     *
     * @return the held-back bytes decoded, U+FFFD for an incomplete character; empty when nothing was held back
     */
    public String flush() {
        String rest = new String(pending, StandardCharsets.UTF_8);
        pending = new byte[0];
        return rest;
    }

    /** {@return whether bytes of an unfinished character are being held back} */
    public boolean hasPending() {
        return pending.length > 0;
    }

    /** The length of the longest prefix that does not end inside a UTF-8 sequence that may still be completed. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // a sequence is at most 4 bytes: look back at most 3 for the lead byte of the last one
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xFF;
            if (c < 0x80) {
                return n; // ASCII: everything before is settled
            }
            if (c >= 0xC0) {
                int need = c >= 0xF8 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                return need > back ? n - back : n;
            }
            // continuation byte: keep looking for its lead
        }
        return n;
    }
}
