package dev.vellama.runtime;

import java.util.List;

/**
 * One generated token, as streamed.
 *
 * @param id          the token id in the model's vocabulary; -1 for a last entry that only carries text held
 *                    back until the generation ended
 * @param text        the text this token completes and releases (may be empty: a partial UTF-8 character or a
 *                    possible start of a stop string is held until it is decided)
 * @param logprob     log-softmax of the raw logits for this token; NaN unless the generation asked for logprobs
 *                    ({@link GenerationParams#reportsLogprobs()})
 * @param topLogprobs the most likely alternatives at this step (as many as asked for)
 */
public record GeneratedToken(int id, String text, float logprob, List<TokenLogprob> topLogprobs) {}
