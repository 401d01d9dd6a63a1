package dev.vellama.runtime;

import java.util.List;
import java.util.Map;

import dev.vellama.runtime.grammar.Grammar;

/**
 * How to generate: llama.cpp's sampler chain and defaults (logit bias, penalties, DRY, top-k 40, typical-p, top-p
 * 0.95, min-p 0.05, XTC, temperature 0.8, then a seeded draw; greedy when temperature ≤ 0; with mirostat, logit
 * bias, temperature and mirostat alone). DRY, typical-p, XTC and mirostat are off by default, as in llama.cpp. Build variations with the {@code with*}
 * methods, {@code GenerationParams.defaults().withTemperature(0).withMaxTokens(64)}, or with a {@link Builder}:
 * {@code GenerationParams.builder().temperature(0).maxTokens(64).stop("\n\n").build()}.
 *
 * @param maxTokens       new tokens at most (-1: until end of generation or the context is full)
 * @param seed            seed of the draw; null for a random one
 * @param repeatLastN     how many recent tokens the penalties look at (0: none, -1: the whole context)
 * @param topLogprobs     alternatives reported with each generated token's logprob (0: only the token's own);
 *                        more than 0 implies {@code logprobs}
 * @param ignoreEos       never end at an end-of-generation token (they are never sampled), as llama.cpp's
 *                        {@code --ignore-eos}
 * @param logitBias       added to a token's logit before the sampler chain (llama.cpp's {@code --logit-bias}, the
 *                        OpenAI API's {@code logit_bias}); negative infinity bans the token. Reported logprobs stay
 *                        those of the raw logits
 * @param typicalP        locally typical sampling (llama.cpp's {@code --typical}); 1 = off
 * @param xtc             "exclude top choices" (llama.cpp's {@code --xtc-*})
 * @param mirostat        mirostat 1 or 2 in place of the chain after temperature (llama.cpp's {@code --mirostat*})
 * @param dry             the DRY repetition penalty (llama.cpp's {@code --dry-*})
 * @param logprobs        report each token's logprob; without it (and without top logprobs) a token's logprob is
 *                        NaN and the full-vocabulary log-softmax it needs is never computed
 * @param contextShift    what happens when the context fills ({@link ContextShift#AUTO}: shift in a chat, stop
 *                        elsewhere)
 * @param grammar         a GBNF grammar the output must follow (llama.cpp's {@code --grammar}): tokens that cannot
 *                        continue it are never sampled, and the generation ends once it is complete; null for none
 * @param grammarTriggers where the grammar starts (llama.cpp's lazy grammars): empty, it holds from the first token;
 *                        otherwise the output is free until one of these strings appears in it, and the grammar
 *                        holds from that string on (the string itself must begin a sentence of the grammar)
 */
public record GenerationParams(int maxTokens, float temperature, int topK, float topP, float minP,
                               float repeatPenalty, int repeatLastN, float frequencyPenalty, float presencePenalty,
                               Long seed, List<String> stop, int topLogprobs, boolean ignoreEos,
                               Map<Integer, Float> logitBias, float typicalP, Xtc xtc, Mirostat mirostat, Dry dry,
                               boolean logprobs, ContextShift contextShift, Grammar grammar,
                               List<String> grammarTriggers) {

    /**
     * XTC: with chance {@code probability}, every candidate at least {@code threshold} likely but the least likely of
     * them is removed (off at probability 0, or a threshold above 0.5).
     */
    public record Xtc(float probability, float threshold) {
        public static final Xtc OFF = new Xtc(0f, 0.1f);

        public Xtc {
            if (!(probability >= 0 && probability <= 1) || !(threshold >= 0)) {
                throw new IllegalArgumentException("XTC probability must lie in [0, 1] and its threshold be at least 0");
            }
        }
    }

    /**
     * Mirostat: {@code version} 1 or 2 (0: off) aims at a surprise of {@code tau} bits per token, learning at
     * {@code eta}; it replaces top-k, top-p, min-p, typical-p, XTC, the penalties and DRY.
     */
    public record Mirostat(int version, float tau, float eta) {
        public static final Mirostat OFF = new Mirostat(0, 5f, 0.1f);

        public Mirostat {
            if (version < 0 || version > 2) {
                throw new IllegalArgumentException("mirostat is 0 (off), 1 or 2, not " + version);
            }
        }
    }

    /**
     * DRY ("don't repeat yourself"): a token that would extend a sequence already seen in the last
     * {@code penaltyLastN} tokens (-1: all of them) by more than {@code allowedLength} tokens loses
     * {@code multiplier · base^(length − allowedLength)} from its logit; a sequence cannot reach across a
     * {@code sequenceBreakers} string. Off while the multiplier is 0.
     */
    public record Dry(float multiplier, float base, int allowedLength, int penaltyLastN, List<String> sequenceBreakers) {
        public static final Dry OFF = new Dry(0f, 1.75f, 2, -1, List.of("\n", ":", "\"", "*"));

        public Dry {
            sequenceBreakers = List.copyOf(sequenceBreakers);
            if (!(multiplier >= 0) || allowedLength < 0 || penaltyLastN < -1 || !(base >= 0)) {
                throw new IllegalArgumentException("DRY needs a multiplier and base of at least 0, an allowed length of"
                        + " at least 0 and a penalty window of -1 or more");
            }
        }

        /** Whether it changes anything (llama.cpp's rule: a multiplier, a base of at least 1, a window). */
        public boolean active() {
            return multiplier != 0 && base >= 1 && penaltyLastN != 0;
        }
    }

    public GenerationParams {
        stop = List.copyOf(stop);
        grammarTriggers = grammarTriggers == null ? List.of() : List.copyOf(grammarTriggers);
        if (grammarTriggers.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("a grammar trigger must not be empty");
        }
        logitBias = Map.copyOf(logitBias);
        java.util.Objects.requireNonNull(xtc);
        java.util.Objects.requireNonNull(mirostat);
        java.util.Objects.requireNonNull(dry);
        java.util.Objects.requireNonNull(contextShift);
        if (!(typicalP > 0)) {
            throw new IllegalArgumentException("typical-p must be above 0 (1 = off)");
        }
        if (topLogprobs < 0) {
            throw new IllegalArgumentException("topLogprobs must be 0 or more");
        }
        if (topP <= 0 || topP > 1 || minP < 0 || minP > 1) {
            throw new IllegalArgumentException("top-p must lie in (0, 1] and min-p in [0, 1]");
        }
        if (repeatPenalty <= 0) {
            throw new IllegalArgumentException("repeat penalty must be positive (1 = off)");
        }
    }

    public static GenerationParams defaults() {
        return new GenerationParams(-1, 0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0f, 0f, null, List.of(), 0, false, Map.of(),
                1f, Xtc.OFF, Mirostat.OFF, Dry.OFF, false, ContextShift.AUTO, null, List.of());
    }

    /** A builder that starts from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder(defaults());
    }

    /** A builder that starts from these parameters. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Sets what differs from a starting point by name, then {@link #build()} checks it all at once. */
    public static final class Builder {
        private int maxTokens;
        private float temperature;
        private int topK;
        private float topP;
        private float minP;
        private float repeatPenalty;
        private int repeatLastN;
        private float frequencyPenalty;
        private float presencePenalty;
        private Long seed;
        private List<String> stop;
        private int topLogprobs;
        private boolean ignoreEos;
        private Map<Integer, Float> logitBias;
        private float typicalP;
        private Xtc xtc;
        private Mirostat mirostat;
        private Dry dry;
        private boolean logprobs;
        private ContextShift contextShift;
        private Grammar grammar;
        private List<String> grammarTriggers;

        private Builder(GenerationParams p) {
            maxTokens = p.maxTokens;
            temperature = p.temperature;
            topK = p.topK;
            topP = p.topP;
            minP = p.minP;
            repeatPenalty = p.repeatPenalty;
            repeatLastN = p.repeatLastN;
            frequencyPenalty = p.frequencyPenalty;
            presencePenalty = p.presencePenalty;
            seed = p.seed;
            stop = p.stop;
            topLogprobs = p.topLogprobs;
            ignoreEos = p.ignoreEos;
            logitBias = p.logitBias;
            typicalP = p.typicalP;
            xtc = p.xtc;
            mirostat = p.mirostat;
            dry = p.dry;
            logprobs = p.logprobs;
            contextShift = p.contextShift;
            grammar = p.grammar;
            grammarTriggers = p.grammarTriggers;
        }

        public Builder maxTokens(int n) { maxTokens = n; return this; }
        public Builder temperature(float t) { temperature = t; return this; }
        public Builder topK(int k) { topK = k; return this; }
        public Builder topP(float p) { topP = p; return this; }
        public Builder minP(float p) { minP = p; return this; }
        public Builder repeatPenalty(float r) { repeatPenalty = r; return this; }
        public Builder repeatLastN(int n) { repeatLastN = n; return this; }
        public Builder frequencyPenalty(float f) { frequencyPenalty = f; return this; }
        public Builder presencePenalty(float p) { presencePenalty = p; return this; }
        public Builder seed(Long s) { seed = s; return this; }
        public Builder stop(String... s) { stop = List.of(s); return this; }
        public Builder stop(List<String> s) { stop = List.copyOf(s); return this; }
        public Builder topLogprobs(int n) { topLogprobs = n; return this; }
        public Builder ignoreEos(boolean b) { ignoreEos = b; return this; }
        public Builder logitBias(Map<Integer, Float> bias) { logitBias = Map.copyOf(bias); return this; }
        public Builder typicalP(float p) { typicalP = p; return this; }
        public Builder xtc(Xtc x) { xtc = x; return this; }
        public Builder xtc(float probability, float threshold) { xtc = new Xtc(probability, threshold); return this; }
        public Builder mirostat(Mirostat m) { mirostat = m; return this; }
        public Builder mirostat(int version, float tau, float eta) { mirostat = new Mirostat(version, tau, eta); return this; }
        public Builder dry(Dry d) { dry = d; return this; }
        public Builder logprobs(boolean b) { logprobs = b; return this; }
        public Builder contextShift(ContextShift c) { contextShift = c; return this; }
        public Builder grammar(Grammar g) { grammar = g; grammarTriggers = List.of(); return this; }
        public Builder lazyGrammar(Grammar g, List<String> triggers) { grammar = g; grammarTriggers = triggers; return this; }

        public GenerationParams build() {
            return new GenerationParams(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                    frequencyPenalty, presencePenalty, seed, stop, topLogprobs, ignoreEos, logitBias, typicalP, xtc,
                    mirostat, dry, logprobs, contextShift, grammar, grammarTriggers);
        }
    }

    /** Greedy decoding: always the most likely token. */
    public static GenerationParams greedy() {
        return defaults().withTemperature(0);
    }

    public GenerationParams withMaxTokens(int n) {
        return toBuilder().maxTokens(n).build();
    }

    public GenerationParams withTemperature(float t) {
        return toBuilder().temperature(t).build();
    }

    public GenerationParams withTopK(int k) {
        return toBuilder().topK(k).build();
    }

    public GenerationParams withTopP(float p) {
        return toBuilder().topP(p).build();
    }

    public GenerationParams withMinP(float p) {
        return toBuilder().minP(p).build();
    }

    public GenerationParams withRepeatPenalty(float r, int lastN) {
        return toBuilder().repeatPenalty(r).repeatLastN(lastN).build();
    }

    public GenerationParams withFrequencyPenalty(float f) {
        return toBuilder().frequencyPenalty(f).build();
    }

    public GenerationParams withPresencePenalty(float p) {
        return toBuilder().presencePenalty(p).build();
    }

    public GenerationParams withSeed(Long s) {
        return toBuilder().seed(s).build();
    }

    public GenerationParams withStop(List<String> s) {
        return toBuilder().stop(s).build();
    }

    public GenerationParams withTopLogprobs(int n) {
        return toBuilder().topLogprobs(n).build();
    }

    public GenerationParams withIgnoreEos(boolean b) {
        return toBuilder().ignoreEos(b).build();
    }

    /** Whether tokens carry their logprob: asked for, or implied by top logprobs. */
    public boolean reportsLogprobs() {
        return logprobs || topLogprobs > 0;
    }

    public GenerationParams withLogprobs(boolean b) {
        return toBuilder().logprobs(b).build();
    }

    /** Output constrained by {@code g} (null: none). */
    public GenerationParams withGrammar(Grammar g) {
        return toBuilder().grammar(g).build();
    }

    /**
     * Output free until one of {@code triggers} appears in it, then held to {@code g} from that string on (as
     * llama.cpp's lazy grammars: a reply may talk, then call a tool whose arguments the grammar keeps well-formed).
     */
    public GenerationParams withLazyGrammar(Grammar g, List<String> triggers) {
        if (triggers.isEmpty()) {
            throw new IllegalArgumentException("a lazy grammar needs at least one trigger");
        }
        return toBuilder().lazyGrammar(java.util.Objects.requireNonNull(g), triggers).build();
    }

    public GenerationParams withContextShift(ContextShift c) {
        return toBuilder().contextShift(c).build();
    }

    public GenerationParams withLogitBias(Map<Integer, Float> bias) {
        return toBuilder().logitBias(bias).build();
    }
}
