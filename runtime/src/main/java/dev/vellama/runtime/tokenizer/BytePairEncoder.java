package dev.vellama.runtime.tokenizer;

import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * BPE by merge rank: the text is cut into words by the pre-tokenizer, each word is spelled in the vocabulary's
 * {@link BpeAlphabet} (GPT-2's byte-level characters, or the text's own characters for SentencePiece-style
 * vocabularies), and adjacent symbols, initially one character each, are merged by lowest merge rank (leftmost on
 * ties) with a priority queue, so a word of n symbols costs O(n log n). A final symbol that is not a token is
 * spelled with the alphabet's byte tokens. Words repeat a lot in real text, so results are cached.
 */
final class BytePairEncoder {
    private static final int CACHE_LIMIT = 1 << 16;
    /** Longer words (whole lines, for pre-tokenizers that only split at line breaks) rarely repeat. */
    private static final int CACHED_WORD_LIMIT = 256;

    private final Vocabulary vocab;
    private final BpeAlphabet alphabet;
    private final int[] byteTokens = new int[256];
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    BytePairEncoder(Vocabulary vocab) {
        if (vocab.preTokenizer == null) {
            throw new IllegalArgumentException("a BPE vocabulary needs a pre-tokenizer");
        }
        this.vocab = vocab;
        this.alphabet = vocab.alphabet;
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = alphabet.byteToken(b, vocab.index);
        }
    }

    private record Bigram(int left, int right, int rank, int size) {}

    /** Tokenizes a text fragment that holds no special token. */
    void encode(String text, IntList out) {
        List<String> words = vocab.preTokenizer.split(alphabet.escape(text));
        for (String word : words) {
            String symbols = alphabet.spell(word);
            if (symbols.length() > CACHED_WORD_LIMIT) {
                encodeWord(symbols, out);
                continue;
            }
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

    /**
     * Merges one spelled word. Symbols are indexed by the char where they start: the symbol at i covers chars
     * {@code [i, i + length[i])}, and starts out as one code point.
     */
    void encodeWord(String word, IntList out) {
        int n = word.length();
        if (n == 0) {
            return;
        }
        if (vocab.ignoreMerges || (vocab.wholeNewlineRuns && onlyNewlines(word))) {
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
        for (int i = 0, last = -1; i < n; ) {
            int len = Character.charCount(word.codePointAt(i));
            length[i] = len;
            prev[i] = last;
            next[i] = i + len < n ? i + len : -1;
            token[i] = vocab.index.find(word, i, i + len);
            last = i;
            i += len;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(4, n),
                (a, b) -> a.rank != b.rank ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = next[0]; i >= 0; i = next[i]) {
            offer(queue, word, length, token, prev[i], i);
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
            // a merge may produce a text that is not a token: spell it byte by byte, skipping bytes with no token
            for (byte b : alphabet.symbolBytes(word.substring(i, i + length[i]))) {
                int single = byteTokens[b & 0xFF];
                if (single >= 0) {
                    out.add(single);
                }
            }
        }
    }

    private static boolean onlyNewlines(String word) {
        for (int i = 0; i < word.length(); i++) {
            if (word.charAt(i) != '\n') {
                return false;
            }
        }
        return true;
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
