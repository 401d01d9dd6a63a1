package dev.vellama.runtime;

import java.util.List;

/**
 * Everything one generation produced.
 *
 * @param promptTokens    the prompt's token ids as given to the generation
 * @param tokens          the generated tokens, in order
 * @param text            the generated text, without the stop string that ended it
 * @param stopReason      why the generation ended
 * @param timings         prompt processing and generation speed
 * @param forgottenTokens tokens dropped from the cache by context shifts during this generation (0: none)
 */
public record GenerationResult(int[] promptTokens, List<GeneratedToken> tokens, String text, StopReason stopReason,
                               Timings timings, int forgottenTokens) {
    /**
     * A result with no context shift.
     *
     * @param promptTokens the prompt's token ids as given to the generation
     * @param tokens       the generated tokens in order
     * @param text         the generated text, without the stop string that ended it
     * @param stopReason   why the generation ended
     * @param timings      prompt processing and generation speed
     */
    public GenerationResult(int[] promptTokens, List<GeneratedToken> tokens, String text, StopReason stopReason, Timings timings) {
        this(promptTokens, tokens, text, stopReason, timings, 0);
    }

    /** {@return the generated tokens' ids, in order, in a new array} */
    public int[] tokenIds() {
        return tokens.stream().mapToInt(GeneratedToken::id).toArray();
    }

    /** Equal when every component is, the prompt's ids compared by value (a record compares arrays by identity). */
    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationResult r && java.util.Arrays.equals(promptTokens, r.promptTokens)
                && tokens.equals(r.tokens) && text.equals(r.text) && stopReason == r.stopReason && timings.equals(r.timings)
                && forgottenTokens == r.forgottenTokens;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(java.util.Arrays.hashCode(promptTokens), tokens, text, stopReason, timings);
    }

    @Override
    public String toString() {
        return "GenerationResult[promptTokens=" + java.util.Arrays.toString(promptTokens) + ", tokens=" + tokens
                + ", text=" + text + ", stopReason=" + stopReason + ", timings=" + timings + "]";
    }

    /**
     * The whole reply fed to {@code splitter}, then finished: harmony's reply token by token (its markers are control
     * tokens, which the text leaves out), any other as its text, as the reply ended it (stop strings cut).
     *
     * @param splitter a fresh splitter for this reply
     * @return {@code splitter}, holding the reply's reasoning, answer and tool calls
     */
    public dev.vellama.runtime.chat.ReasoningSplitter splitInto(dev.vellama.runtime.chat.ReasoningSplitter splitter) {
        if (splitter.readsTokens()) {
            tokens.forEach(t -> splitter.accept(t.id(), t.text()));
        } else {
            splitter.accept(-1, text);
        }
        splitter.finish();
        return splitter;
    }
}
