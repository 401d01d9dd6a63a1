package dev.vellama.runtime;

/**
 * Prompt processing and generation speed of one generation.
 *
 * @param promptTokens    prompt tokens actually evaluated (a prefix reused from the cache is not counted)
 * @param promptNanos     wall time of prompt processing, in nanoseconds
 * @param generatedTokens tokens generated
 * @param generationNanos wall time from the end of prompt processing to the last token, in nanoseconds
 */
public record Timings(int promptTokens, long promptNanos, int generatedTokens, long generationNanos) {
    /** {@return prompt processing speed in tokens per second, 0 when no time was measured} */
    public double promptTokensPerSecond() {
        return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
    }

    /** {@return generation speed in tokens per second, 0 when no time was measured} */
    public double generationTokensPerSecond() {
        return generationNanos == 0 ? 0 : generatedTokens * 1e9 / generationNanos;
    }
}
