package dev.vellama.runtime;

import java.util.Locale;

import dev.vellama.gguf.GgufMetadata;

/**
 * How positions are stretched beyond the training context ({@code <arch>.rope.scaling.*}): none, linear
 * (positions × freqScale), YaRN (interpolation blended with extrapolation per dimension, and a magnitude
 * correction) or LongRoPE (per-dimension factors from {@code rope_factors_long/short}).
 *
 * @param type           the scaling method
 * @param freqScale      1 / rope.scaling.factor
 * @param originalContext the context the model was trained with before scaling
 * @param attnFactor     multiplies cos and sin (rope.scaling.attn_factor, default 1)
 * @param betaFast       YaRN's beta_fast: rotations per context above which a dimension is extrapolated (32)
 * @param betaSlow       YaRN's beta_slow: rotations per context below which a dimension is interpolated (1)
 */
public record RopeScaling(Type type, float freqScale, int originalContext, float attnFactor, float betaFast, float betaSlow) {

    /** The scaling method, as {@code rope.scaling.type} names it (LongRoPE: Phi-3's per-dimension factors). */
    public enum Type {
        /** Positions as they are. */
        NONE,
        /** Positions multiplied by freqScale. */
        LINEAR,
        /** YaRN: interpolation and extrapolation blended per dimension, with a magnitude correction. */
        YARN,
        /** LongRoPE: per-dimension factors from the model's {@code rope_factors_long/short} tensors. */
        LONGROPE
    }

    public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1f, 0, 1f, 32f, 1f);

    static RopeScaling fromGguf(GgufMetadata m, String prefix, int trainContext) {
        String name = m.getString(prefix + "rope.scaling.type", null);
        float factor = m.getFloat(prefix + "rope.scaling.factor", m.getFloat(prefix + "rope.scale_linear", 0f));
        Type type;
        if (name == null) {
            type = factor > 0 && factor != 1f ? Type.LINEAR : Type.NONE;
        } else {
            type = switch (name.toLowerCase(Locale.ROOT)) {
                case "none" -> Type.NONE;
                case "linear" -> Type.LINEAR;
                case "yarn" -> Type.YARN;
                case "longrope" -> Type.LONGROPE;
                default -> throw new UnsupportedModelException("RoPE scaling '" + name + "' is not supported");
            };
        }
        float freqScale = factor > 0 && type != Type.NONE && type != Type.LONGROPE ? 1f / factor : 1f;
        int original = m.getInt(prefix + "rope.scaling.original_context_length", trainContext);
        float attnFactor = m.getFloat(prefix + "rope.scaling.attn_factor", 1f);
        float logMultiplier = m.getFloat(prefix + "rope.scaling.yarn_log_multiplier", 0f);
        if (type == Type.YARN && logMultiplier != 0f && freqScale < 1f) {
            // llama.cpp's attention factor mscale(f, 1) / mscale(f, log_mul), with mscale(f, m) = 1 + 0.1·m·ln f; the
            // rotation then multiplies by mscale(f, 1) as for every YaRN model, so only the division stays here
            attnFactor /= (float) (1 + 0.1 * logMultiplier * Math.log(1 / freqScale));
        }
        return new RopeScaling(type, freqScale, original, attnFactor,
                m.getFloat(prefix + "rope.scaling.yarn_beta_fast", 32f), m.getFloat(prefix + "rope.scaling.yarn_beta_slow", 1f));
    }
}
