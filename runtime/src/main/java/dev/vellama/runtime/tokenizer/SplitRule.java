package dev.vellama.runtime.tokenizer;

/**
 * One step of a pre-tokenizer: cuts the segment {@code [start, end)} of a text (code point indices) into pieces
 * and appends their lengths, in order, to {@code lengths}. The lengths must add up to {@code end - start}.
 */
interface SplitRule {
    void split(CodepointText text, int start, int end, IntList lengths);
}
