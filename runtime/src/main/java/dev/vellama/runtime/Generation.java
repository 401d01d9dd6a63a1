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
    /** Tokens a speculative round sampled beyond the one it returned, handed out before the next step. */
    private final java.util.ArrayDeque<GeneratedToken> sampledAhead = new java.util.ArrayDeque<>();
    /** One row of a speculative round's logits, as the sampler takes them. */
    private float[] row;
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
        while (ready == null && (!sampledAhead.isEmpty() || !continuation.ended())) {
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
        if (!sampledAhead.isEmpty()) {
            return sampledAhead.poll();
        }
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
        } else if (speculate()) {
            return sampledAhead.poll(); // null when the round released nothing (an end with no held-back text)
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

    /**
     * One speculative round, when the session has a draft that proposes now: the last sampled token and the draft's
     * proposals go through the model in one pass, and each position's token is sampled from its row as a plain
     * step would sample it, while it equals the proposal there; the cache then keeps what was evaluated up to the
     * last token kept. The tokens sampled go to {@link #sampledAhead}. False when the draft proposed nothing.
     */
    private boolean speculate() {
        int last = continuation.lastId();
        int[] proposed = session.propose(last, continuation.remaining() - 1); // the round samples one more than it proposes
        if (proposed.length == 0) {
            return false;
        }
        int p0 = session.position();
        int[] tokens = new int[proposed.length + 1];
        tokens[0] = last;
        System.arraycopy(proposed, 0, tokens, 1, proposed.length);
        float[] rows = session.stepRows(tokens);
        if (rows == null) {
            session.takeCancel();
            add(end(StopReason.CANCELLED));
            return true;
        }
        int vocab = session.model().config().vocabSize();
        int kept = tokens.length; // cells of this round the cache keeps
        for (int i = 0; i < tokens.length; i++) {
            // at row i the cache holds the round's tokens up to tokens[i], the last one sampled
            if (continuation.limitReached()) {
                kept = i; // as plain decoding, which never evaluates the last token sampled
                add(end(StopReason.LENGTH));
                break;
            }
            if (session.takeCancel()) {
                kept = i;
                add(end(StopReason.CANCELLED));
                break;
            }
            if (row == null) {
                row = new float[vocab];
            }
            System.arraycopy(rows, i * vocab, row, 0, vocab); // the sampler may change the logits it is given
            add(continuation.next(row, session.cachedTokens(), p0 + i + 1));
            if (continuation.ended()) {
                kept = i + 1;
                generationNanos = System.nanoTime() - generationStart;
                forgotten = session.takeForgotten();
                break;
            }
            if (i + 1 < tokens.length && continuation.lastId() == tokens[i + 1]) {
                session.draftAccepted();
            } else {
                kept = i + 1;
                break;
            }
        }
        session.keepCells(p0 + kept);
        return true;
    }

    private void add(GeneratedToken t) {
        if (t != null) {
            sampledAhead.add(t);
        }
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
