package dev.vellama.runtime;

import java.util.List;

/**
 * How to generate: llama.cpp's sampler chain and defaults (penalties, top-k 40, top-p 0.95, min-p 0.05,
 * temperature 0.8, then a seeded draw; greedy when temperature ≤ 0). Build variations with the {@code with*}
 * methods: {@code GenerationParams.defaults().withTemperature(0).withMaxTokens(64)}.
 *
 * @param maxTokens       new tokens at most (-1: until end of generation or the context is full)
 * @param seed            seed of the draw; null for a random one
 * @param repeatLastN     how many recent tokens the penalties look at (0: none, -1: the whole context)
 * @param topLogprobs     alternatives reported with each generated token's logprob (0: only the token's own)
 */
public record GenerationParams(int maxTokens, float temperature, int topK, float topP, float minP,
                               float repeatPenalty, int repeatLastN, float frequencyPenalty, float presencePenalty,
                               Long seed, List<String> stop, int topLogprobs) {

    public GenerationParams {
        stop = List.copyOf(stop);
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
        return new GenerationParams(-1, 0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0f, 0f, null, List.of(), 0);
    }

    /** Greedy decoding: always the most likely token. */
    public static GenerationParams greedy() {
        return defaults().withTemperature(0);
    }

    public GenerationParams withMaxTokens(int n) {
        return new GenerationParams(n, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, topLogprobs);
    }

    public GenerationParams withTemperature(float t) {
        return new GenerationParams(maxTokens, t, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, topLogprobs);
    }

    public GenerationParams withTopK(int k) {
        return new GenerationParams(maxTokens, temperature, k, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, topLogprobs);
    }

    public GenerationParams withTopP(float p) {
        return new GenerationParams(maxTokens, temperature, topK, p, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, topLogprobs);
    }

    public GenerationParams withMinP(float p) {
        return new GenerationParams(maxTokens, temperature, topK, topP, p, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, topLogprobs);
    }

    public GenerationParams withRepeatPenalty(float r, int lastN) {
        return new GenerationParams(maxTokens, temperature, topK, topP, minP, r, lastN, frequencyPenalty, presencePenalty, seed, stop, topLogprobs);
    }

    public GenerationParams withFrequencyPenalty(float f) {
        return new GenerationParams(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, f, presencePenalty, seed, stop, topLogprobs);
    }

    public GenerationParams withPresencePenalty(float p) {
        return new GenerationParams(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, p, seed, stop, topLogprobs);
    }

    public GenerationParams withSeed(Long s) {
        return new GenerationParams(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, s, stop, topLogprobs);
    }

    public GenerationParams withStop(List<String> s) {
        return new GenerationParams(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, s, topLogprobs);
    }

    public GenerationParams withTopLogprobs(int n) {
        return new GenerationParams(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, n);
    }
}
