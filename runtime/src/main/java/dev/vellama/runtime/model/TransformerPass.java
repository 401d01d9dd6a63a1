package dev.vellama.runtime.model;

/**
 * What a session needs from a forward pass, whichever device runs it: the CPU {@link ForwardPass}, or the CUDA pass
 * in {@code dev.vellama.runtime.cuda} (which is loaded only when asked for).
 */
public interface TransformerPass extends AutoCloseable {
    /** Where and how it computes, for people: vector width and threads, or the GPU and how many layers it has. */
    String description();

    /** The largest chunk of tokens one call takes. */
    int maxBatch();

    /** Runs tokens at positions pos.. (their keys and values join the cache); logits of the last one. */
    float[] forwardLast(int[] tokens, int from, int n, int pos);

    /** Like {@link #forwardLast} but the logits of every token, row-major [token][vocab]. */
    float[] forwardAll(int[] tokens, int from, int n, int pos);

    /**
     * Like {@link #forwardAll}, with each token's products as its own one-token step computes them where the pass
     * can (so a speculative draft is verified on the logits plain decoding would see); {@link #forwardAll} where not.
     */
    default float[] forwardRows(int[] tokens, int from, int n, int pos) {
        return forwardAll(tokens, from, n, pos);
    }

    /**
     * Runs tokens at positions pos.. like {@link #forwardAll} but returns each token's hidden state after the final
     * norm, row-major [token][embedding] (what embeddings pool), or null where this pass cannot.
     */
    default float[] forwardHidden(int[] tokens, int from, int n, int pos) {
        return null;
    }

    /**
     * Whether a token at position {@code pos} can be evaluated on what the cache holds before it (a cache whose
     * sliding-window layers keep a ring has forgotten older positions); when not, the caller starts from position 0.
     */
    default boolean canContinueAt(int pos) {
        return true;
    }

    /** The most cells a context shift of {@code length} cached positions may forget after the first {@code keep}. */
    default int maxDiscard(int keep, int length) {
        return length - keep;
    }

    /**
     * Forgets cached positions {@code [keep, keep + discard)} of the first {@code length}, moving the later ones down
     * with their keys re-rotated (a context shift). False when this pass cannot (the caller then evaluates the
     * moved tokens again at their new positions).
     */
    default boolean shiftCache(int keep, int discard, int length) {
        return false;
    }

    /** Sets the activation hooks the layers run (null or empty for none). */
    default void hooks(ActivationHooks hooks) {
        throw new UnsupportedOperationException("this pass runs no activation hooks");
    }

    /** The cache on the Java heap that holds every layer, or null when (some of) it lives on a device. */
    default KvCache hostCache() {
        return null;
    }

    /**
     * For a pass without a {@link #hostCache}: copies what its cache holds of positions {@code [0, length)} into
     * {@code into} (a heap cache of every layer, as a CPU session of the same context and chunk size keeps), so that
     * it can be saved.
     *
     * @throws UnsupportedOperationException where this pass cannot
     */
    default void copyCacheTo(KvCache into, int length) {
        throw new UnsupportedOperationException("this pass keeps no cache to copy");
    }

    /**
     * For a pass without a {@link #hostCache}: replaces its cache with positions {@code [0, length)} of
     * {@code from} (a loaded session), so that it goes on from there.
     *
     * @throws UnsupportedOperationException where this pass cannot
     */
    default void copyCacheFrom(KvCache from, int length) {
        throw new UnsupportedOperationException("this pass keeps no cache to replace");
    }

    /** Frees what the pass holds beyond the Java heap. */
    @Override
    void close();
}
