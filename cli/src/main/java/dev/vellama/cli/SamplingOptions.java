package dev.vellama.cli;

import java.util.ArrayList;
import java.util.List;

import dev.vellama.runtime.GenerationParams;
import picocli.CommandLine.Option;

/** llama.cpp's sampling options, with its defaults. */
final class SamplingOptions {
    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "-1",
            description = "New tokens at most (default: -1, until end of generation or a full context).")
    int maxTokens;

    @Option(names = "--temp", paramLabel = "T", defaultValue = "0.8", description = "Temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40", description = "Top-k; 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Top-p; 1 = off (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05", description = "Min-p; 0 = off (default: ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "R", defaultValue = "1.0", description = "Repetition penalty; 1 = off (default: ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", defaultValue = "64",
            description = "Tokens the penalties look back over; -1 = whole context (default: ${DEFAULT-VALUE}).")
    int repeatLastN;

    @Option(names = "--frequency-penalty", paramLabel = "F", defaultValue = "0", description = "Frequency penalty (default: ${DEFAULT-VALUE}).")
    float frequencyPenalty;

    @Option(names = "--presence-penalty", paramLabel = "P", defaultValue = "0", description = "Presence penalty (default: ${DEFAULT-VALUE}).")
    float presencePenalty;

    @Option(names = {"-s", "--seed"}, paramLabel = "S", description = "Seed of the random draw (default: random).")
    Long seed;

    @Option(names = {"--stop", "-r", "--reverse-prompt"}, paramLabel = "TEXT", description = "Stop when this text appears (repeatable).")
    List<String> stop = new ArrayList<>();

    GenerationParams params() {
        if (maxTokens < -1) {
            throw new IllegalArgumentException("-n must be -1 (until the end or a full context) or more, not " + maxTokens);
        }
        if (repeatLastN < -1) {
            throw new IllegalArgumentException("--repeat-last-n must be -1 (the whole context) or more, not " + repeatLastN);
        }
        if (topP <= 0 || topP > 1 || minP < 0 || minP > 1) {
            throw new IllegalArgumentException("--top-p must lie in (0, 1] and --min-p in [0, 1]");
        }
        if (repeatPenalty <= 0) {
            throw new IllegalArgumentException("--repeat-penalty must be positive (1 = off)");
        }
        // llama.cpp's meanings: a temperature at or below 0 is greedy, a top-k at or below 0 is off
        return new GenerationParams(maxTokens, temperature, Math.max(0, topK), topP, minP, repeatPenalty, repeatLastN,
                frequencyPenalty, presencePenalty, seed, stop, 0);
    }
}
