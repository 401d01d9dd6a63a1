package dev.vellama.runtime;

/**
 * Called with one token's activations at one {@link ActivationPoint} of one layer, during the forward pass, on the
 * thread that runs the session. The hook may read {@code values[offset .. offset + length)} and may change them in
 * place: the pass goes on with what it leaves there. It must not keep the array, which the pass reuses.
 */
@FunctionalInterface
public interface ActivationHook {
    /**
     * Called with one token's activations.
     *
     * @param layer    the layer, from 0
     * @param point    where in the layer
     * @param position the token's position in its sequence
     * @param values   the pass's buffer; this token's activations are {@code [offset, offset + length)}
     * @param offset   where they start
     * @param length   how many: the embedding width, or the feed-forward width at {@link ActivationPoint#FFN_ACT}
     */
    void onActivation(int layer, ActivationPoint point, int position, float[] values, int offset, int length);
}
