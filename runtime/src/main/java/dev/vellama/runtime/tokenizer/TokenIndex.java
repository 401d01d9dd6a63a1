package dev.vellama.runtime.tokenizer;

import java.util.Arrays;

/**
 * Token text to id, looked up by a region of a string without copying it: the merge loops ask this for every
 * candidate pair, and allocating a substring each time dominated their cost. Open addressing over the texts'
 * {@link String#hashCode} values.
 */
final class TokenIndex {
    private final String[] texts;
    private final int[] slots;
    private final int[] hashes;
    private final int mask;

    TokenIndex(String[] texts) {
        this.texts = texts;
        int capacity = Integer.highestOneBit(Math.max(4, texts.length * 2 + 1)) << 1;
        this.slots = new int[capacity];
        this.hashes = new int[capacity];
        this.mask = capacity - 1;
        Arrays.fill(slots, -1);
        for (int id = 0; id < texts.length; id++) {
            int h = texts[id].hashCode();
            int slot = spread(h) & mask;
            while (slots[slot] >= 0) {
                if (hashes[slot] == h && texts[slots[slot]].equals(texts[id])) {
                    throw new TokenizerException("duplicate token in vocabulary: '" + texts[id] + "' has ids "
                            + slots[slot] + " and " + id);
                }
                slot = (slot + 1) & mask;
            }
            slots[slot] = id;
            hashes[slot] = h;
        }
    }

    /** Similar strings have close hash codes; spread them so linear probing does not cluster. */
    private static int spread(int h) {
        int x = h * 0x9E3779B9;
        return x ^ (x >>> 15);
    }

    /**
     * The id of the token {@code s}, or -1. {@link String#hashCode} is the same hash as the loop of {@link
     * #find(String, int, int)} and compiled JDK code: building a 280k-merge table looks up every merge's halves this
     * way before the JIT compiler has compiled anything of ours.
     */
    int find(String s) {
        return probe(s.hashCode(), s, 0, s.length());
    }

    /** The id of the token spelled by {@code s[start, end)}, or -1. */
    int find(String s, int start, int end) {
        int h = 0;
        for (int i = start; i < end; i++) {
            h = 31 * h + s.charAt(i);
        }
        return probe(h, s, start, end - start);
    }

    private int probe(int h, String s, int start, int len) {
        for (int slot = spread(h) & mask; ; slot = (slot + 1) & mask) {
            int id = slots[slot];
            if (id < 0) {
                return -1;
            }
            if (hashes[slot] == h) {
                String t = texts[id];
                if (t.length() == len && t.regionMatches(0, s, start, len)) {
                    return id;
                }
            }
        }
    }
}
