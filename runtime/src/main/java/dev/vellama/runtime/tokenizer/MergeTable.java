package dev.vellama.runtime.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * BPE merge ranks. Merges of two tokens (all of them in real vocabularies) are keyed by the pair of ids in an
 * open-addressing table, so a lookup costs no allocation; a merge with a side that is not itself a token is kept
 * by text. Each merge {@code "a b"} is split at its first space after the first character, and the first rank of
 * a repeated merge wins, as in llama.cpp.
 */
final class MergeTable {
    private final long[] keys;
    private final int[] ranks;
    private final int mask;
    private final Map<String, Integer> byText = new HashMap<>();

    MergeTable(String[] merges, TokenIndex tokens) {
        int capacity = Integer.highestOneBit(Math.max(4, merges.length * 2 + 1)) << 1;
        keys = new long[capacity];
        ranks = new int[capacity];
        mask = capacity - 1;
        Arrays.fill(ranks, -1);
        for (int rank = 0; rank < merges.length; rank++) {
            String merge = merges[rank];
            int space = merge.indexOf(' ', 1);
            String left = space < 0 ? "" : merge.substring(0, space);
            String right = space < 0 ? "" : merge.substring(space + 1);
            int l = tokens.find(left);
            int r = tokens.find(right);
            if (l >= 0 && r >= 0) {
                put(pairKey(l, r), rank);
            } else {
                byText.putIfAbsent(left + ' ' + right, rank);
            }
        }
    }

    private static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFF_FFFFL);
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private void put(long key, int rank) {
        for (int slot = hash(key) & mask; ; slot = (slot + 1) & mask) {
            if (ranks[slot] < 0) {
                keys[slot] = key;
                ranks[slot] = rank;
                return;
            }
            if (keys[slot] == key) {
                return; // keep the first rank
            }
        }
    }

    /** The rank of merging the tokens {@code left} and {@code right}, or -1. */
    int rank(int left, int right) {
        long key = pairKey(left, right);
        for (int slot = hash(key) & mask; ; slot = (slot + 1) & mask) {
            int rank = ranks[slot];
            if (rank < 0) {
                return -1;
            }
            if (keys[slot] == key) {
                return rank;
            }
        }
    }

    /** The rank of merging two texts of which at least one is not a token, or -1. */
    int rank(String left, String right) {
        if (byText.isEmpty()) {
            return -1;
        }
        Integer rank = byText.get(left + ' ' + right);
        return rank == null ? -1 : rank;
    }
}
