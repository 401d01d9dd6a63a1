package dev.vellama.runtime;

import java.util.ArrayList;
import java.util.List;

/** Log-softmax of raw logits, for reporting. */
final class Logprobs {
    private Logprobs() {}

    /** log Σ exp(logits), computed stably. */
    static double logSumExp(float[] logits, int from, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < from + n; i++) {
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        for (int i = from; i < from + n; i++) {
            sum += Math.exp(logits[i] - max);
        }
        return max + Math.log(sum);
    }

    /** The {@code count} most likely tokens with their log-probabilities, most likely first. */
    static List<TokenLogprob> top(float[] logits, int n, int count, double lse) {
        List<TokenLogprob> out = new ArrayList<>(count);
        if (count <= 0) {
            return out;
        }
        int[] best = new int[Math.min(count, n)];
        int size = 0;
        for (int i = 0; i < n; i++) {
            if (size < best.length) {
                best[size++] = i;
                for (int j = size - 1; j > 0 && logits[best[j]] > logits[best[j - 1]]; j--) {
                    int t = best[j];
                    best[j] = best[j - 1];
                    best[j - 1] = t;
                }
            } else if (logits[i] > logits[best[size - 1]]) {
                best[size - 1] = i;
                for (int j = size - 1; j > 0 && logits[best[j]] > logits[best[j - 1]]; j--) {
                    int t = best[j];
                    best[j] = best[j - 1];
                    best[j - 1] = t;
                }
            }
        }
        for (int i = 0; i < size; i++) {
            out.add(new TokenLogprob(best[i], (float) (logits[best[i]] - lse)));
        }
        return out;
    }
}
