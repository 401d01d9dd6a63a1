package dev.vellama.runtime;

import java.util.SplittableRandom;

/**
 * llama.cpp's sampler chain: logit bias, repetition/frequency/presence penalties over the last N tokens, DRY,
 * top-k, typical-p, top-p, min-p, XTC, temperature, then a seeded draw from the softmax. Temperature ≤ 0 takes the
 * most likely token after the penalties and DRY. With mirostat 1 or 2 the chain is logit bias, temperature and
 * mirostat, as in llama.cpp. Candidate buffers are allocated once per vocabulary.
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
    private final DryBreakers breakers;
    private float[] work;        // a private copy of the logits for DRY, made on first use
    private int[] dryMax;        // per token: the longest repetition it would extend (DRY), reset after use
    private int[] dryZ;          // the Z-array of the reversed history window
    private float[] probs;       // candidates' probabilities where a stage needs them
    private float mu;            // mirostat's running surprise bound

    /**
     * A sampler whose DRY stage has no sequence breakers.
     *
     * @param params    the sampling parameters; the seed, when set, makes the draws repeatable
     * @param vocabSize the number of logits each call to {@link #sample} gets
     * @throws IllegalArgumentException if a logit bias names a token outside the vocabulary
     */
    public Sampler(GenerationParams params, int vocabSize) {
        this(params, vocabSize, DryBreakers.NONE);
    }

    /**
     * A sampler whose DRY stage knows the vocabulary's sequence breakers.
     *
     * @param params    the sampling parameters; the seed, when set, makes the draws repeatable
     * @param vocabSize the number of logits each call to {@link #sample} gets
     * @param breakers  DRY's sequence breakers for the model's tokenizer ({@link DryBreakers#of})
     * @throws IllegalArgumentException if a logit bias names a token outside the vocabulary
     */
    public Sampler(GenerationParams params, int vocabSize, DryBreakers breakers) {
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
        this.breakers = breakers;
        this.mu = 2 * params.mirostat().tau();
    }

    /**
     * Picks the next token from {@code logits} (left unchanged), given the tokens so far. Not thread-safe: the
     * sampler's buffers and mirostat state are reused from call to call.
     *
     * @param logits        the raw logits of the next position, one per vocabulary token
     * @param history       the tokens so far (prompt and generated), oldest first, which the penalties and DRY read
     * @param historyLength how many entries of {@code history} are valid, from index 0
     * @return the chosen token id
     */
    public int sample(float[] logits, int[] history, int historyLength) {
        int n = logits.length;
        if (p.mirostat().version() != 0) {
            return mirostat(applyBias(logits), n);
        }
        float[] l = applyDry(applyPenalties(applyBias(logits), history, historyLength), logits, history, historyLength);
        if (p.temperature() <= 0) {
            return argmax(l, n);
        }
        // candidates sorted by logit, descending, cut to top-k
        int k = p.topK() > 0 ? Math.min(p.topK(), n) : n;
        int m = topK(l, n, k);
        if (p.typicalP() < 1f) {
            m = typical(m);
        }
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
        m = xtc(m);
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

    /** Probabilities of candidates vals[0 .. m) (sorted, highest first) at temperature 1 into probs. */
    private void softmax(int m) {
        if (probs == null) {
            probs = new float[vals.length];
        }
        double max = vals[0];
        double sum = 0;
        for (int i = 0; i < m; i++) {
            double e = Math.exp(vals[i] - max);
            probs[i] = (float) e;
            sum += e;
        }
        for (int i = 0; i < m; i++) {
            probs[i] = (float) (probs[i] / sum);
        }
    }

    /** A draw from probs[0 .. m) (summing to 1); the index. */
    private int draw(int m) {
        double r = random.nextDouble();
        double acc = 0;
        for (int i = 0; i < m; i++) {
            acc += probs[i];
            if (r < acc) {
                return i;
            }
        }
        return m - 1;
    }

    /**
     * Locally typical sampling: keeps the candidates whose surprise is closest to the distribution's entropy until
     * their mass exceeds typical-p (at least one), then puts them back in logit order for the stages after it.
     * (llama.cpp b4748, whose default min_keep of 0 underflows a size_t in this comparison, keeps every candidate;
     * this keeps what the method means to.)
     */
    private int typical(int m) {
        softmax(m);
        double entropy = 0;
        for (int i = 0; i < m; i++) {
            if (probs[i] > 0) {
                entropy -= probs[i] * Math.log(probs[i]);
            }
        }
        // order candidates by |−log p − H| (ties by rank), packed as sortable keys above the index, in the buffer
        // of the full sort (done with by now)
        if (order == null) {
            order = new long[ids.length];
        }
        long[] keys = order;
        for (int i = 0; i < m; i++) {
            float shifted = (float) Math.abs(-Math.log(probs[i]) - entropy);
            keys[i] = ((long) Float.floatToIntBits(shifted) << 32) | i; // non-negative floats sort as their bits
        }
        java.util.Arrays.sort(keys, 0, m);
        double cum = 0;
        int keep = m;
        for (int i = 0; i < m; i++) {
            cum += probs[(int) keys[i]];
            if (cum > p.typicalP()) {
                keep = i + 1;
                break;
            }
        }
        // the kept candidates, back in rank (that is, logit) order; each kept rank is at least its new place, so
        // the gather can run in place
        for (int i = 0; i < keep; i++) {
            keys[i] = (int) keys[i];
        }
        java.util.Arrays.sort(keys, 0, keep);
        for (int i = 0; i < keep; i++) {
            ids[i] = ids[(int) keys[i]];
            vals[i] = vals[(int) keys[i]];
        }
        return keep;
    }

    /**
     * XTC: with chance xtc.probability, removes every candidate at least xtc.threshold likely except the least
     * likely of them, when at least two are.
     */
    private int xtc(int m) {
        GenerationParams.Xtc x = p.xtc();
        if (x.probability() <= 0 || x.threshold() > 0.5f || m < 2) {
            return m;
        }
        if (random.nextDouble() > x.probability()) {
            return m;
        }
        softmax(m);
        int last = 0;
        while (last + 1 < m && probs[last + 1] >= x.threshold()) {
            last++;
        }
        if (last == 0 || probs[0] < x.threshold()) {
            return m;
        }
        System.arraycopy(ids, last, ids, 0, m - last);
        System.arraycopy(vals, last, vals, 0, m - last);
        return m - last;
    }

    /**
     * Mirostat 1 or 2 on logits at the temperature (greedy at temperature ≤ 0, as llama.cpp's temperature stage
     * leaves only the best). Version 1 estimates the distribution's Zipf exponent from the 100 best and keeps the
     * top k that aims at mu; version 2 keeps the candidates whose surprise is at most mu. Then mu moves by eta
     * towards tau after each draw.
     */
    private int mirostat(float[] l, int n) {
        if (p.temperature() <= 0) {
            return argmax(l, n);
        }
        GenerationParams.Mirostat ms = p.mirostat();
        int m = topK(l, n, n);
        for (int i = 0; i < m; i++) {
            vals[i] /= p.temperature();
        }
        softmax(m);
        if (ms.version() == 1) {
            double sumTiBi = 0;
            double sumTiSq = 0;
            for (int i = 0; i < 99 && i < m - 1; i++) {
                double ti = Math.log((i + 2) / (double) (i + 1));
                double bi = Math.log(probs[i] / (double) probs[i + 1]);
                sumTiBi += ti * bi;
                sumTiSq += ti * ti;
            }
            double sHat = sumTiBi / sumTiSq;
            double epsilonHat = sHat - 1;
            double k = Math.pow(epsilonHat * Math.pow(2, mu) / (1 - Math.pow(n, -epsilonHat)), 1 / sHat);
            m = (int) Math.max(1, Math.min(m, Double.isNaN(k) ? 1 : k));
        } else {
            int keep = 0;
            while (keep < m && -log2(probs[keep]) <= mu) {
                keep++;
            }
            m = Math.max(1, keep);
        }
        softmax(m);
        int idx = draw(m);
        float surprise = (float) -log2(probs[idx]);
        mu -= ms.eta() * (surprise - ms.tau());
        return ids[idx];
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    /**
     * DRY: a candidate that would extend a sequence of the recent history already seen earlier in it, by more than
     * the allowed length, loses multiplier · base^(length − allowed). Sequences stop at breakers. Returns the
     * logits with the penalties (a private copy; {@code original}, the caller's array, is never written).
     */
    private float[] applyDry(float[] l, float[] original, int[] history, int historyLength) {
        GenerationParams.Dry dry = p.dry();
        if (!dry.active()) {
            return l;
        }
        int window = dry.penaltyLastN() == -1 ? historyLength : Math.min(dry.penaltyLastN(), historyLength);
        if (window <= dry.allowedLength()) {
            return l;
        }
        int end = historyLength - 1; // rat(i) = history[end - i], the i-th token back
        // 1: the nearest breaker bounds how far back a repetition may reach
        int limit = window;
        for (int i = 0; i < window; i++) {
            java.util.List<int[]> tails = breakers.tails(history[end - i]);
            if (tails == null) {
                continue;
            }
            int longest = -1;
            for (int[] tail : tails) {
                if (tail.length > longest && tail.length <= i) {
                    boolean match = true;
                    for (int o = 0; o < tail.length && match; o++) {
                        match = tail[o] == history[end - (i - o - 1)];
                    }
                    if (match) {
                        longest = tail.length;
                    }
                }
            }
            if (longest >= 0) {
                limit = i - longest;
                break;
            }
        }
        if (limit < dry.allowedLength()) {
            return l;
        }
        // 2: Z-array of the reversed window: z[k] = how many tokens before position end - k match the newest ones
        if (dryZ == null || dryZ.length < window) {
            dryZ = new int[Math.max(window, 64)];
        }
        if (dryMax == null) {
            dryMax = new int[vals.length];
        }
        int[] z = dryZ;
        int left = 0;
        int right = 0;
        boolean any = false;
        for (int k = 1; k < window; k++) {
            int len = k < right ? Math.min(right - k, z[k - left]) : 0;
            while (k + len < window && history[end - len] == history[end - k - len]) {
                len++;
            }
            z[k] = len;
            if (k + len > right) {
                left = k;
                right = k + len;
            }
            // 3: the token that followed that earlier occurrence would extend the repetition
            int repeat = Math.min(len, limit);
            if (repeat >= dry.allowedLength()) {
                int next = history[end - k + 1];
                if (repeat > dryMax[next]) {
                    dryMax[next] = repeat;
                    any = true;
                }
            }
        }
        if (!any) {
            return l;
        }
        if (l == original) {
            if (work == null) {
                work = new float[original.length];
            }
            System.arraycopy(original, 0, work, 0, original.length);
            l = work;
        }
        // 4: the penalties; the exponent is capped where base^exponent would overflow a float
        int maxExponent = dry.base() > 1.000001f ? (int) (88.7228391f / Math.log(dry.base())) : 0;
        for (int k = 1; k < window; k++) {
            int next = history[end - k + 1];
            int repeat = dryMax[next];
            if (repeat == 0) {
                continue; // not extended, or already applied
            }
            dryMax[next] = 0;
            if (breakers.breaksAlone(next)) {
                continue;
            }
            int exponent = repeat - dry.allowedLength();
            if (maxExponent > 0 && exponent > maxExponent) {
                exponent = maxExponent;
            }
            l[next] -= (float) (dry.multiplier() * Math.pow(dry.base(), exponent));
        }
        return l;
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
