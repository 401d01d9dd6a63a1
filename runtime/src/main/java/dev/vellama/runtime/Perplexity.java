package dev.vellama.runtime;

import dev.vellama.VellamaException;

/**
 * Perplexity as llama.cpp's {@code llama-perplexity} computes it: the tokens (BOS first) are cut into chunks of
 * the context size, each chunk starts with BOS, and the negative log-likelihood of the predictions in the second
 * half of every chunk is averaged; PPL = exp(mean NLL).
 */
public final class Perplexity {
    private Perplexity() {}

    /** Result with the standard error of the mean NLL, propagated to PPL as llama.cpp reports it. */
    public record Result(double ppl, double stderr, int chunks, int predictions) {}

    public static Result compute(Session session, int[] tokens, int chunkSize) {
        int chunks = tokens.length / chunkSize;
        if (chunks == 0) {
            throw new VellamaException("the text has " + tokens.length + " tokens, fewer than one chunk of " + chunkSize);
        }
        int bos = session.model().tokenizer().bos();
        int vocab = session.model().config().vocabSize();
        int first = chunkSize / 2;
        double sum = 0;
        double sumSq = 0;
        int count = 0;
        int[] chunk = new int[chunkSize];
        for (int c = 0; c < chunks; c++) {
            int start = c * chunkSize;
            System.arraycopy(tokens, start, chunk, 0, chunkSize);
            if (bos >= 0) {
                chunk[0] = bos;
            }
            float[] logits = session.evaluateAll(chunk);
            for (int j = first; j < chunkSize - 1; j++) {
                int target = tokens[start + j + 1];
                double nll = Logprobs.logSumExp(logits, j * vocab, vocab) - logits[j * vocab + target];
                sum += nll;
                sumSq += nll * nll;
                count++;
            }
        }
        double mean = sum / count;
        double variance = sumSq / count - mean * mean;
        double stderrNll = Math.sqrt(Math.max(variance, 0) / Math.max(count - 1, 1));
        double ppl = Math.exp(mean);
        return new Result(ppl, stderrNll * ppl, chunks, count);
    }
}
