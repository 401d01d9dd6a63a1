package dev.vellama.runtime;

import java.util.Arrays;

import dev.vellama.runtime.grammar.Grammar;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * A grammar applied to tokens: which tokens may come next (their bytes, decoded as UTF-8, must continue a sentence
 * of the grammar; an end-of-generation token only where a sentence may end), and the state after the one chosen.
 * A token may end inside a multi-byte character: its bytes wait for the token that completes it, and meanwhile
 * the grammar is asked only about the characters already whole. Not thread-safe; one per generation.
 */
final class GrammarMask {
    /** The smallest code point each UTF-8 length may encode. */
    private static final int[] SHORTEST = {0, 0, 0x80, 0x800, 0x10000};

    private final Tokenizer tokenizer;
    private final int vocab;
    private final byte[][] bytes;
    private Grammar.State state;
    private byte[] partial = new byte[0]; // the start of a character a token left unfinished
    private float[] masked;

    GrammarMask(Grammar grammar, Tokenizer tokenizer, int vocab) {
        this.tokenizer = tokenizer;
        this.vocab = Math.min(vocab, tokenizer.vocabSize());
        this.bytes = new byte[this.vocab][];
        this.state = grammar.start();
    }

    /** Only the end may follow: the text is a whole sentence that nothing can extend. */
    boolean mustEnd() {
        return partial.length == 0 && state.mustEnd();
    }

    boolean allows(int id) {
        if (id < 0 || id >= vocab) {
            return false;
        }
        if (tokenizer.isEndOfGeneration(id)) {
            return partial.length == 0 && state.canEnd();
        }
        return step(id) != null;
    }

    /** The logits with every token the grammar does not allow here set to negative infinity; a reused buffer. */
    float[] mask(float[] logits) {
        if (masked == null) {
            masked = new float[logits.length];
        }
        Arrays.fill(masked, Float.NEGATIVE_INFINITY);
        for (int id = 0; id < vocab; id++) {
            if (logits[id] != Float.NEGATIVE_INFINITY && allows(id)) {
                masked[id] = logits[id];
            }
        }
        return masked;
    }

    /** Moves past token {@code id}, which {@link #allows} said may come. */
    void accept(int id) {
        if (tokenizer.isEndOfGeneration(id)) {
            return;
        }
        Object[] next = step(id);
        if (next == null) {
            throw new IllegalStateException("token " + id + " does not continue the grammar");
        }
        state = (Grammar.State) next[0];
        partial = (byte[]) next[1];
    }

    /** {state, partial} after token {@code id}, or null when the grammar refuses it (or it has no bytes). */
    private Object[] step(int id) {
        byte[] b = bytes[id];
        if (b == null) {
            b = tokenizer.tokenBytes(id);
            bytes[id] = b;
        }
        if (b.length == 0) {
            return null; // a control token: no text the grammar could accept
        }
        byte[] all = b;
        if (partial.length > 0) {
            all = Arrays.copyOf(partial, partial.length + b.length);
            System.arraycopy(b, 0, all, partial.length, b.length);
        }
        Grammar.State s = state;
        int i = 0;
        while (i < all.length) {
            int lead = all[i] & 0xff;
            int len = lead < 0x80 ? 1 : lead >= 0xC2 && lead < 0xE0 ? 2 : lead >= 0xE0 && lead < 0xF0 ? 3
                    : lead >= 0xF0 && lead < 0xF5 ? 4 : -1;
            if (len < 0) {
                return null; // not UTF-8
            }
            for (int j = 1; j < len && i + j < all.length; j++) {
                if ((all[i + j] & 0xC0) != 0x80) {
                    return null;
                }
            }
            if (i + len > all.length) {
                // the character is unfinished: the code points it may still become must include one the grammar takes
                int have = all.length - i;
                int lo = lead & (0xFF >> (len + 1));
                for (int j = 1; j < have; j++) {
                    lo = lo << 6 | (all[i + j] & 0x3F);
                }
                int hi = lo;
                for (int j = have; j < len; j++) {
                    lo = lo << 6;
                    hi = hi << 6 | 0x3F;
                }
                lo = Math.max(lo, SHORTEST[len]); // shorter forms of a code point are not UTF-8
                hi = Math.min(hi, 0x10FFFF);
                if (lo > hi || !s.allowsAnyIn(lo, hi)) {
                    return null;
                }
                return new Object[] {s, Arrays.copyOfRange(all, i, all.length)}; // waits for the rest of the character
            }
            int cp = len == 1 ? lead : lead & (0xFF >> (len + 1));
            for (int j = 1; j < len; j++) {
                cp = cp << 6 | (all[i + j] & 0x3F);
            }
            if (len > 1 && cp < SHORTEST[len] || cp >= 0xD800 && cp <= 0xDFFF || cp > 0x10FFFF) {
                return null; // an overlong form, a surrogate or beyond Unicode: not UTF-8
            }
            s = s.accept(cp);
            if (s.isDead()) {
                return null;
            }
            i += len;
        }
        return new Object[] {s, new byte[0]};
    }
}
