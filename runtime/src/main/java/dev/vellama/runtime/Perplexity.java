package dev.vellama.runtime;

import java.nio.file.Path;

import dev.vellama.VellamaException;

/**
 * Perplexity as llama.cpp's {@code llama-perplexity} computes it: the tokens (BOS first) are cut into chunks of
 * the context size, each chunk starts with BOS, and the negative log-likelihood of the predictions in the second
 * half of every chunk is averaged; PPL = exp(mean NLL).
 */
public final class Perplexity {
    private Perplexity() {}

    /**
     * Result with the standard error of the mean NLL, propagated to PPL as llama.cpp reports it.
     *
     * @param ppl         the perplexity, exp(mean NLL) over all scored predictions
     * @param stderr      its uncertainty: the standard error of the mean NLL times the perplexity
     * @param chunks      chunks scored
     * @param predictions tokens scored, the second half of each chunk less its last position
     */
    public record Result(double ppl, double stderr, int chunks, int predictions) {}

    /** Called after each chunk with the running perplexity (llama-perplexity prints {@code [1]348.0763,}). */
    public interface Progress {
        /**
         * Reports a finished chunk.
         *
         * @param done  chunks scored so far
         * @param total chunks to score in all
         * @param ppl   the perplexity over the chunks scored so far
         */
        void chunk(int done, int total, double ppl);
    }

    /**
     * Scores every whole chunk of {@code tokens}, with no progress reports and no base file.
     *
     * @param session   the session to evaluate with; its cache is overwritten
     * @param tokens    the tokenized text; a last partial chunk is left out
     * @param chunkSize tokens per chunk, at most the session's context
     * @return the perplexity and its uncertainty
     * @throws VellamaException if the text is shorter than one chunk or a chunk does not fit the context
     */
    public static Result compute(Session session, int[] tokens, int chunkSize) {
        return compute(session, tokens, chunkSize, -1, null, null);
    }

    /**
     * Scores at most {@code maxChunks} chunks (all for -1), telling {@code progress} after each; with {@code base}
     * set, each scored position's log-probabilities are written to it (llama-perplexity's
     * {@code --kl-divergence-base}), and the NLL is computed as that writer does.
     *
     * @param session   the session to evaluate with; its cache is overwritten
     * @param tokens    the tokenized text; a last partial chunk is left out
     * @param chunkSize tokens per chunk, at most the session's context
     * @param maxChunks the most chunks to score, or -1 for all
     * @param progress  told after each chunk; null for none
     * @param base      file to write the log-probabilities to, replaced if it exists; null for none
     * @return the perplexity and its uncertainty
     * @throws VellamaException if the text is shorter than one chunk, a chunk does not fit the context, or
     *                          {@code base} cannot be written
     */
    public static Result compute(Session session, int[] tokens, int chunkSize, int maxChunks, Progress progress,
            Path base) {
        int chunks = tokens.length / chunkSize;
        if (maxChunks >= 0) {
            chunks = Math.min(chunks, maxChunks);
        }
        if (chunks == 0) {
            throw new VellamaException("the text has " + tokens.length + " tokens, fewer than one chunk of " + chunkSize);
        }
        if (chunkSize > session.contextSize()) {
            throw new VellamaException("chunks of " + chunkSize + " tokens do not fit the context of " + session.contextSize());
        }
        int bos = session.model().tokenizer().addsBos() ? session.model().tokenizer().bos() : -1; // as llama.cpp
        int vocab = session.model().config().vocabSize();
        int first = chunkSize / 2;
        double sum = 0;
        double sumSq = 0;
        int count = 0;
        int[] chunk = new int[chunkSize];
        try (LogProbsFile.Writer writer = base == null ? null : new LogProbsFile.Writer(base, chunkSize, vocab, chunks, tokens)) {
            for (int c = 0; c < chunks; c++) {
                int start = c * chunkSize;
                System.arraycopy(tokens, start, chunk, 0, chunkSize);
                if (bos >= 0) {
                    chunk[0] = bos;
                }
                float[] logits = session.evaluateAll(chunk);
                for (int j = first; j < chunkSize - 1; j++) {
                    int target = tokens[start + j + 1];
                    double nll = writer != null ? writer.write(logits, j * vocab, target)
                            : Logprobs.logSumExp(logits, j * vocab, vocab) - logits[j * vocab + target];
                    sum += nll;
                    sumSq += nll * nll;
                    count++;
                }
                if (progress != null) {
                    progress.chunk(c + 1, chunks, Math.exp(sum / count));
                }
            }
        }
        double mean = sum / count;
        double variance = sumSq / count - mean * mean;
        double stderrNll = Math.sqrt(Math.max(variance, 0) / Math.max(count - 1, 1));
        double ppl = Math.exp(mean);
        return new Result(ppl, stderrNll * ppl, chunks, count);
    }
}
