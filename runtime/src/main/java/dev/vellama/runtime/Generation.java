package dev.vellama.runtime;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import dev.vellama.runtime.tokenizer.StreamingDecoder;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * One generation, pulled token by token: the prompt is evaluated on the first {@link #hasNext()}, then each
 * {@link #next()} samples a token, releases the text it completes and feeds it back. Text that might begin a stop
 * string is held back until it is decided, so no stop string ever reaches the caller.
 */
public final class Generation implements Iterator<GeneratedToken> {
    private final Session session;
    private final int[] prompt;
    private final GenerationParams params;
    private final Tokenizer tokenizer;
    private final Sampler sampler;
    private final StreamingDecoder decoder;
    private final List<GeneratedToken> tokens = new ArrayList<>();
    private final StringBuilder released = new StringBuilder();
    private final StringBuilder pending = new StringBuilder();
    private final int vocab;
    private final float[] probabilities;

    private float[] logits;
    private StopReason stopReason;
    private long promptNanos;
    private int promptEvaluated;
    private long generationStart;
    private long generationNanos;
    private GeneratedToken ready;

    Generation(Session session, int[] prompt, GenerationParams params) {
        this.session = session;
        this.prompt = prompt.clone();
        this.params = params;
        this.tokenizer = session.model().tokenizer();
        this.vocab = session.model().config().vocabSize();
        this.sampler = new Sampler(params, vocab);
        this.probabilities = new float[vocab];
        this.decoder = tokenizer.streamingDecoder();
        session.clearCancel();
    }

    @Override
    public boolean hasNext() {
        if (ready != null) {
            return true;
        }
        if (stopReason != null) {
            return false;
        }
        if (logits == null) {
            long t0 = System.nanoTime();
            logits = session.prefill(prompt);
            promptNanos = System.nanoTime() - t0;
            promptEvaluated = session.lastPrefillEvaluated();
            generationStart = System.nanoTime();
        }
        ready = produce();
        return ready != null;
    }

    @Override
    public GeneratedToken next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        GeneratedToken t = ready;
        ready = null;
        return t;
    }

    /** Samples the next token, or ends the generation (returning the held-back text as a last empty-id token). */
    private GeneratedToken produce() {
        if (params.maxTokens() >= 0 && tokens.size() >= params.maxTokens()) {
            return finish(StopReason.LENGTH);
        }
        if (session.takeCancel()) {
            return finish(StopReason.CANCELLED);
        }
        int[] history = session.cachedTokens();
        int id = sampler.sample(logits, history, session.position());
        if (tokenizer.isEndOfGeneration(id)) {
            return finish(StopReason.EOS);
        }
        double lse = logSumExp();
        float logprob = (float) (logits[id] - lse);
        List<TokenLogprob> top = Logprobs.top(logits, vocab, params.topLogprobs(), lse);

        pending.append(decoder.push(id));
        String text;
        int stopAt = firstStop();
        if (stopAt >= 0) {
            text = pending.substring(0, stopAt);
            pending.setLength(0);
            stopReason = StopReason.STOP;
        } else {
            int hold = heldBack();
            text = pending.substring(0, pending.length() - hold);
            pending.delete(0, pending.length() - hold);
        }
        released.append(text);
        GeneratedToken t = new GeneratedToken(id, text, logprob, top);
        tokens.add(t);
        boolean lastAllowed = params.maxTokens() >= 0 && tokens.size() >= params.maxTokens();
        if (stopReason == null && !lastAllowed) {
            // feed the token back for the next step's logits (not after the last allowed token: nothing would use them)
            if (session.position() >= session.contextSize()) {
                stopReason = StopReason.CONTEXT;
            } else {
                logits = session.step(id);
            }
        }
        if (stopReason != null) {
            generationNanos = System.nanoTime() - generationStart;
        }
        return t;
    }

    private GeneratedToken finish(StopReason reason) {
        stopReason = reason;
        generationNanos = System.nanoTime() - generationStart;
        pending.append(decoder.flush());
        if (pending.isEmpty()) {
            return null;
        }
        // release what was held back for a stop string that never came
        String text = pending.toString();
        pending.setLength(0);
        released.append(text);
        return new GeneratedToken(-1, text, 0f, List.of());
    }

    /**
     * log Σ exp(logits) through the vectorized softmax: lse = l_best − ln p_best, where p_best ≥ 1/vocab cannot
     * underflow.
     */
    private double logSumExp() {
        System.arraycopy(logits, 0, probabilities, 0, vocab);
        session.kernels().softmax(probabilities, 0, vocab);
        int best = Sampler.argmax(logits, vocab);
        return logits[best] - Math.log(probabilities[best]);
    }

    /** Index in {@code pending} where a stop string starts, or -1. */
    private int firstStop() {
        int best = -1;
        for (String s : params.stop()) {
            if (s.isEmpty()) {
                continue;
            }
            int i = pending.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }

    /** Length of the longest end of {@code pending} that begins some stop string. */
    private int heldBack() {
        int hold = 0;
        for (String s : params.stop()) {
            for (int len = Math.min(s.length() - 1, pending.length()); len > hold; len--) {
                if (pending.substring(pending.length() - len).equals(s.substring(0, len))) {
                    hold = len;
                    break;
                }
            }
        }
        return hold;
    }

    /** Why the generation ended; null while it runs. */
    public StopReason stopReason() {
        return stopReason;
    }

    /** The summary; call after the last token. */
    public GenerationResult result() {
        if (stopReason == null) {
            throw new IllegalStateException("the generation has not ended");
        }
        Timings timings = new Timings(promptEvaluated, promptNanos, tokens.size(), generationNanos);
        return new GenerationResult(prompt, List.copyOf(tokens), released.toString(), stopReason, timings);
    }
}
