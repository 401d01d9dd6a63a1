package dev.vellama.runtime;

import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;

import dev.vellama.runtime.grammar.Grammar;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * A grammar applied to tokens: which tokens may come next (their bytes, decoded as UTF-8, must continue a sentence
 * of the grammar; an end-of-generation token only where a sentence may end), and the state after the one chosen.
 * A token may end inside a multi-byte character: its bytes wait for the token that completes it, and meanwhile
 * the grammar is asked only about the characters already whole. Not thread-safe; one per generation.
 *
 * <p>Masking the whole vocabulary walks the tokens in byte order, so tokens that share a start share the grammar's
 * work on it, and a start the grammar refuses skips every token that begins with it. The grammar's states are
 * interned with their transitions cached, and the tokens allowed after a state (with no character left unfinished)
 * are remembered, so a state met again costs one pass over a bit set.
 */
final class GrammarMask {
    /** The smallest code point each UTF-8 length may encode. */
    private static final int[] SHORTEST = {0, 0, 0x80, 0x800, 0x10000};
    private static final Map<Tokenizer, Vocabulary> VOCABULARIES = Collections.synchronizedMap(new WeakHashMap<>());
    private static final int REMEMBERED_STATES = 64;

    private final Tokenizer tokenizer;
    private final int vocab;
    private final Vocabulary vocabulary;
    private Grammar.State state;
    private byte[] partial = new byte[0]; // the start of a character a token left unfinished
    private float[] masked;
    private final Map<Grammar.State, long[]> allowedAfter = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Grammar.State, long[]> eldest) {
            return size() > REMEMBERED_STATES;
        }
    };

    GrammarMask(Grammar grammar, Tokenizer tokenizer, int vocab) {
        this.tokenizer = tokenizer;
        this.vocab = Math.min(vocab, tokenizer.vocabSize());
        this.vocabulary = VOCABULARIES.computeIfAbsent(tokenizer, Vocabulary::new);
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
        long[] allowed = partial.length == 0 ? allowedAfter.get(state) : null;
        if (allowed == null) {
            allowed = allowedTokens();
            if (partial.length == 0) {
                allowedAfter.put(state, allowed);
            }
        }
        for (int w = 0; w < allowed.length; w++) {
            for (long bits = allowed[w]; bits != 0; bits &= bits - 1) {
                int id = w << 6 | Long.numberOfTrailingZeros(bits);
                masked[id] = logits[id];
            }
        }
        return masked;
    }

    /** Every token the grammar allows after the text so far, as a bit set over ids. */
    private long[] allowedTokens() {
        long[] allowed = new long[(vocab + 63) >>> 6];
        Vocabulary v = vocabulary;
        int n = v.ids.length;
        // along the current token's bytes: the grammar's state and the character under way after each byte
        Grammar.State[] states = new Grammar.State[v.longest + 1];
        int[] codePoint = new int[v.longest + 1]; // the bits of an unfinished character so far
        int[] need = new int[v.longest + 1]; // its bytes still to come, 0 when none
        int[] length = new int[v.longest + 1]; // its length in bytes
        // the unfinished character the last token left is the walk's start
        int cp0 = 0;
        int need0 = 0;
        int len0 = 0;
        for (byte b : partial) {
            int x = b & 0xff;
            if (need0 == 0) {
                len0 = x < 0xE0 ? 2 : x < 0xF0 ? 3 : 4;
                cp0 = x & (0xFF >> (len0 + 1));
                need0 = len0 - 1;
            } else {
                cp0 = cp0 << 6 | (x & 0x3F);
                need0--;
            }
        }
        states[0] = state;
        codePoint[0] = cp0;
        need[0] = need0;
        length[0] = len0;
        int depth = 0; // bytes of the previous token still valid as a prefix of this one
        for (int k = 0; k < n; k++) {
            byte[] b = v.bytes[k];
            int lcp = k == 0 ? 0 : v.commonPrefix[k];
            int d = Math.min(depth, lcp);
            boolean dead = false;
            for (; d < b.length; d++) {
                Grammar.State s = states[d];
                int x = b[d] & 0xff;
                int c = codePoint[d];
                int nd = need[d];
                int len = length[d];
                if (nd == 0) {
                    if (x < 0x80) {
                        s = s.accept(x);
                        c = 0;
                        len = 0;
                    } else {
                        len = x >= 0xC2 && x < 0xE0 ? 2 : x >= 0xE0 && x < 0xF0 ? 3 : x >= 0xF0 && x < 0xF5 ? 4 : -1;
                        if (len < 0) {
                            dead = true;
                        } else {
                            c = x & (0xFF >> (len + 1));
                            nd = len - 1;
                        }
                    }
                } else if ((x & 0xC0) != 0x80) {
                    dead = true;
                } else {
                    c = c << 6 | (x & 0x3F);
                    if (--nd == 0) {
                        if (c < SHORTEST[len] || c >= 0xD800 && c <= 0xDFFF || c > 0x10FFFF) {
                            dead = true; // overlong, a surrogate, or beyond Unicode: not UTF-8
                        } else {
                            s = s.accept(c);
                            c = 0;
                            len = 0;
                        }
                    }
                }
                if (!dead && s.isDead()) {
                    dead = true;
                }
                if (dead) {
                    break;
                }
                states[d + 1] = s;
                codePoint[d + 1] = c;
                need[d + 1] = nd;
                length[d + 1] = len;
            }
            if (dead) {
                // every token that starts with these d + 1 bytes is refused as well
                while (k + 1 < n && v.commonPrefix[k + 1] > d) {
                    k++;
                }
                depth = d;
                continue;
            }
            depth = b.length;
            if (b.length == 0 || v.ids[k] >= vocab || v.endOfGeneration[k]) {
                continue;
            }
            if (need[b.length] > 0 && !endsInAllowedCharacter(states[b.length], codePoint[b.length], need[b.length],
                    length[b.length])) {
                continue;
            }
            int id = v.ids[k];
            allowed[id >>> 6] |= 1L << id;
        }
        if (partial.length == 0 && state.canEnd()) {
            for (int id : v.endIds) {
                if (id < vocab) {
                    allowed[id >>> 6] |= 1L << id;
                }
            }
        }
        return allowed;
    }

    /** Whether an unfinished character ({@code bits} so far, {@code need} bytes to come) may still become one allowed. */
    private static boolean endsInAllowedCharacter(Grammar.State s, int bits, int need, int len) {
        int lo = bits << (6 * need);
        int hi = lo | ((1 << (6 * need)) - 1);
        lo = Math.max(lo, SHORTEST[len]);
        hi = Math.min(hi, 0x10FFFF);
        // surrogates are no characters: a start that can only become one can never be finished
        return lo <= Math.min(hi, 0xD7FF) && s.allowsAnyIn(lo, Math.min(hi, 0xD7FF))
                || Math.max(lo, 0xE000) <= hi && s.allowsAnyIn(Math.max(lo, 0xE000), hi);
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

    /**
     * Moves past {@code text} (bytes of UTF-8, perhaps ending inside a character): what a lazy grammar reads from its
     * trigger on. False, and nothing moved, when the grammar refuses it.
     */
    boolean acceptBytes(byte[] text) {
        Object[] next = text.length == 0 ? new Object[] {state, partial} : step(text);
        if (next == null) {
            return false;
        }
        state = (Grammar.State) next[0];
        partial = (byte[]) next[1];
        return true;
    }

    /** {state, partial} after token {@code id}, or null when the grammar refuses it (or it has no bytes). */
    private Object[] step(int id) {
        byte[] b = vocabulary.bytesOf[id];
        if (b.length == 0 || vocabulary.isEndOfGeneration(id)) {
            return null; // a control token: no text the grammar could accept
        }
        return step(b);
    }

    /** {state, partial} after bytes {@code b}, or null when the grammar refuses them. */
    private Object[] step(byte[] b) {
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
            int cp = len == 1 ? lead : lead & (0xFF >> (len + 1));
            int have = Math.min(len, all.length - i);
            for (int j = 1; j < have; j++) {
                cp = cp << 6 | (all[i + j] & 0x3F);
            }
            if (have < len) {
                // the character is unfinished: the code points it may still become must include one the grammar takes
                if (!endsInAllowedCharacter(s, cp, len - have, len)) {
                    return null;
                }
                return new Object[] {s, Arrays.copyOfRange(all, i, all.length)}; // waits for the rest of the character
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

    /** A tokenizer's tokens as bytes, sorted, with how much each shares with the one before; built once per tokenizer. */
    private static final class Vocabulary {
        final byte[][] bytesOf; // by id
        final int[] ids; // sorted by bytes
        final byte[][] bytes; // bytes of ids[k]
        final int[] commonPrefix; // bytes ids[k] shares with ids[k - 1]
        final boolean[] endOfGeneration;
        final int[] endIds;
        final int longest;
        private final boolean[] endById;

        Vocabulary(Tokenizer tokenizer) {
            int n = tokenizer.vocabSize();
            bytesOf = new byte[n][];
            endById = new boolean[n];
            int ends = 0;
            int max = 0;
            Integer[] order = new Integer[n];
            for (int id = 0; id < n; id++) {
                bytesOf[id] = tokenizer.tokenBytes(id);
                endById[id] = tokenizer.isEndOfGeneration(id);
                ends += endById[id] ? 1 : 0;
                max = Math.max(max, bytesOf[id].length);
                order[id] = id;
            }
            Arrays.sort(order, Comparator.comparing(id -> bytesOf[id], Arrays::compareUnsigned));
            ids = new int[n];
            bytes = new byte[n][];
            commonPrefix = new int[n];
            endOfGeneration = new boolean[n];
            endIds = new int[ends];
            for (int k = 0, e = 0; k < n; k++) {
                ids[k] = order[k];
                bytes[k] = bytesOf[ids[k]];
                endOfGeneration[k] = endById[ids[k]];
                if (endById[ids[k]]) {
                    endIds[e++] = ids[k];
                }
                if (k > 0) {
                    int m = Arrays.mismatch(bytes[k - 1], bytes[k]);
                    commonPrefix[k] = m < 0 ? bytes[k].length : m;
                }
            }
            longest = max;
        }

        boolean isEndOfGeneration(int id) {
            return endById[id];
        }
    }
}
