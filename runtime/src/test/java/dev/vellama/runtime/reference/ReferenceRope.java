package dev.vellama.runtime.reference;

/**
 * Rotary position embedding of one layer, in double precision, as ggml's {@code rope_ext} defines it:
 * θ_i = pos · base^(−2i/n_rot) / factor_i; then θ is interpolated by freq_scale, or with YaRN blended between
 * interpolation and extrapolation by a ramp over the pair index; cos and sin are multiplied by a magnitude
 * (rope.scaling.attn_factor, times YaRN's 1 + 0.1·ln(1/freq_scale)). NORM rotates pairs (2i, 2i+1), NEOX pairs
 * (i, i + n_rot/2); dimensions from n_rot on are left alone.
 *
 * <p>Interleaved multi-section RoPE (ggml's IMROPE, Qwen3.5) turns NEOX pairs by one of four positions: pair i
 * falls in sector s = i mod (the sections' total), which takes the height position if s mod 3 = 1 and
 * s < 3·sections[1], the width position if s mod 3 = 2 and s < 3·sections[2], the time position if s mod 3 = 0 and
 * s < 3·sections[0], else the extra position. llama.cpp gives a text token its position as time, height and width,
 * and 0 as the extra position, so the pairs of extra sectors turn by angle 0: they keep their values (times the
 * magnitude).
 */
final class ReferenceRope {
    private final int dims;
    private final double base;
    private final double freqScale;
    private final double[] factors;
    private final boolean neox;
    private final boolean yarn;
    private final double rampLow;
    private final double rampHigh;
    private final double magnitude;
    /** The four section sizes of IMROPE, or null. */
    private final int[] sections;

    /**
     * @param factors per-pair divisors of θ (rope_freqs or phi3's long/short factors), or null
     * @param globalFreqScale the model's own freq_scale, from which llama.cpp derives the YaRN attention factor
     */
    ReferenceRope(ReferenceConfig c, double base, double freqScale, double globalFreqScale, float[] factors) {
        this(c, c.ropeDims, base, freqScale, globalFreqScale, factors);
    }

    /** @param dims the rotated dimensions of this layer's heads (Gemma 4's sliding and global layers differ) */
    ReferenceRope(ReferenceConfig c, int dims, double base, double freqScale, double globalFreqScale, float[] factors) {
        this.dims = dims;
        this.base = base;
        this.freqScale = freqScale;
        this.neox = c.neox;
        this.yarn = c.yarn;
        if (factors != null && factors.length != dims / 2) {
            throw new IllegalArgumentException("rope factors of " + factors.length + " for " + dims + " rotated dimensions");
        }
        this.factors = factors == null ? null : toDouble(factors);
        this.rampLow = Math.max(0, Math.floor(correctionDim(c.originalContext, c.yarnBetaFast)));
        this.rampHigh = Math.min(dims - 1, Math.ceil(correctionDim(c.originalContext, c.yarnBetaSlow)));
        this.magnitude = magnitude(c.ropeAttnFactor, globalFreqScale, c.yarnLogMultiplier);
        this.sections = c.ropeSections;
    }

    /**
     * llama.cpp sets the context's attention factor to get_mscale(factor)/(1 + 0.1·ln factor) for YaRN (which is 1
     * for factor > 1), times rope.scaling.attn_factor; ggml then multiplies by 1 + 0.1·ln(1/freq_scale).
     */
    private double magnitude(double attnFactor, double globalFreqScale, double logMultiplier) {
        double m = attnFactor;
        if (yarn) {
            double factor = 1 / globalFreqScale;
            double mscale = factor <= 1 ? 1 : 0.1 * Math.log(factor) + 1;
            if (logMultiplier != 0) {
                // llama.cpp: get_mscale(factor, 1) / get_mscale(factor, mscale_all_dims)
                mscale /= factor <= 1 ? 1 : 0.1 * logMultiplier * Math.log(factor) + 1;
            }
            m *= mscale / (1 + 0.1 * Math.log(factor));
            m *= 1 + 0.1 * Math.log(1 / freqScale);
        }
        return m;
    }

    /** The pair index whose wavelength makes {@code rotations} turns over the original context. */
    private double correctionDim(int originalContext, double rotations) {
        return dims * Math.log(originalContext / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    /** Rotates {@code heads} heads of {@code headDim} in {@code x} for position {@code pos}, in place. */
    void apply(double[] x, int heads, int headDim, int pos) {
        int pairs = dims / 2;
        for (int i = 0; i < pairs; i++) {
            double theta = angle(sections == null ? pos : sectionPosition(i, pos), i);
            double cos = Math.cos(theta) * magnitude;
            double sin = Math.sin(theta) * magnitude;
            for (int h = 0; h < heads; h++) {
                int a = h * headDim + (neox ? i : 2 * i);
                int b = h * headDim + (neox ? i + pairs : 2 * i + 1);
                double x0 = x[a];
                double x1 = x[b];
                x[a] = x0 * cos - x1 * sin;
                x[b] = x0 * sin + x1 * cos;
            }
        }
    }

    /** The position by which IMROPE turns pair {@code i} of a text token at {@code pos}. */
    private int sectionPosition(int i, int pos) {
        int total = sections[0] + sections[1] + sections[2] + sections[3];
        int sector = i % total;
        boolean time = sector % 3 == 0 && sector < 3 * sections[0];
        boolean height = sector % 3 == 1 && sector < 3 * sections[1];
        boolean width = sector % 3 == 2 && sector < 3 * sections[2];
        int timePosition = pos;
        int heightPosition = pos;
        int widthPosition = pos;
        int extraPosition = 0;
        return height ? heightPosition : width ? widthPosition : time ? timePosition : extraPosition;
    }

    private double angle(int pos, int pair) {
        double extrapolated = pos * Math.pow(base, -2.0 * pair / dims);
        if (factors != null) {
            extrapolated /= factors[pair];
        }
        double interpolated = freqScale * extrapolated;
        if (!yarn) {
            return interpolated;
        }
        double ramp = 1 - Math.min(1, Math.max(0, (pair - rampLow) / Math.max(0.001, rampHigh - rampLow)));
        return interpolated * (1 - ramp) + extrapolated * ramp;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
