package dev.vellama.runtime;

import java.util.SplittableRandom;

/**
 * llama.cpp's sampler chain: repetition/frequency/presence penalties over the last N tokens, top-k, top-p, min-p,
 * temperature, then a seeded draw from the softmax. Temperature ≤ 0 takes the most likely token after the
 * penalties. Candidate buffers are allocated once per vocabulary.
 */
public final class Sampler {
    private final GenerationParams p;
    private final SplittableRandom random;
    private final int[] ids;
    private final float[] vals;
    private final float[] penalized;
    private final int[] counts;
    private long[] order; // the full-vocabulary sort's keys, made the first time top-k is off
    private final int[] biasIds;
    private final float[] biasValues;
    private final float[] biased;

    public Sampler(GenerationParams params, int vocabSize) {
        this.p = params;
        this.random = new SplittableRandom(params.seed() != null ? params.seed() : System.nanoTime() ^ Thread.currentThread().threadId());
        this.ids = new int[vocabSize];
        this.vals = new float[vocabSize];
        this.penalized = new float[vocabSize];
        this.counts = new int[vocabSize];
        this.biasIds = new int[params.logitBias().size()];
        this.biasValues = new float[biasIds.length];
        int i = 0;
        for (var e : new java.util.TreeMap<>(params.logitBias()).entrySet()) {
            if (e.getKey() < 0 || e.getKey() >= vocabSize) {
                throw new IllegalArgumentException("logit bias for token " + e.getKey() + ", outside the vocabulary of " + vocabSize);
            }
            biasIds[i] = e.getKey();
            biasValues[i++] = e.getValue();
        }
        this.biased = biasIds.length > 0 ? new float[vocabSize] : null;
    }

    /** Picks the next token from {@code logits} (left unchanged), given the tokens so far. */
    public int sample(float[] logits, int[] history, int historyLength) {
        int n = logits.length;
        float[] l = applyPenalties(applyBias(logits), history, historyLength);
        if (p.temperature() <= 0) {
            return argmax(l, n);
        }
        // candidates sorted by logit, descending, cut to top-k
        int k = p.topK() > 0 ? Math.min(p.topK(), n) : n;
        int m = topK(l, n, k);
        // top-p over the softmax of the kept candidates
        if (p.topP() < 1f) {
            double max = vals[0];
            double sum = 0;
            for (int i = 0; i < m; i++) {
                sum += Math.exp(vals[i] - max);
            }
            double cum = 0;
            int keep = m;
            for (int i = 0; i < m; i++) {
                cum += Math.exp(vals[i] - max) / sum;
                if (cum >= p.topP()) {
                    keep = i + 1;
                    break;
                }
            }
            m = keep;
        }
        // min-p: keep logits within ln(min_p) of the best
        if (p.minP() > 0f) {
            float min = vals[0] + (float) Math.log(p.minP());
            int keep = 1;
            while (keep < m && vals[keep] >= min) {
                keep++;
            }
            m = keep;
        }
        // temperature, then the draw
        double max = vals[0] / p.temperature();
        double sum = 0;
        for (int i = 0; i < m; i++) {
            sum += Math.exp(vals[i] / p.temperature() - max);
        }
        double r = random.nextDouble() * sum;
        double acc = 0;
        for (int i = 0; i < m; i++) {
            acc += Math.exp(vals[i] / p.temperature() - max);
            if (r < acc) {
                return ids[i];
            }
        }
        return ids[m - 1];
    }

    /** The logits with the logit biases added (first in llama.cpp's chain); the input itself when there are none. */
    private float[] applyBias(float[] logits) {
        if (biased == null) {
            return logits;
        }
        System.arraycopy(logits, 0, biased, 0, logits.length);
        for (int i = 0; i < biasIds.length; i++) {
            biased[biasIds[i]] += biasValues[i];
        }
        return biased;
    }

    private float[] applyPenalties(float[] logits, int[] history, int historyLength) {
        boolean any = p.repeatPenalty() != 1f || p.frequencyPenalty() != 0f || p.presencePenalty() != 0f;
        int window = p.repeatLastN() < 0 ? historyLength : Math.min(p.repeatLastN(), historyLength);
        if (!any || window == 0) {
            return logits;
        }
        System.arraycopy(logits, 0, penalized, 0, logits.length);
        for (int i = historyLength - window; i < historyLength; i++) {
            counts[history[i]]++;
        }
        for (int i = historyLength - window; i < historyLength; i++) {
            int id = history[i];
            int c = counts[id];
            if (c == 0) {
                continue; // already applied for an earlier occurrence
            }
            float v = penalized[id];
            v = v > 0 ? v / p.repeatPenalty() : v * p.repeatPenalty();
            v -= c * p.frequencyPenalty() + p.presencePenalty();
            penalized[id] = v;
            counts[id] = 0;
        }
        return penalized;
    }

    static int argmax(float[] l, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (l[i] > l[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Puts the k largest logits, sorted descending, into ids/vals; returns k. */
    private int topK(float[] l, int n, int k) {
        if (k == n) {
            for (int i = 0; i < n; i++) {
                ids[i] = i;
            }
            sortDescending(l, n);
            for (int i = 0; i < n; i++) {
                vals[i] = l[ids[i]];
            }
            return n;
        }
        // a min-heap of size k over the candidates
        int size = 0;
        for (int i = 0; i < n; i++) {
            float v = l[i];
            if (size < k) {
                ids[size] = i;
                vals[size] = v;
                siftUp(size++);
            } else if (v > vals[0]) {
                ids[0] = i;
                vals[0] = v;
                siftDown(0, size);
            }
        }
        // heap-sort with the min-heap: moving each minimum to the end leaves the k sorted descending
        for (int end = size - 1; end > 0; end--) {
            swap(0, end);
            siftDown(0, end);
        }
        return size;
    }

    private void siftUp(int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (vals[parent] <= vals[i]) {
                return;
            }
            swap(i, parent);
            i = parent;
        }
    }

    private void siftDown(int i, int size) {
        while (true) {
            int left = 2 * i + 1;
            int smallest = i;
            if (left < size && vals[left] < vals[smallest]) {
                smallest = left;
            }
            if (left + 1 < size && vals[left + 1] < vals[smallest]) {
                smallest = left + 1;
            }
            if (smallest == i) {
                return;
            }
            swap(i, smallest);
            i = smallest;
        }
    }

    private void swap(int a, int b) {
        int ti = ids[a];
        ids[a] = ids[b];
        ids[b] = ti;
        float tv = vals[a];
        vals[a] = vals[b];
        vals[b] = tv;
    }

    /**
     * ids[0..n) by logit, highest first, ties in id order, without boxing the vocabulary: each key packs the
     * logit's bits, turned so that larger logits sort first, above the id.
     */
    private void sortDescending(float[] l, int n) {
        if (order == null) {
            order = new long[ids.length];
        }
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToIntBits(l[i]);
            int sortable = bits ^ ((bits >> 31) & 0x7fffffff); // ordered as the floats are, as signed ints
            order[i] = ((long) ~sortable << 32) | i;
        }
        java.util.Arrays.sort(order, 0, n);
        for (int i = 0; i < n; i++) {
            ids[i] = (int) order[i];
        }
    }
}
