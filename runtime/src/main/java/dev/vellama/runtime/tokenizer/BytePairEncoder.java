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
        if (n == 0) {
            return;
        }
        if (vocab.ignoreMerges) {
            int whole = vocab.index.find(word);
            if (whole >= 0) {
                out.add(whole);
                return;
            }
        }
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int[] token = new int[n]; // the id of each symbol's text, -1 when it is not a token
        for (int i = 0; i < n; i++) {
            length[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            token[i] = vocab.index.find(word, i, i + 1);
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(4, n),
                (a, b) -> a.rank != b.rank ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            offer(queue, word, length, token, i - 1, i);
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
            token[l] = vocab.index.find(word, l, l + length[l]);
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            offer(queue, word, length, token, prev[l], l);
            offer(queue, word, length, token, l, next[l]);
        }
        for (int i = 0; i != -1; i = next[i]) {
            if (token[i] >= 0) {
                out.add(token[i]);
                continue;
            }
            // not a token: fall back to one token per symbol char, where such a one-char token exists
            for (int k = i; k < i + length[i]; k++) {
                int single = word.charAt(k) < 0x80 ? vocab.index.find(word, k, k + 1) : -1;
                if (single >= 0) {
                    out.add(single);
                }
            }
        }
    }

    /** Symbols start where their index says: a symbol at i covers chars [i, i + length[i]). */
    private void offer(PriorityQueue<Bigram> queue, String word, int[] length, int[] token, int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        int rank = token[left] >= 0 && token[right] >= 0
                ? vocab.merges.rank(token[left], token[right])
                : vocab.merges.rank(word.substring(left, left + length[left]), word.substring(right, right + length[right]));
        if (rank >= 0) {
            queue.add(new Bigram(left, right, rank, length[left] + length[right]));
        }
    }
}
