package dev.vellama.runtime;

/**
 * A token with its log-probability: log-softmax of the raw logits, before any sampler.
 *
 * @param id      the token id
 * @param logprob natural log of its probability, at most 0
 */
public record TokenLogprob(int id, float logprob) {}
