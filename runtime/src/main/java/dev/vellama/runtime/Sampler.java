package dev.vellama.runtime;

/**
 * llama.cpp's sampler chain: logit bias, repetition/frequency/presence penalties over the last N tokens, DRY,
 * top-k, typical-p, top-p, min-p, XTC, temperature, then a seeded draw from the softmax. Temperature ≤ 0 takes the
 * most likely token after the penalties and DRY. With mirostat 1 or 2 the chain is logit bias, temperature and
 * mirostat, as in llama.cpp. Candidate buffers are allocated once per vocabulary.
 *
 * <p>The draws are llama.cpp's: the same random source ({@code std::mt19937} seeded with the seed's low 32 bits, one
 * for the draw and one for XTC, as its samplers each hold one), the same uniform numbers from it, the same float
 * arithmetic in the softmaxes and cut-offs, and the candidates in the order its stages leave them (by logit once
 * a stage has sorted them, by token id when none has). Given the same logits and seed, a run picks the tokens
 * llama.cpp picks (checked against it in {@code SamplerDifferentialTest}).
 */
public final class Sampler {
    private final GenerationParams p;
    private final Mt19937 random;      // the draw's (llama.cpp's dist and mirostat samplers)
    private final Mt19937 xtcRandom;   // XTC's own, seeded alike (llama.cpp's xtc sampler)
    private boolean xtcSorted;         // whether XTC's softmax sorted the candidates in the last call
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
    private int[] typicalIds;    // typical-p's reordered candidates, made on first use
    private float[] typicalVals;
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
        long seed = params.seed() != null ? params.seed() : System.nanoTime() ^ Thread.currentThread().threadId();
        this.random = new Mt19937(seed);
        this.xtcRandom = new Mt19937(seed);
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
        // the candidates in the order llama.cpp's stages leave them: top-k sorts them by logit (descending) and cuts;
        // without it they stay in id order until a stage sorts them (typical-p, top-p, XTC's softmax) or typical-p
        // reorders them; the draw walks them in that order
        int m;
        boolean sorted = p.topK() > 0;
        if (sorted) {
            m = topK(l, n, Math.min(p.topK(), n));
        } else {
            for (int i = 0; i < n; i++) {
                ids[i] = i;
                vals[i] = l[i];
            }
            m = n;
        }
        if (p.typicalP() < 1f) {
            if (!sorted) {
                sortByLogit(m);
            }
            m = typical(m);
            sorted = false;
        }
        // top-p over the softmax of the kept candidates (summed in their order), then cut in logit order
        if (p.topP() < 1f) {
            if (sorted) {
                softmax(m);
            } else {
                // the sum in the candidates' present order, then the probabilities in logit order
                float max = max(m, false);
                float sum = 0f;
                for (int i = 0; i < m; i++) {
                    sum += (float) Math.exp(vals[i] - max);
                }
                sortByLogit(m);
                sorted = true;
                float[] probs = probs();
                for (int i = 0; i < m; i++) {
                    probs[i] = (float) Math.exp(vals[i] - max) / sum;
                }
            }
            float cum = 0f;
            int keep = m;
            for (int i = 0; i < m; i++) {
                cum += probs[i];
                if (cum >= p.topP()) {
                    keep = i + 1;
                    break;
                }
            }
            m = keep;
        }
        // min-p: keep logits within ln(min_p) of the best (in place, in their order)
        if (p.minP() > 0f) {
            float min = max(m, sorted) + (float) Math.log(p.minP());
            if (sorted) {
                int keep = 1;
                while (keep < m && vals[keep] >= min) {
                    keep++;
                }
                m = keep;
            } else {
                int keep = 0;
                for (int i = 0; i < m; i++) {
                    if (vals[i] >= min) {
                        ids[keep] = ids[i];
                        vals[keep++] = vals[i];
                    }
                }
                m = keep;
            }
        }
        m = xtc(m, sorted);
        sorted |= xtcSorted;
        return ids[drawAtTemperature(m, sorted)];
    }

    /** The probabilities' buffer, made the first time a stage needs it (greedy sampling never does). */
    private float[] probs() {
        if (probs == null) {
            probs = new float[vals.length];
        }
        return probs;
    }

    /** The largest of vals[0 .. m): the first when sorted. */
    private float max(int m, boolean sorted) {
        float max = vals[0];
        if (!sorted) {
            for (int i = 1; i < m; i++) {
                max = Math.max(max, vals[i]);
            }
        }
        return max;
    }

    /**
     * llama.cpp's temperature and dist stages over candidates [0, m): each logit divided by the temperature (a
     * float), p = expf(l − max) in floats summed in a double, and the first candidate whose running sum reaches
     * sum × u, u uniform in [0, 1). A single candidate takes no random number.
     */
    private int drawAtTemperature(int m, boolean sorted) {
        if (m == 1) {
            return 0;
        }
        float t = p.temperature();
        float max = max(m, sorted) / t; // division by a positive float keeps the order, so this is the largest l / t
        float[] probs = probs();
        double sum = 0;
        for (int i = 0; i < m; i++) {
            float e = (float) Math.exp(vals[i] / t - max);
            probs[i] = e;
            sum += e;
        }
        double target = sum * random.nextDouble();
        double run = 0;
        for (int i = 0; i < m; i++) {
            run += probs[i];
            if (run >= target) {
                return i;
            }
        }
        return m - 1;
    }

    /** Candidates [0, m) by logit, highest first, ties in id order (a stable order llama.cpp's sorts also give when no logits tie). */
    private void sortByLogit(int m) {
        if (order == null) {
            order = new long[ids.length];
        }
        for (int i = 0; i < m; i++) {
            int bits = Float.floatToIntBits(vals[i]);
            int sortable = bits ^ ((bits >> 31) & 0x7fffffff); // ordered as the floats are, as signed ints
            order[i] = ((long) ~sortable << 32) | ids[i];
        }
        java.util.Arrays.sort(order, 0, m);
        for (int i = 0; i < m; i++) {
            int id = (int) order[i];
            int sortable = ~(int) (order[i] >> 32);
            ids[i] = id;
            vals[i] = Float.intBitsToFloat(sortable ^ ((sortable >> 31) & 0x7fffffff));
        }
    }

    /**
     * Probabilities of candidates vals[0 .. m) (sorted, highest first) at temperature 1 into probs, in floats as
     * llama.cpp's softmax: p = expf(l − max), their float sum, then each p divided by it.
     */
    private void softmax(int m) {
        float[] probs = probs();
        float max = vals[0];
        float sum = 0f;
        for (int i = 0; i < m; i++) {
            float e = (float) Math.exp(vals[i] - max);
            probs[i] = e;
            sum += e;
        }
        for (int i = 0; i < m; i++) {
            probs[i] /= sum;
        }
    }

    /**
     * A draw from probs[0 .. m) as {@code std::discrete_distribution} makes it (llama.cpp's mirostat draws so): the
     * probabilities normalized and summed in doubles, the last sum set to 1, and the first whose sum reaches a
     * uniform u. Fewer than two candidates take no random number.
     */
    private int draw(int m) {
        if (m < 2) {
            return 0;
        }
        double sum = 0;
        for (int i = 0; i < m; i++) {
            sum += probs[i];
        }
        double u = random.nextDouble();
        double cum = 0;
        for (int i = 0; i < m - 1; i++) {
            cum += probs[i] / sum;
            if (cum >= u) {
                return i;
            }
        }
        return m - 1;
    }

    /**
     * Locally typical sampling: keeps the candidates whose surprise is closest to the distribution's entropy until
     * their mass exceeds typical-p (at least one), in that order, as llama.cpp does (the stages after it sort
     * them again where they need to). Candidates must come sorted by logit.
     */
    private int typical(int m) {
        softmax(m);
        float entropy = 0f;
        for (int i = 0; i < m; i++) {
            if (probs[i] > 0) { // a probability that underflowed to 0 adds nothing (llama.cpp's 0·log 0 would be NaN)
                entropy += -probs[i] * (float) Math.log(probs[i]);
            }
        }
        // order candidates by |−log p − H| (ties by rank), packed as sortable keys above the index, in the buffer
        // of the full sort (done with by now)
        if (order == null) {
            order = new long[ids.length];
        }
        long[] keys = order;
        for (int i = 0; i < m; i++) {
            float shifted = Math.abs(-(float) Math.log(probs[i]) - entropy);
            keys[i] = ((long) Float.floatToIntBits(shifted) << 32) | i; // non-negative floats sort as their bits
        }
        java.util.Arrays.sort(keys, 0, m);
        float cum = 0f;
        int keep = m;
        for (int i = 0; i < m; i++) {
            cum += probs[(int) keys[i]];
            if (cum > p.typicalP()) {
                keep = i + 1;
                break;
            }
        }
        // the kept candidates in that order, as llama.cpp leaves them (not sorted by logit)
        if (typicalIds == null) {
            typicalIds = new int[ids.length];
            typicalVals = new float[ids.length];
        }
        for (int i = 0; i < keep; i++) {
            typicalIds[i] = ids[(int) keys[i]];
            typicalVals[i] = vals[(int) keys[i]];
        }
        System.arraycopy(typicalIds, 0, ids, 0, keep);
        System.arraycopy(typicalVals, 0, vals, 0, keep);
        return keep;
    }

    /**
     * XTC: with chance xtc.probability, removes every candidate at least xtc.threshold likely except the least
     * likely of them, when at least two are.
     */
    private int xtc(int m, boolean sorted) {
        GenerationParams.Xtc x = p.xtc();
        xtcSorted = false;
        if (x.probability() <= 0 || x.threshold() > 0.5f || m < 2) {
            return m;
        }
        if (xtcRandom.nextFloat() > x.probability()) {
            return m;
        }
        xtcSorted = true; // llama.cpp's softmax here sorts the candidates
        if (!sorted) {
            sortByLogit(m);
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
        // llama.cpp's arithmetic, in floats
        if (ms.version() == 1) {
            float sumTiBi = 0f;
            float sumTiSq = 0f;
            for (int i = 0; i < 99 && i < m - 1; i++) {
                float ti = (float) Math.log((float) (i + 2) / (float) (i + 1));
                float bi = (float) Math.log(probs[i] / probs[i + 1]);
                sumTiBi += ti * bi;
                sumTiSq += ti * ti;
            }
            float sHat = sumTiBi / sumTiSq;
            float epsilonHat = sHat - 1;
            float k = (float) Math.pow(epsilonHat * (float) Math.pow(2, mu) / (1 - (float) Math.pow(n, -epsilonHat)), 1 / sHat);
            m = (int) Math.max(1, Math.min(m, Float.isNaN(k) ? 1 : k));
        } else {
            int keep = 0;
            while (keep < m && -log2(probs[keep]) <= mu) {
                keep++;
            }
            m = Math.max(1, keep);
        }
        softmax(m);
        int idx = draw(m);
        float surprise = -log2(probs[idx]);
        mu = mu - ms.eta() * (surprise - ms.tau());
        return ids[idx];
    }

    /** log2f: the base-2 logarithm of a float, rounded to a float. */
    private static float log2(float x) {
        return (float) (Math.log(x) / Math.log(2));
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
