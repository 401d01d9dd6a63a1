package dev.vellama.runtime;

import java.util.List;
import java.util.Map;

/**
 * How to generate: llama.cpp's sampler chain and defaults (penalties, top-k 40, top-p 0.95, min-p 0.05,
 * temperature 0.8, then a seeded draw; greedy when temperature ≤ 0). Build variations with the {@code with*}
 * methods, {@code GenerationParams.defaults().withTemperature(0).withMaxTokens(64)}, or with a {@link Builder}:
 * {@code GenerationParams.builder().temperature(0).maxTokens(64).stop("\n\n").build()}.
 *
 * @param maxTokens       new tokens at most (-1: until end of generation or the context is full)
 * @param seed            seed of the draw; null for a random one
 * @param repeatLastN     how many recent tokens the penalties look at (0: none, -1: the whole context)
 * @param topLogprobs     alternatives reported with each generated token's logprob (0: only the token's own)
 * @param ignoreEos       never end at an end-of-generation token (they are never sampled), as llama.cpp's
 *                        {@code --ignore-eos}
 * @param logitBias       added to a token's logit before the sampler chain (llama.cpp's {@code --logit-bias}, the
 *                        OpenAI API's {@code logit_bias}); negative infinity bans the token. Reported logprobs stay
 *                        those of the raw logits
 */
public record GenerationParams(int maxTokens, float temperature, int topK, float topP, float minP,
                               float repeatPenalty, int repeatLastN, float frequencyPenalty, float presencePenalty,
                               Long seed, List<String> stop, int topLogprobs, boolean ignoreEos,
                               Map<Integer, Float> logitBias) {

    public GenerationParams {
        stop = List.copyOf(stop);
        logitBias = Map.copyOf(logitBias);
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
        return new GenerationParams(-1, 0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0f, 0f, null, List.of(), 0, false, Map.of());
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

        public GenerationParams build() {
            return new GenerationParams(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                    frequencyPenalty, presencePenalty, seed, stop, topLogprobs, ignoreEos, logitBias);
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

    public GenerationParams withLogitBias(Map<Integer, Float> bias) {
        return toBuilder().logitBias(bias).build();
    }
}
