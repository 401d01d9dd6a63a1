package dev.vellama.runtime;

/**
 * How well one neuron separates two sets of texts ({@link ContrastiveActivations#rank}): each text is the mean of
 * the neuron's activation over its tokens.
 *
 * @param layer        the layer, from 0
 * @param neuron       the neuron's index at the point the activations were read
 * @param accuracy     the share of texts one threshold on this neuron classifies right, the better direction taken
 *                     (0.5 to 1)
 * @param effectSize   (mean of the positive texts − mean of the negative ones) / their pooled standard deviation
 * @param meanPositive the mean over the positive texts
 * @param meanNegative the mean over the negative texts
 */
public record NeuronScore(int layer, int neuron, double accuracy, double effectSize, double meanPositive, double meanNegative) {
}
