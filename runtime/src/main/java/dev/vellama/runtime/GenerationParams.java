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
 * @param temperature     divides the logits before the final draw; 0 or below takes the most likely token (greedy)
 * @param topK            keep only the k most likely candidates (0 or below: the whole vocabulary)
 * @param topP            nucleus sampling: keep the most likely candidates until their probabilities add up to
 *                        this, in (0, 1]; 1 = off
 * @param minP            drop candidates less likely than this fraction of the best one's probability, in [0, 1];
 *                        0 = off
 * @param repeatPenalty   divides a positive logit (multiplies a negative one) of every token seen in the last
 *                        {@code repeatLastN} tokens, llama.cpp's {@code --repeat-penalty}; above 0, 1 = off
 * @param repeatLastN     how many recent tokens the penalties look at (0: none, -1: the whole context)
 * @param frequencyPenalty subtracted from a token's logit once for each time it occurs in the last
 *                        {@code repeatLastN} tokens (the OpenAI API's {@code frequency_penalty}); 0 = off
 * @param presencePenalty subtracted once from the logit of every token that occurs in the last
 *                        {@code repeatLastN} tokens (the OpenAI API's {@code presence_penalty}); 0 = off
 * @param seed            seed of the draw; null for a random one
 * @param stop            strings that end the generation: the text ends just before the first of them to appear,
 *                        which is not part of the output; empty for none
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
 * @param minIndent       each line after the first must be indented by at least this many spaces or tabs, else the
 *                        generation ends there (at {@link StopReason#LENGTH}) with that line's text cut after its
 *                        indentation, as llama-server's {@code n_indent} for code completion; 0 = off
 * @param maxPredictMillis once the output holds a newline, the generation ends (at {@link StopReason#LENGTH}) when
 *                        this many milliseconds have passed since its first token, as llama-server's
 *                        {@code t_max_predict_ms} for code completion; 0 = off
 */
public record GenerationParams(int maxTokens, float temperature, int topK, float topP, float minP,
                               float repeatPenalty, int repeatLastN, float frequencyPenalty, float presencePenalty,
                               Long seed, List<String> stop, int topLogprobs, boolean ignoreEos,
                               Map<Integer, Float> logitBias, float typicalP, Xtc xtc, Mirostat mirostat, Dry dry,
                               boolean logprobs, ContextShift contextShift, Grammar grammar,
                               List<String> grammarTriggers, int minIndent, long maxPredictMillis) {

    /**
     * XTC: with chance {@code probability}, every candidate at least {@code threshold} likely but the least likely of
     * them is removed (off at probability 0, or a threshold above 0.5).
     *
     * @param probability chance, in [0, 1], that the cut is made at a given token
     * @param threshold   probability a candidate needs to count as a top choice; at least 0
     */
    public record Xtc(float probability, float threshold) {
        /** XTC off: probability 0, with llama.cpp's default threshold of 0.1. */
        public static final Xtc OFF = new Xtc(0f, 0.1f);

        /**
         * Checks the ranges.
         *
         * @throws IllegalArgumentException if the probability lies outside [0, 1] or the threshold is below 0
         */
        public Xtc {
            if (!(probability >= 0 && probability <= 1) || !(threshold >= 0)) {
                throw new IllegalArgumentException("XTC probability must lie in [0, 1] and its threshold be at least 0");
            }
        }
    }

    /**
     * Mirostat: {@code version} 1 or 2 (0: off) aims at a surprise of {@code tau} bits per token, learning at
     * {@code eta}; it replaces top-k, top-p, min-p, typical-p, XTC, the penalties and DRY.
     *
     * @param version 0 (off), 1 (the original mirostat, an adaptive top-k) or 2 (a cut at the running surprise
     *                bound)
     * @param tau     target surprise in bits per token (llama.cpp's {@code --mirostat-ent}); the bound starts at
     *                twice this
     * @param eta     learning rate: how far the bound moves towards {@code tau} after each draw
     *                (llama.cpp's {@code --mirostat-lr})
     */
    public record Mirostat(int version, float tau, float eta) {
        /** Mirostat off, with llama.cpp's defaults tau 5 and eta 0.1. */
        public static final Mirostat OFF = new Mirostat(0, 5f, 0.1f);

        /**
         * Checks the version.
         *
         * @throws IllegalArgumentException if the version is not 0, 1 or 2
         */
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
     *
     * @param multiplier       strength of the penalty (llama.cpp's {@code --dry-multiplier}); 0 = off
     * @param base             growth of the penalty per token of repeated length beyond {@code allowedLength}
     *                         (llama.cpp's {@code --dry-base}); below 1 it does nothing
     * @param allowedLength    longest repetition, in tokens, that goes unpunished
     * @param penaltyLastN     how many recent tokens are searched for repetitions (-1: the whole context, 0: none)
     * @param sequenceBreakers strings no repeated sequence may cross, such as a newline (llama.cpp's
     *                         {@code --dry-sequence-breaker}); copied
     */
    public record Dry(float multiplier, float base, int allowedLength, int penaltyLastN, List<String> sequenceBreakers) {
        /** DRY off (multiplier 0), with llama.cpp's other defaults: base 1.75, allowed length 2, breakers. */
        public static final Dry OFF = new Dry(0f, 1.75f, 2, -1, List.of("\n", ":", "\"", "*"));

        /**
         * Copies the breakers and checks the ranges.
         *
         * @throws IllegalArgumentException if the multiplier, base or allowed length is below 0 (or NaN), or the
         *                                  window is below -1
         */
        public Dry {
            sequenceBreakers = List.copyOf(sequenceBreakers);
            if (!(multiplier >= 0) || allowedLength < 0 || penaltyLastN < -1 || !(base >= 0)) {
                throw new IllegalArgumentException("DRY needs a multiplier and base of at least 0, an allowed length of"
                        + " at least 0 and a penalty window of -1 or more");
            }
        }

        /**
         * Whether it changes anything (llama.cpp's rule: a multiplier, a base of at least 1, a window).
         *
         * @return true when the multiplier is not 0, the base at least 1 and the window not 0
         */
        public boolean active() {
            return multiplier != 0 && base >= 1 && penaltyLastN != 0;
        }
    }

    /**
     * Copies the lists and the bias map and checks the ranges.
     *
     * @throws IllegalArgumentException if a grammar trigger is empty, typical-p is not above 0, top logprobs is
     *                                  negative, top-p lies outside (0, 1], min-p outside [0, 1], or the repeat
     *                                  penalty is not above 0
     * @throws NullPointerException     if {@code stop}, {@code logitBias}, {@code xtc}, {@code mirostat},
     *                                  {@code dry} or {@code contextShift} is null
     */
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
        if (minIndent < 0 || maxPredictMillis < 0) {
            throw new IllegalArgumentException("minIndent and maxPredictMillis must be 0 or more");
        }
    }

    /**
     * llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, repeat penalty 1 (off) over the
     * last 64 tokens, no other penalty, no DRY, typical-p, XTC or mirostat, a random seed, no stop strings, no
     * logprobs, no grammar, no token limit and {@link ContextShift#AUTO}.
     *
     * @return the default parameters
     */
    public static GenerationParams defaults() {
        return new GenerationParams(-1, 0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0f, 0f, null, List.of(), 0, false, Map.of(),
                1f, Xtc.OFF, Mirostat.OFF, Dry.OFF, false, ContextShift.AUTO, null, List.of(), 0, 0);
    }

    /** {@return a builder that starts from {@link #defaults()}} */
    public static Builder builder() {
        return new Builder(defaults());
    }

    /** {@return a builder that starts from these parameters} */
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
        private int minIndent;
        private long maxPredictMillis;

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
            minIndent = p.minIndent;
            maxPredictMillis = p.maxPredictMillis;
        }

        /**
         * Sets {@link GenerationParams#maxTokens()}.
         *
         * @param n new tokens at most; -1 for no limit but the context
         * @return this builder
         */
        public Builder maxTokens(int n) { maxTokens = n; return this; }
        /**
         * Sets {@link GenerationParams#temperature()}.
         *
         * @param t sampling temperature; 0 or below for greedy decoding
         * @return this builder
         */
        public Builder temperature(float t) { temperature = t; return this; }
        /**
         * Sets {@link GenerationParams#topK()}.
         *
         * @param k candidates kept; 0 or below for the whole vocabulary
         * @return this builder
         */
        public Builder topK(int k) { topK = k; return this; }
        /**
         * Sets {@link GenerationParams#topP()}.
         *
         * @param p cumulative probability kept, in (0, 1]; 1 = off
         * @return this builder
         */
        public Builder topP(float p) { topP = p; return this; }
        /**
         * Sets {@link GenerationParams#minP()}.
         *
         * @param p smallest probability kept, as a fraction of the best one's, in [0, 1]; 0 = off
         * @return this builder
         */
        public Builder minP(float p) { minP = p; return this; }
        /**
         * Sets {@link GenerationParams#repeatPenalty()}.
         *
         * @param r repeat penalty, above 0; 1 = off
         * @return this builder
         */
        public Builder repeatPenalty(float r) { repeatPenalty = r; return this; }
        /**
         * Sets {@link GenerationParams#repeatLastN()}.
         *
         * @param n recent tokens the penalties look at (0: none, -1: the whole context)
         * @return this builder
         */
        public Builder repeatLastN(int n) { repeatLastN = n; return this; }
        /**
         * Sets {@link GenerationParams#frequencyPenalty()}.
         *
         * @param f logit subtracted per occurrence; 0 = off
         * @return this builder
         */
        public Builder frequencyPenalty(float f) { frequencyPenalty = f; return this; }
        /**
         * Sets {@link GenerationParams#presencePenalty()}.
         *
         * @param p logit subtracted once per token present; 0 = off
         * @return this builder
         */
        public Builder presencePenalty(float p) { presencePenalty = p; return this; }
        /**
         * Sets {@link GenerationParams#seed()}.
         *
         * @param s seed of the draw; null for a random one
         * @return this builder
         */
        public Builder seed(Long s) { seed = s; return this; }
        /**
         * Sets {@link GenerationParams#stop()}, replacing any earlier stop strings.
         *
         * @param s strings that end the generation; none for no stop strings
         * @return this builder
         */
        public Builder stop(String... s) { stop = List.of(s); return this; }
        /**
         * Sets {@link GenerationParams#stop()}, replacing any earlier stop strings.
         *
         * @param s strings that end the generation; copied
         * @return this builder
         */
        public Builder stop(List<String> s) { stop = List.copyOf(s); return this; }
        /**
         * Sets {@link GenerationParams#topLogprobs()}.
         *
         * @param n alternatives reported per token, 0 or more; above 0 implies logprobs
         * @return this builder
         */
        public Builder topLogprobs(int n) { topLogprobs = n; return this; }
        /**
         * Sets {@link GenerationParams#ignoreEos()}.
         *
         * @param b true to never end at an end-of-generation token
         * @return this builder
         */
        public Builder ignoreEos(boolean b) { ignoreEos = b; return this; }
        /**
         * Sets {@link GenerationParams#logitBias()}, replacing any earlier bias.
         *
         * @param bias token id to the amount added to its logit; copied
         * @return this builder
         */
        public Builder logitBias(Map<Integer, Float> bias) { logitBias = Map.copyOf(bias); return this; }
        /**
         * Sets {@link GenerationParams#typicalP()}.
         *
         * @param p typical-p mass, above 0; 1 = off
         * @return this builder
         */
        public Builder typicalP(float p) { typicalP = p; return this; }
        /**
         * Sets {@link GenerationParams#xtc()}.
         *
         * @param x XTC settings; {@link Xtc#OFF} for none
         * @return this builder
         */
        public Builder xtc(Xtc x) { xtc = x; return this; }
        /**
         * Sets {@link GenerationParams#xtc()} from its two numbers.
         *
         * @param probability chance, in [0, 1], that the cut is made at a given token
         * @param threshold   probability a candidate needs to count as a top choice
         * @return this builder
         */
        public Builder xtc(float probability, float threshold) { xtc = new Xtc(probability, threshold); return this; }
        /**
         * Sets {@link GenerationParams#mirostat()}.
         *
         * @param m mirostat settings; {@link Mirostat#OFF} for none
         * @return this builder
         */
        public Builder mirostat(Mirostat m) { mirostat = m; return this; }
        /**
         * Sets {@link GenerationParams#mirostat()} from its three numbers.
         *
         * @param version 0 (off), 1 or 2
         * @param tau     target surprise in bits per token
         * @param eta     learning rate of the surprise bound
         * @return this builder
         */
        public Builder mirostat(int version, float tau, float eta) { mirostat = new Mirostat(version, tau, eta); return this; }
        /**
         * Sets {@link GenerationParams#dry()}.
         *
         * @param d DRY settings; {@link Dry#OFF} for none
         * @return this builder
         */
        public Builder dry(Dry d) { dry = d; return this; }
        /**
         * Sets {@link GenerationParams#logprobs()}.
         *
         * @param b true to report each token's logprob
         * @return this builder
         */
        public Builder logprobs(boolean b) { logprobs = b; return this; }
        /**
         * Sets {@link GenerationParams#contextShift()}.
         *
         * @param c what to do when the context fills
         * @return this builder
         */
        public Builder contextShift(ContextShift c) { contextShift = c; return this; }
        /**
         * Sets {@link GenerationParams#minIndent()}.
         *
         * @param n spaces or tabs each line after the first needs; 0 = off
         * @return this builder
         */
        public Builder minIndent(int n) { minIndent = n; return this; }
        /**
         * Sets {@link GenerationParams#maxPredictMillis()}.
         *
         * @param ms milliseconds after the first token at which an output with a newline ends; 0 = off
         * @return this builder
         */
        public Builder maxPredictMillis(long ms) { maxPredictMillis = ms; return this; }
        /**
         * Constrains the whole output to a grammar from the first token, dropping any triggers.
         *
         * @param g the grammar; null for none
         * @return this builder
         */
        public Builder grammar(Grammar g) { grammar = g; grammarTriggers = List.of(); return this; }
        /**
         * Sets a lazy grammar: free output until a trigger appears, then held to {@code g}.
         *
         * @param g        the grammar the output is held to once triggered
         * @param triggers strings whose appearance starts the grammar; empty for a grammar that holds from
         *                 the first token, null as empty
         * @return this builder
         */
        public Builder lazyGrammar(Grammar g, List<String> triggers) { grammar = g; grammarTriggers = triggers; return this; }

        /**
         * Builds the parameters, checking them all at once.
         *
         * @return the new parameters
         * @throws IllegalArgumentException if a value is out of range (see the record's constructor)
         * @throws NullPointerException     if a required value was set to null
         */
        public GenerationParams build() {
            return new GenerationParams(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                    frequencyPenalty, presencePenalty, seed, stop, topLogprobs, ignoreEos, logitBias, typicalP, xtc,
                    mirostat, dry, logprobs, contextShift, grammar, grammarTriggers, minIndent, maxPredictMillis);
        }
    }

    /**
     * Greedy decoding: always the most likely token.
     *
     * @return the defaults with temperature 0
     */
    public static GenerationParams greedy() {
        return defaults().withTemperature(0);
    }

    /**
     * A copy with another {@link #maxTokens()}.
     *
     * @param n new tokens at most; -1 for no limit but the context
     * @return the new parameters
     */
    public GenerationParams withMaxTokens(int n) {
        return toBuilder().maxTokens(n).build();
    }

    /**
     * A copy with another {@link #temperature()}.
     *
     * @param t sampling temperature; 0 or below for greedy decoding
     * @return the new parameters
     */
    public GenerationParams withTemperature(float t) {
        return toBuilder().temperature(t).build();
    }

    /**
     * A copy with another {@link #topK()}.
     *
     * @param k candidates kept; 0 or below for the whole vocabulary
     * @return the new parameters
     */
    public GenerationParams withTopK(int k) {
        return toBuilder().topK(k).build();
    }

    /**
     * A copy with another {@link #topP()}.
     *
     * @param p cumulative probability kept, in (0, 1]; 1 = off
     * @return the new parameters
     */
    public GenerationParams withTopP(float p) {
        return toBuilder().topP(p).build();
    }

    /**
     * A copy with another {@link #minP()}.
     *
     * @param p smallest probability kept, as a fraction of the best one's, in [0, 1]; 0 = off
     * @return the new parameters
     */
    public GenerationParams withMinP(float p) {
        return toBuilder().minP(p).build();
    }

    /**
     * A copy with another {@link #repeatPenalty()} and {@link #repeatLastN()}.
     *
     * @param r     repeat penalty, above 0; 1 = off
     * @param lastN recent tokens the penalties look at (0: none, -1: the whole context)
     * @return the new parameters
     */
    public GenerationParams withRepeatPenalty(float r, int lastN) {
        return toBuilder().repeatPenalty(r).repeatLastN(lastN).build();
    }

    /**
     * A copy with another {@link #frequencyPenalty()}.
     *
     * @param f logit subtracted per occurrence; 0 = off
     * @return the new parameters
     */
    public GenerationParams withFrequencyPenalty(float f) {
        return toBuilder().frequencyPenalty(f).build();
    }

    /**
     * A copy with another {@link #presencePenalty()}.
     *
     * @param p logit subtracted once per token present; 0 = off
     * @return the new parameters
     */
    public GenerationParams withPresencePenalty(float p) {
        return toBuilder().presencePenalty(p).build();
    }

    /**
     * A copy with another {@link #seed()}.
     *
     * @param s seed of the draw; null for a random one
     * @return the new parameters
     */
    public GenerationParams withSeed(Long s) {
        return toBuilder().seed(s).build();
    }

    /**
     * A copy with another {@link #stop()}.
     *
     * @param s strings that end the generation; copied
     * @return the new parameters
     */
    public GenerationParams withStop(List<String> s) {
        return toBuilder().stop(s).build();
    }

    /**
     * A copy with another {@link #topLogprobs()}.
     *
     * @param n alternatives reported per token, 0 or more; above 0 implies logprobs
     * @return the new parameters
     */
    public GenerationParams withTopLogprobs(int n) {
        return toBuilder().topLogprobs(n).build();
    }

    /**
     * A copy with another {@link #ignoreEos()}.
     *
     * @param b true to never end at an end-of-generation token
     * @return the new parameters
     */
    public GenerationParams withIgnoreEos(boolean b) {
        return toBuilder().ignoreEos(b).build();
    }

    /**
     * Whether tokens carry their logprob: asked for, or implied by top logprobs.
     *
     * @return true when {@code logprobs} is set or {@code topLogprobs} is above 0
     */
    public boolean reportsLogprobs() {
        return logprobs || topLogprobs > 0;
    }

    /**
     * A copy with another {@link #logprobs()}.
     *
     * @param b true to report each token's logprob
     * @return the new parameters
     */
    public GenerationParams withLogprobs(boolean b) {
        return toBuilder().logprobs(b).build();
    }

    /**
     * Output constrained by {@code g} (null: none), from the first token on.
     *
     * @param g the grammar; null for unconstrained output
     * @return the new parameters, without grammar triggers
     */
    public GenerationParams withGrammar(Grammar g) {
        return toBuilder().grammar(g).build();
    }

    /**
     * Output free until one of {@code triggers} appears in it, then held to {@code g} from that string on (as
     * llama.cpp's lazy grammars: a reply may talk, then call a tool whose arguments the grammar keeps well-formed).
     *
     * @param g        the grammar, not null
     * @param triggers strings, none empty, whose first appearance starts the grammar
     * @return the new parameters
     * @throws IllegalArgumentException if {@code triggers} is empty or holds an empty string
     * @throws NullPointerException     if {@code g} is null
     */
    public GenerationParams withLazyGrammar(Grammar g, List<String> triggers) {
        if (triggers.isEmpty()) {
            throw new IllegalArgumentException("a lazy grammar needs at least one trigger");
        }
        return toBuilder().lazyGrammar(java.util.Objects.requireNonNull(g), triggers).build();
    }

    /**
     * A copy with another {@link #contextShift()}.
     *
     * @param c what to do when the context fills
     * @return the new parameters
     */
    public GenerationParams withContextShift(ContextShift c) {
        return toBuilder().contextShift(c).build();
    }

    /**
     * A copy with another {@link #logitBias()}.
     *
     * @param bias token id to the amount added to its logit; copied
     * @return the new parameters
     */
    public GenerationParams withLogitBias(Map<Integer, Float> bias) {
        return toBuilder().logitBias(bias).build();
    }

    /**
     * A copy with another {@link #minIndent()}.
     *
     * @param n spaces or tabs each line after the first needs; 0 = off
     * @return the new parameters
     */
    public GenerationParams withMinIndent(int n) {
        return toBuilder().minIndent(n).build();
    }
}
