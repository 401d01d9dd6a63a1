package dev.vellama.runtime;

import java.util.Arrays;

import dev.vellama.VellamaException;

/**
 * How far a model's predictions are from a base model's, as llama-perplexity's {@code --kl-divergence} measures
 * them: the base's log-probabilities come from a {@link LogProbsFile}; for each scored position this model's
 * logits give its NLL, the KL divergence from the base distribution (over tokens the base gives more than e^-16),
 * the change in the probability of the right token, and whether both put the same token on top. The statistics and
 * their uncertainties are llama.cpp's formulas.
 */
public final class KlDivergence {
    private KlDivergence() {}

    /**
     * A value and its uncertainty (standard error).
     *
     * @param value       the estimate
     * @param uncertainty its standard error, 0 when there are too few samples to tell
     */
    public record Estimate(double value, double uncertainty) {}

    /** Called after each chunk with the running statistics. */
    public interface Progress {
        /**
         * Reports a finished chunk.
         *
         * @param done  chunks scored so far
         * @param total chunks in the base file
         * @param soFar the statistics over the chunks scored so far, without the sorted arrays (null there)
         */
        void chunk(int done, int total, Result soFar);
    }

    /**
     * The statistics llama-perplexity prints, over {@code count} scored positions.
     *
     * @param count             scored positions
     * @param ppl               this model's perplexity
     * @param pplBase           the base model's perplexity
     * @param logPplCorrelation correlation of the two models' NLLs over the positions (llama.cpp's Cor(ln(PPL(Q)),
     *                          ln(PPL(base))))
     * @param logPplRatio       ln(PPL(Q) / PPL(base)), the difference of the two mean NLLs
     * @param pplRatio          PPL(Q) / PPL(base)
     * @param pplDifference     PPL(Q) - PPL(base)
     * @param kld               mean KL divergence from the base distribution, in nats
     * @param pDifference       mean change in the probability of the right token (this model's minus the base's)
     * @param pDifferenceRms    root mean square of that change
     * @param sameTop           fraction of positions where both models put the same token on top
     * @param sortedKld         every position's KL divergence, ascending, for percentiles; null in progress reports
     * @param sortedPDifference every position's change in the right token's probability, ascending; null in progress
     *                          reports
     */
    public record Result(int count, Estimate ppl, Estimate pplBase, double logPplCorrelation, Estimate logPplRatio,
                         Estimate pplRatio, Estimate pplDifference, Estimate kld, Estimate pDifference,
                         Estimate pDifferenceRms, Estimate sameTop, float[] sortedKld, float[] sortedPDifference) {

        /**
         * llama.cpp's percentile: linear between neighbours of the sorted values.
         *
         * @param sorted   values in ascending order, at least one
         * @param fraction which percentile, from 0 (the smallest value) to 1 (the largest)
         * @return the interpolated value
         */
        public static float percentile(float[] sorted, float fraction) {
            if (fraction <= 0) {
                return sorted[0];
            }
            if (fraction >= 1) {
                return sorted[sorted.length - 1];
            }
            float p = fraction * (sorted.length - 1);
            int ip = (int) p;
            p -= ip;
            return (1 - p) * sorted[ip] + p * sorted[Math.min(ip + 1, sorted.length - 1)];
        }

        /**
         * The median, the mean of the two middle values for an even count.
         *
         * @param sorted values in ascending order, at least one
         * @return the median
         */
        public static float median(float[] sorted) {
            int n = sorted.length;
            return n % 2 == 0 ? 0.5f * (sorted[n / 2] + sorted[n / 2 - 1]) : sorted[n / 2];
        }
    }

    /** Sums over scored positions, as llama.cpp's {@code kl_divergence_result}. */
    private static final class Sums {
        double nll, nll2, nllBase, nllBase2, nllNllBase, kld, kld2, pDiff, pDiff2, pDiff4;
        long sameTop;
        int count;
    }

    /**
     * Scores every chunk of {@code base} with {@code session}'s model and compares: the chunks are the base run's
     * tokens, each evaluated from an empty cache with BOS first where the model adds one.
     *
     * @param session  the session to evaluate with; its context must hold a chunk, and its cache is overwritten
     * @param base     the base model's log-probabilities, read chunk by chunk (it is left at its end)
     * @param progress told after each chunk; null for none
     * @return the statistics over every scored position
     * @throws VellamaException if the file's vocabulary is not the model's, or its chunks do not fit the context
     */
    public static Result compare(Session session, LogProbsFile.Reader base, Progress progress) {
        int vocab = session.model().config().vocabSize();
        if (base.vocab() != vocab) {
            throw new VellamaException("the base log-probabilities are over " + base.vocab() + " tokens, the model's vocabulary "
                    + vocab + ": not the same tokenizer");
        }
        int n = base.chunkSize();
        if (n > session.contextSize()) {
            throw new VellamaException("the base was computed with chunks of " + n + " tokens, more than the context of "
                    + session.contextSize() + "; give -c " + n);
        }
        int[] tokens = base.tokens();
        int bos = session.model().tokenizer().bos();
        boolean addBos = session.model().tokenizer().addsBos();
        int first = n / 2;
        int scored = LogProbsFile.scoredPerChunk(n);
        int rowLength = LogProbsFile.rowLength(vocab);
        float[] kldValues = new float[scored * base.chunks()];
        float[] pDiffValues = new float[scored * base.chunks()];
        Sums sums = new Sums();
        int[] chunk = new int[n];
        for (int c = 0; c < base.chunks(); c++) {
            short[] rows = base.nextChunk();
            System.arraycopy(tokens, c * n, chunk, 0, n);
            if (addBos && bos >= 0) {
                chunk[0] = bos;
            }
            float[] logits = session.evaluateAll(chunk);
            for (int j = 0; j < scored; j++) {
                int pos = first + j;
                int target = tokens[c * n + pos + 1];
                position(logits, pos * vocab, vocab, rows, j * rowLength, target, sums, kldValues, pDiffValues,
                        c * scored + j);
            }
            if (progress != null) {
                progress.chunk(c + 1, base.chunks(), result(sums, null, null));
            }
        }
        float[] k = Arrays.copyOf(kldValues, sums.count);
        float[] p = Arrays.copyOf(pDiffValues, sums.count);
        Arrays.sort(k);
        Arrays.sort(p);
        return result(sums, k, p);
    }

    /** One scored position, as llama.cpp's {@code log_softmax} with a base row (float arithmetic where it uses it). */
    private static void position(float[] logits, int from, int vocab, short[] rows, int row, int target, Sums s,
            float[] kldValues, float[] pDiffValues, int index) {
        float maxLogit = logits[from];
        int top = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[from + i] > maxLogit) {
                maxLogit = logits[from + i];
                top = i;
            }
        }
        double sumExp = 0;
        for (int i = 0; i < vocab; i++) {
            sumExp += (float) Math.exp(logits[from + i] - maxLogit);
        }
        float logSumExp = (float) Math.log(sumExp);
        float scale = Float.intBitsToFloat((rows[row] & 0xffff) | rows[row + 1] << 16);
        float minLogProb = Float.intBitsToFloat((rows[row + 2] & 0xffff) | rows[row + 3] << 16);
        int base = row + 4;

        float nll = maxLogit + logSumExp - logits[from + target];
        s.nll += nll;
        s.nll2 += nll * nll;
        float nllBase = -(scale * (rows[base + target] & 0xffff) + minLogProb);
        s.nllBase += nllBase;
        s.nllBase2 += nllBase * nllBase;
        s.nllNllBase += nll * nllBase;

        maxLogit += logSumExp;
        double sum = 0;
        int topBase = -1;
        float baseMax = 0;
        for (int i = 0; i < vocab; i++) {
            float logBase = scale * (rows[base + i] & 0xffff) + minLogProb;
            if (i == 0 || logBase > baseMax) {
                baseMax = logBase;
                topBase = i;
            }
            if (logBase > -16f) {
                float pBase = (float) Math.exp(logBase);
                sum += pBase * (logBase - logits[from + i] + maxLogit);
            }
        }
        s.kld += sum;
        s.kld2 += sum * sum;
        s.count++;
        if (top == topBase) {
            s.sameTop++;
        }
        float pBase = (float) Math.exp(-nllBase);
        float p = (float) Math.exp(-nll);
        float pDiff = p - pBase;
        s.pDiff += pDiff;
        double pDiff2 = (double) pDiff * pDiff;
        s.pDiff2 += pDiff2;
        s.pDiff4 += pDiff2 * pDiff2;
        kldValues[index] = (float) sum;
        pDiffValues[index] = pDiff;
    }

    private static Estimate meanAndUncertainty(double sum, double sum2, int count) {
        if (count < 1) {
            return new Estimate(0, 0);
        }
        double f = sum / count;
        double df = sum2 / count - f * f;
        df = df > 0 && count > 10 ? Math.sqrt(df / (count - 1)) : 0;
        return new Estimate(f, df);
    }

    private static double covariance(double a, double b, double ab, int count) {
        if (count < 10) {
            return 0;
        }
        return (ab / count - (a / count) * (b / count)) / (count - 1);
    }

    private static Result result(Sums s, float[] sortedKld, float[] sortedPDiff) {
        Estimate logPpl = meanAndUncertainty(s.nll, s.nll2, s.count);
        double ppl = Math.exp(logPpl.value());
        Estimate pplQ = new Estimate(ppl, ppl * logPpl.uncertainty());
        Estimate logPplBase = meanAndUncertainty(s.nllBase, s.nllBase2, s.count);
        double pplBase = Math.exp(logPplBase.value());
        Estimate pplB = new Estimate(pplBase, pplBase * logPplBase.uncertainty());
        double cov = covariance(s.nll, s.nllBase, s.nllNllBase, s.count);
        double cor = cov / (logPpl.uncertainty() * logPplBase.uncertainty());
        double ratioLog = logPpl.value() - logPplBase.value();
        double ratioLogUnc = Math.sqrt(logPpl.uncertainty() * logPpl.uncertainty()
                + logPplBase.uncertainty() * logPplBase.uncertainty() - 2 * cov);
        double ratio = Math.exp(ratioLog);
        double pplCov = ppl * pplBase * cov;
        double diffUnc = Math.sqrt(pplQ.uncertainty() * pplQ.uncertainty() + pplB.uncertainty() * pplB.uncertainty() - 2 * pplCov);
        Estimate kld = meanAndUncertainty(s.kld, s.kld2, s.count);
        Estimate pDiff = meanAndUncertainty(s.pDiff, s.pDiff2, s.count);
        Estimate mse = meanAndUncertainty(s.pDiff2, s.pDiff4, s.count);
        double rms = Math.sqrt(mse.value());
        double same = (double) s.sameTop / s.count;
        return new Result(s.count, pplQ, pplB, cor, new Estimate(ratioLog, ratioLogUnc), new Estimate(ratio, ratio * ratioLogUnc),
                new Estimate(ppl - pplBase, diffUnc), kld, pDiff, new Estimate(rms, 0.5 / rms * mse.uncertainty()),
                new Estimate(same, Math.sqrt(same * (1 - same) / (s.count - 1))), sortedKld, sortedPDiff);
    }
}
