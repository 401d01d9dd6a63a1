package dev.vellama.runtime.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The transformer architectures this runtime runs, as GGUF names them ({@code general.architecture}). Each is a set
 * of options of one forward pass ({@link ForwardPass}), not a separate implementation.
 */
public enum Architecture {
    /** Llama 2/3.x, Mistral, SmolLM, TinyLlama: interleaved ("normal") RoPE pairs, optional rope_freqs. */
    LLAMA("llama", RopeStyle.NORMAL, false),
    /** Qwen2/2.5: q/k/v biases, NEOX RoPE. */
    QWEN2("qwen2", RopeStyle.NEOX, true),
    /** Qwen3: per-head RMSNorm of q and k before RoPE, NEOX RoPE, head_dim from key_length. */
    QWEN3("qwen3", RopeStyle.NEOX, false);

    private final String ggufName;
    private final RopeStyle ropeStyle;
    private final boolean qkvBias;

    Architecture(String ggufName, RopeStyle ropeStyle, boolean qkvBias) {
        this.ggufName = ggufName;
        this.ropeStyle = ropeStyle;
        this.qkvBias = qkvBias;
    }

    public String ggufName() {
        return ggufName;
    }

    public RopeStyle ropeStyle() {
        return ropeStyle;
    }

    /** Whether q, k and v projections carry biases that the model must have. */
    public boolean requiresQkvBias() {
        return qkvBias;
    }

    public static Architecture fromGguf(String name) {
        if (name == null) {
            throw new UnsupportedModelException("the model file does not name its architecture (general.architecture)");
        }
        for (Architecture a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        throw new UnsupportedModelException("architecture '" + name + "' is not supported (supported: "
                + Arrays.stream(values()).map(Architecture::ggufName).collect(Collectors.joining(", ")) + ")");
    }

    /** How RoPE pairs the dimensions of a head. */
    public enum RopeStyle {
        /** Pairs (2i, 2i+1): llama.cpp's mode 0. */
        NORMAL,
        /** Pairs (i, i + n_rot/2): llama.cpp's NEOX mode. */
        NEOX
    }
}
