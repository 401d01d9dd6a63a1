package dev.vellama.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SentencePiece BPE as llama.cpp runs it: start from single characters and keep merging the adjacent pair whose
 * concatenation is a token with the highest score (the leftmost pair on ties). A final piece that is not a token
 * is spelled out as byte tokens {@code <0xNN>}, or as the one-character token of the byte, or as the unknown token.
 *
 * <p>llama.cpp merges over the whole text at once. When no token has U+2581 right after another character (true
 * of real SentencePiece vocabularies, which split on whitespace), no merge can cross the start of a word, so words
 * are merged one at a time with the same result; that keeps the queue small and lets repeated words come from a
 * cache.
 */
final class SentencePieceEncoder {
    private static final char SPACE = '\u2581';
    private static final int CACHE_LIMIT = 1 << 16;

    private final Vocabulary vocab;
    private final int[] byteTokens = new int[256];
    private final boolean wordsAreIndependent;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    SentencePieceEncoder(Vocabulary vocab) {
        this.vocab = vocab;
        this.wordsAreIndependent = noTokenJoinsWords(vocab.texts);
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0) {
                id = vocab.id(String.valueOf((char) b));
            }
            byteTokens[b] = id;
        }
    }

    /** A candidate merge of the symbols {@code left} and {@code right}, {@code size} chars long in all. */
    private record Bigram(int left, int right, float score, int size) {}

    /** Whether words are merged one at a time (the vocabulary allows it). */
    boolean mergesWordByWord() {
        return wordsAreIndependent;
    }

    /** Whether no token holds a U+2581 preceded by another character. */
    private static boolean noTokenJoinsWords(String[] texts) {
        for (String t : texts) {
            for (int i = t.indexOf(SPACE, 1); i > 0; i = t.indexOf(SPACE, i + 1)) {
                if (t.charAt(i - 1) != SPACE) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Tokenizes text whose spaces have already been turned into U+2581. */
    void encode(String text, IntList out) {
        if (!wordsAreIndependent) {
            encodeRun(text, out);
            return;
        }
        int start = 0;
        for (int i = 1; i <= text.length(); i++) {
            if (i == text.length() || (text.charAt(i) == SPACE && text.charAt(i - 1) != SPACE)) {
                encodeWord(text.substring(start, i), out);
                start = i;
            }
        }
    }

    private void encodeWord(String word, IntList out) {
        int[] ids = cache.get(word);
        if (ids == null) {
            IntList wordIds = new IntList(word.length());
            encodeRun(word, wordIds);
            ids = wordIds.toArray();
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(word, ids);
        }
        out.addAll(ids);
    }

    /** Merges a whole text in one queue, as llama.cpp does. */
    void encodeRun(String text, IntList out) {
        int n = text.codePointCount(0, text.length());
        if (n == 0) {
            return;
        }
        int[] start = new int[n];
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, offset = 0; i < n; i++) {
            int len = Character.charCount(text.codePointAt(offset));
            start[i] = offset;
            length[i] = len;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            offset += len;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(4, n),
                (a, b) -> a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            offer(queue, text, start, length, i - 1, i);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int l = bigram.left;
            int r = bigram.right;
            if (length[l] == 0 || length[r] == 0 || length[l] + length[r] != bigram.size) {
                continue; // one side was merged into something else since this pair was queued
            }
            length[l] += length[r];
            length[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            offer(queue, text, start, length, prev[l], l);
            offer(queue, text, start, length, l, next[l]);
        }
        for (int i = 0; i != -1; i = next[i]) {
            int id = vocab.index.find(text, start[i], start[i] + length[i]);
            if (id >= 0) {
                out.add(id);
            } else {
                emitBytes(text.substring(start[i], start[i] + length[i]), out);
            }
        }
    }

    private void offer(PriorityQueue<Bigram> queue, String text, int[] start, int[] length, int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        int size = length[left] + length[right];
        int id = vocab.index.find(text, start[left], start[left] + size);
        if (id < 0) {
            return;
        }
        queue.add(new Bigram(left, right, vocab.scores[id], size));
    }

    private void emitBytes(String piece, IntList out) {
        for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
            int t = byteTokens[b & 0xFF];
            if (t < 0) {
                t = vocab.unk;
            }
            if (t >= 0) {
                out.add(t);
            }
        }
    }
}
