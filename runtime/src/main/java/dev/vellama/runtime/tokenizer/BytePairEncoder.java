package dev.vellama.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE: the text is cut into words by the pre-tokenizer, each word's UTF-8 bytes are spelled in the
 * byte-level alphabet, and adjacent symbols are merged by lowest merge rank (leftmost on ties) with a priority
 * queue, so a word of n symbols costs O(n log n). Words repeat a lot in real text, so results are cached.
 */
final class BytePairEncoder {
    private static final int CACHE_LIMIT = 1 << 16;

    private final Vocabulary vocab;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    BytePairEncoder(Vocabulary vocab) {
        if (vocab.preTokenizer == null) {
            throw new IllegalArgumentException("a BPE vocabulary needs a pre-tokenizer");
        }
        this.vocab = vocab;
    }

    private record Bigram(int left, int right, int rank, int size) {}

    void encode(String text, IntList out) {
        List<String> words = vocab.preTokenizer.split(text);
        for (String word : words) {
            String symbols = ByteLevelAlphabet.encode(word.getBytes(StandardCharsets.UTF_8));
            int[] ids = cache.get(symbols);
            if (ids == null) {
                IntList wordIds = new IntList(symbols.length());
                encodeWord(symbols, wordIds);
                ids = wordIds.toArray();
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(symbols, ids);
            }
            out.addAll(ids);
        }
    }

    /** Merges one byte-level word; every char of it is one byte, so chars are the initial symbols. */
    void encodeWord(String word, IntList out) {
        int n = word.length();
        if (vocab.ignoreMerges && vocab.id(word) >= 0) {
            out.add(vocab.id(word));
            return;
        }
        int[] start = new int[n];
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            start[i] = i;
            length[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(4, n),
                (a, b) -> a.rank != b.rank ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            offer(queue, word, start, length, i - 1, i);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int l = bigram.left;
            int r = bigram.right;
            if (length[l] == 0 || length[r] == 0 || length[l] + length[r] != bigram.size) {
                continue; // outdated: one side has changed since this pair was queued
            }
            length[l] += length[r];
            length[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            offer(queue, word, start, length, prev[l], l);
            offer(queue, word, start, length, l, next[l]);
        }
        for (int i = 0; i != -1 && n > 0; i = next[i]) {
            String piece = word.substring(start[i], start[i] + length[i]);
            int id = vocab.id(piece);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            // not a token: fall back to one token per symbol char, where such a one-char token exists
            for (int k = 0; k < piece.length(); k++) {
                char c = piece.charAt(k);
                int single = c < 0x80 ? vocab.id(String.valueOf(c)) : -1;
                if (single >= 0) {
                    out.add(single);
                }
            }
        }
    }

    private void offer(PriorityQueue<Bigram> queue, String word, int[] start, int[] length, int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        int rank = vocab.mergeRank(word.substring(start[left], start[left] + length[left]),
                word.substring(start[right], start[right] + length[right]));
        if (rank >= 0) {
            queue.add(new Bigram(left, right, rank, length[left] + length[right]));
        }
    }
}
