package dev.vellama.runtime;

import java.util.Locale;

/**
 * A named point inside each transformer layer where activations can be read and edited ({@link Session#observe}).
 * The names are those llama.cpp's graph gives the same tensors.
 */
public enum ActivationPoint {
    /** The layer's input after the attention norm: what the q, k and v projections read (embedding width). */
    ATTN_NORM,
    /** The attention block's output after its output projection, before it joins the residual (embedding width). */
    ATTN_OUT,
    /** The residual stream after attention, normed for the feed-forward block (embedding width). */
    FFN_NORM,
    /**
     * The gated MLP's activations, act(gate·x) ⊙ (up·x): what the down projection reads (feed-forward width; dense
     * layers only, not a mixture of experts' layers). Neuron i of a layer is element i here.
     */
    FFN_ACT,
    /** The feed-forward block's output after the down projection, before it joins the residual (embedding width). */
    FFN_OUT,
    /** The residual stream at the layer's output, a control vector added (llama.cpp's {@code l_out}; embedding width). */
    RESIDUAL;

    /** {@return the point's name as written on the command line and in llama.cpp, such as {@code ffn_act}} */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * {@return the point named {@code label}} ({@code attn_norm}, {@code attn_out}, {@code ffn_norm}, {@code ffn_act},
     * {@code ffn_out} or {@code residual}, any case)
     *
     * @param label the point's name
     * @throws IllegalArgumentException for another name, listing the valid ones
     */
    public static ActivationPoint parse(String label) {
        for (ActivationPoint p : values()) {
            if (p.label().equalsIgnoreCase(label)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown activation point '" + label
                + "': expected attn_norm, attn_out, ffn_norm, ffn_act, ffn_out or residual");
    }
}
