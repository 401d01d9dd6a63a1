package dev.vellama.runtime;

import java.util.ArrayList;
import java.util.List;

import dev.vellama.quant.Kernels;
import dev.vellama.runtime.tokenizer.StreamingDecoder;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * The device-free side of one generation: samples each token from the logits it is given, turns it into text,
 * holds back text that might begin a stop string (so no stop string ever reaches the caller) and decides when the
 * generation ends. It never runs the model: a {@link Generation} feeds it one session's logits, a
 * {@link BatchEngine} slot the logits of its row of a shared batch. Not thread-safe.
 */
final class Continuation {
    private final GenerationParams params;
    private final Tokenizer tokenizer;
    private final Kernels kernels;
    private final Sampler sampler;
    private final StreamingDecoder decoder;
    private final List<GeneratedToken> tokens = new ArrayList<>();
    private final StringBuilder released = new StringBuilder();
    private final StringBuilder pending = new StringBuilder();
    /** Spaces and tabs so far of a line after the first whose text has not begun; -1 outside one. */
    private int indent = -1;
    /** When the first token came, for {@link GenerationParams#maxPredictMillis()}; 0 before. */
    private long startNanos;
    /** Whether the released text holds a newline yet, for {@link GenerationParams#maxPredictMillis()}. */
    private boolean lineEnded;
    private final int vocab;
    private final float[] probabilities;
    private GrammarMask grammar; // null until a lazy grammar's trigger appears
    private final LazyStart lazy; // null unless the grammar waits for a trigger
    private StopReason stopReason;
    private int lastId = -1;

    Continuation(Tokenizer tokenizer, int vocab, GenerationParams params, Kernels kernels) {
        this.params = params;
        this.tokenizer = tokenizer;
        this.kernels = kernels;
        this.vocab = vocab;
        this.sampler = new Sampler(params.ignoreEos() ? banEndOfGeneration(params, tokenizer, vocab) : params, vocab,
                params.dry().active() ? DryBreakers.of(tokenizer, params.dry().sequenceBreakers()) : DryBreakers.NONE);
        this.probabilities = params.reportsLogprobs() ? new float[vocab] : null;
        this.decoder = tokenizer.streamingDecoder();
        boolean waits = params.grammar() != null && !params.grammarTriggers().isEmpty();
        this.grammar = params.grammar() != null && !waits ? new GrammarMask(params.grammar(), tokenizer, vocab) : null;
        this.lazy = waits ? new LazyStart(params.grammarTriggers()) : null;
    }

    /**
     * A lazy grammar's wait for its trigger: the output's bytes so far, searched after each token for the first
     * trigger; from there on the grammar reads the output (llama.cpp's lazy grammars).
     */
    private static final class LazyStart {
        private final List<byte[]> triggers = new ArrayList<>();
        private final java.io.ByteArrayOutputStream output = new java.io.ByteArrayOutputStream();
        private final int longest;

        LazyStart(List<String> triggers) {
            int max = 0;
            for (String t : triggers) {
                byte[] b = t.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                this.triggers.add(b);
                max = Math.max(max, b.length);
            }
            this.longest = max;
        }

        /** Adds a token's bytes; returns the output from the first trigger on once one has appeared, else null. */
        byte[] add(byte[] token) {
            int before = output.size();
            output.writeBytes(token);
            byte[] all = output.toByteArray();
            int first = -1;
            for (byte[] t : triggers) {
                // only where the new bytes could complete it
                for (int at = Math.max(0, before - t.length + 1); at + t.length <= all.length; at++) {
                    if (java.util.Arrays.equals(all, at, at + t.length, t, 0, t.length)) {
                        if (first < 0 || at < first) {
                            first = at;
                        }
                        break;
                    }
                }
            }
            return first < 0 ? null : java.util.Arrays.copyOfRange(all, first, all.length);
        }
    }

    /** llama.cpp's --ignore-eos: every end-of-generation token biased to negative infinity, so none is sampled. */
    private static GenerationParams banEndOfGeneration(GenerationParams params, Tokenizer tokenizer, int vocab) {
        java.util.Map<Integer, Float> bias = new java.util.HashMap<>(params.logitBias());
        for (int id = 0; id < Math.min(vocab, tokenizer.vocabSize()); id++) {
            if (tokenizer.isEndOfGeneration(id)) {
                bias.put(id, Float.NEGATIVE_INFINITY);
            }
        }
        return params.withLogitBias(bias);
    }

    /** True once the token limit is reached: the next call must be {@link #finish}, not another token. */
    boolean limitReached() {
        return params.maxTokens() >= 0 && tokens.size() >= params.maxTokens();
    }

    /** Tokens it may still sample before the limit; {@link Integer#MAX_VALUE} without one. */
    int remaining() {
        return params.maxTokens() < 0 ? Integer.MAX_VALUE : params.maxTokens() - tokens.size();
    }

    /** Why it ended; null while it goes on. */
    StopReason stopReason() {
        return stopReason;
    }

    boolean ended() {
        return stopReason != null;
    }

    /** The token sampled last, which the model must see before the next step's logits. */
    int lastId() {
        return lastId;
    }

    List<GeneratedToken> tokens() {
        return tokens;
    }

    String text() {
        return released.toString();
    }

    /**
     * Samples the token that follows {@code history[0..historyLength)} from {@code logits} (vocab entries from
     * {@code 0}) and returns it with the text it releases. When it ends the generation (an end-of-generation
     * token) the held-back text comes out instead, as a token of id -1, or null when nothing was held. A stop
     * string ends the generation too; the token that completed it is returned with the text before the stop.
     */
    GeneratedToken next(float[] logits, int[] history, int historyLength) {
        if (grammar != null && grammar.mustEnd()) {
            return finish(StopReason.EOS); // the grammar's sentence is complete: nothing may follow
        }
        int id = sampler.sample(logits, history, historyLength);
        if (grammar != null && !grammar.allows(id)) {
            // llama.cpp's order: sample freely, and only when the grammar refuses that token mask the vocabulary
            float[] masked = grammar.mask(logits);
            if (masked[Sampler.argmax(masked, vocab)] == Float.NEGATIVE_INFINITY) {
                return finish(StopReason.GRAMMAR); // no token can continue the grammar
            }
            id = sampler.sample(masked, history, historyLength);
            if (!grammar.allows(id)) { // the sampler's own biases left only refused tokens: take the likeliest allowed
                id = Sampler.argmax(masked, vocab);
            }
        }
        if (tokenizer.isEndOfGeneration(id)) {
            return finish(StopReason.EOS);
        }
        boolean refusedFromTrigger = false;
        if (grammar != null) {
            grammar.accept(id);
        } else if (lazy != null) {
            byte[] fromTrigger = lazy.add(tokenizer.tokenBytes(id));
            if (fromTrigger != null) {
                grammar = new GrammarMask(params.grammar(), tokenizer, vocab);
                refusedFromTrigger = !grammar.acceptBytes(fromTrigger);
            }
        }
        float logprob = Float.NaN;
        List<TokenLogprob> top = List.of();
        if (params.reportsLogprobs()) { // a full-vocabulary log-softmax: only when asked for
            double lse = logSumExp(logits);
            logprob = (float) (logits[id] - lse);
            top = Logprobs.top(logits, vocab, params.topLogprobs(), lse);
        }

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
        if (params.minIndent() > 0 && stopReason == null) {
            int cut = indentationCut(text);
            if (cut >= 0) {
                text = text.substring(0, cut);
                pending.setLength(0);
                stopReason = StopReason.LENGTH;
            }
        }
        if (params.maxPredictMillis() > 0 && stopReason == null) {
            if (startNanos == 0) {
                startNanos = System.nanoTime();
            } else if (lineEnded && System.nanoTime() - startNanos > params.maxPredictMillis() * 1_000_000L) {
                stopReason = StopReason.LENGTH; // llama-server: the time is up once a line is complete
            }
        }
        if (refusedFromTrigger && stopReason == null) {
            stopReason = StopReason.GRAMMAR; // the text from the trigger on is no start of a sentence of the grammar
        }
        released.append(text);
        lineEnded |= text.indexOf('\n') >= 0;
        GeneratedToken t = new GeneratedToken(id, text, logprob, top);
        tokens.add(t);
        lastId = id;
        return t;
    }

    /** Ends the generation; returns the text held back for a stop string that never came (id -1), or null. */
    GeneratedToken finish(StopReason reason) {
        if (stopReason == null) {
            stopReason = reason;
        }
        pending.append(decoder.flush());
        if (pending.isEmpty()) {
            return null;
        }
        String text = pending.toString();
        pending.setLength(0);
        if (params.minIndent() > 0) {
            int cut = indentationCut(text);
            text = cut >= 0 ? text.substring(0, cut) : text;
        }
        released.append(text);
        return new GeneratedToken(-1, text, 0f, List.of());
    }

    /**
     * log Σ exp(logits) through the vectorized softmax: lse = l_best − ln p_best, where p_best ≥ 1/vocab cannot
     * underflow.
     */
    private double logSumExp(float[] logits) {
        System.arraycopy(logits, 0, probabilities, 0, vocab);
        kernels.softmax(probabilities, 0, vocab);
        int best = Sampler.argmax(logits, vocab);
        return logits[best] - Math.log(probabilities[best]);
    }

    /**
     * Where in {@code text}, the next text to release, a line after the first starts with less indentation than
     * {@link GenerationParams#minIndent()} (the first character after its spaces and tabs, which may be its
     * newline: an empty line ends it too, as in llama-server), or -1; the state carries over to the next text.
     */
    private int indentationCut(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (indent >= 0) {
                if (c == ' ' || c == '\t') {
                    indent++;
                    continue;
                }
                if (indent < params.minIndent()) {
                    return i;
                }
                indent = -1;
            }
            if (c == '\n') {
                indent = 0;
            }
        }
        return -1;
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
}
