package dev.vellama.runtime;

/** A token with its log-probability: log-softmax of the raw logits, before any sampler. */
public record TokenLogprob(int id, float logprob) {}
