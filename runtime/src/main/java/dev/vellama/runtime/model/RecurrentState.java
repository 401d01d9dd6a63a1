package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;

/**
 * What a sequence's linear-attention layers (Qwen3.5's gated delta net) carry from one token to the next instead of
 * keys and values: per layer, the last {@code convKernel − 1} inputs of the causal convolution and one
 * {@code headDim × headDim} state per value head. Unlike cells of a KV cache, a state cannot go back: it holds the
 * sequence after exactly {@link #position(int)} tokens, so a caller may continue at that position or start again at
 * 0, nothing between (llama.cpp's recurrent memory has the same rule).
 *
 * <p>Layouts, in floats: the convolution state {@code [tap][channel]}, oldest input first; the delta state
 * {@code [value head][j][i]}, row j holding column j of the head's S (S[i][j] at {@code j·headDim + i}), so reading
 * out Sᵀk or Sᵀq is one dot product per row, as ggml stores it.
 */
public final class RecurrentState {
    private final ModelConfig.DeltaNet shape;
    private final float[][] conv;
    private final float[][] delta;
    private final int[] position;

    /** Zero states for the linear-attention layers of {@code shape} from {@code firstLayer} on. */
    public RecurrentState(ModelConfig.DeltaNet shape, int firstLayer) {
        this.shape = shape;
        int layers = shape.recurrent().length;
        conv = new float[layers][];
        delta = new float[layers][];
        position = new int[layers];
        for (int l = firstLayer; l < layers; l++) {
            if (shape.inLayer(l)) {
                conv[l] = new float[shape.convStateSize()];
                delta[l] = new float[shape.stateSize()];
            }
        }
    }

    /** Bytes the states of {@code shape}'s linear-attention layers take, per sequence. */
    public static long bytesFor(ModelConfig.DeltaNet shape) {
        long layers = 0;
        for (boolean r : shape.recurrent()) {
            layers += r ? 1 : 0;
        }
        return layers * 4L * (shape.convStateSize() + shape.stateSize());
    }

    /** Whether layer {@code layer} is a linear-attention layer whose state this holds. */
    public boolean holdsLayer(int layer) {
        return layer < conv.length && conv[layer] != null;
    }

    /** The convolution state of {@code layer}, {@code [tap][channel]}; updated in place. */
    public float[] conv(int layer) {
        return conv[layer];
    }

    /** The delta-rule states of {@code layer}, {@code [value head][j][i]}; updated in place. */
    public float[] delta(int layer) {
        return delta[layer];
    }

    /** The tokens layer {@code layer}'s state has taken in. */
    public int position(int layer) {
        return position[layer];
    }

    /**
     * Makes layer {@code layer} ready for tokens from {@code pos}: position 0 clears its state (a new sequence);
     * any other must be where the state stands.
     *
     * @throws IllegalStateException when {@code pos} is neither 0 nor the layer's position
     */
    public void startAt(int layer, int pos) {
        if (pos == 0) {
            java.util.Arrays.fill(conv[layer], 0f);
            java.util.Arrays.fill(delta[layer], 0f);
            position[layer] = 0;
        } else if (position[layer] != pos) {
            throw new IllegalStateException("the recurrent state of layer " + layer + " holds " + position[layer]
                    + " tokens; it cannot continue at position " + pos);
        }
    }

    /** Records that layer {@code layer} has taken in the tokens up to {@code pos}. */
    public void advanceTo(int layer, int pos) {
        position[layer] = pos;
    }

    /** Whether every layer's state stands at {@code pos} (0 always: a sequence can start again). */
    public boolean canContinueAt(int pos) {
        if (pos == 0) {
            return true;
        }
        for (int l = 0; l < conv.length; l++) {
            if (conv[l] != null && position[l] != pos) {
                return false;
            }
        }
        return true;
    }

    /** Bytes the states take on the heap. */
    public long bytes() {
        long total = 0;
        for (int l = 0; l < conv.length; l++) {
            if (conv[l] != null) {
                total += 4L * (conv[l].length + delta[l].length);
            }
        }
        return total;
    }

    /** Bytes {@link #transfer} moves for one layer. */
    public long transferBytes() {
        return 4L * (shape.convStateSize() + shape.stateSize());
    }

    /**
     * Streams layer {@code layer}'s states to {@code stream} (saving) or from it (loading, after which the layer
     * stands at {@code pos}).
     */
    public void transfer(int layer, int pos, KvCache.CellStream stream) throws java.io.IOException {
        stream.floats(conv[layer], 0, conv[layer].length);
        stream.floats(delta[layer], 0, delta[layer].length);
        position[layer] = pos;
    }
}
