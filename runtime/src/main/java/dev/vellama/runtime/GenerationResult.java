package dev.vellama.runtime;

import java.util.List;

/** Everything one generation produced. */
public record GenerationResult(int[] promptTokens, List<GeneratedToken> tokens, String text, StopReason stopReason,
                               Timings timings) {
    public int[] tokenIds() {
        return tokens.stream().mapToInt(GeneratedToken::id).toArray();
    }
}
