package dev.vellama.runtime;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * One generation, pulled token by token: the prompt is evaluated on the first {@link #hasNext()}; each token is
 * handed out as soon as it is sampled, and the model sees it (the next forward pass) only when the caller asks for
 * the one after. So the text of a token reaches the caller one forward pass sooner than if the pass ran first,
 * and a caller that stops pulling after the last token it wants pays for no extra pass. Text that might begin a
 * stop string is held back until it is decided, so no stop string ever reaches the caller.
 */
public final class Generation implements Iterator<GeneratedToken> {
    private final Session session;
    private final int[] prompt;
    private final Continuation continuation;
    private final boolean shift;
    private final int keep;

    private boolean prefilled;
    private long promptNanos;
    private int promptEvaluated;
    private long generationStart;
    private long generationNanos;
    private GeneratedToken ready;
    private int forgotten;

    Generation(Session session, int[] prompt, GenerationParams params, boolean shift, int keep) {
        this.session = session;
        this.prompt = prompt.clone();
        this.shift = shift;
        this.keep = keep;
        this.continuation = new Continuation(session.model().tokenizer(), session.model().config().vocabSize(), params,
                session.kernels());
        session.clearCancel();
        session.takeForgotten();
    }

    @Override
    public boolean hasNext() {
        while (ready == null && !continuation.ended()) {
            ready = advance();
        }
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

    /**
     * One step: ends the generation when it must (limit, cancel, full context), else runs the forward pass that
     * gives the next logits (the prompt first, then the last token) and samples from them. Null when the step
     * released nothing (an end with no held-back text).
     */
    private GeneratedToken advance() {
        float[] logits;
        if (!prefilled) {
            long t0 = System.nanoTime();
            logits = session.prefill(prompt, shift, keep);
            promptNanos = System.nanoTime() - t0;
            promptEvaluated = session.lastPrefillEvaluated();
            generationStart = System.nanoTime();
            prefilled = true;
            if (logits == null) {
                session.takeCancel();
                return end(StopReason.CANCELLED);
            }
        } else if (continuation.limitReached()) {
            return end(StopReason.LENGTH);
        } else if (session.takeCancel()) {
            return end(StopReason.CANCELLED);
        } else if (session.position() >= session.contextSize() && !(shift && session.makeRoom(keep))) {
            return end(StopReason.CONTEXT);
        } else {
            logits = session.step(continuation.lastId());
            if (logits == null) {
                session.takeCancel();
                return end(StopReason.CANCELLED);
            }
        }
        if (continuation.limitReached()) {
            return end(StopReason.LENGTH); // a limit of 0 tokens
        }
        GeneratedToken t = continuation.next(logits, session.cachedTokens(), session.position());
        if (continuation.ended()) {
            generationNanos = System.nanoTime() - generationStart;
            forgotten = session.takeForgotten();
        }
        return t;
    }

    private GeneratedToken end(StopReason reason) {
        forgotten = session.takeForgotten();
        GeneratedToken t = continuation.finish(reason);
        generationNanos = System.nanoTime() - generationStart;
        return t;
    }

    /** {@return why the generation ended; null while it runs} */
    public StopReason stopReason() {
        return continuation.stopReason();
    }

    /**
     * The summary; call after the last token.
     *
     * @return the prompt, the tokens and text generated, why it ended, its timings and the tokens context shifts forgot
     * @throws IllegalStateException if the generation has not ended
     */
    public GenerationResult result() {
        if (continuation.stopReason() == null) {
            throw new IllegalStateException("the generation has not ended");
        }
        List<GeneratedToken> tokens = continuation.tokens();
        Timings timings = new Timings(promptEvaluated, promptNanos, tokens.size(), generationNanos);
        return new GenerationResult(prompt, List.copyOf(tokens), continuation.text(), continuation.stopReason(), timings,
                forgotten);
    }
}
