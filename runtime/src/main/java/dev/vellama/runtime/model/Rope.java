package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.RopeScaling;

/**
 * The rotation angles of RoPE for one position, computed as llama.cpp does in single precision:
 * θ_i = pos · base^(−2i/n_rot) / factor_i, the power built up by repeated multiplication, then scaled (linear
 * interpolation, or YaRN's blend of interpolation and extrapolation per dimension), and cos/sin multiplied by the
 * magnitude correction. The CPU pass computes a position's angles as it goes; the CUDA pass uploads a
 * {@link #table} of all of them, so both rotate by identical angles.
 */
public final class Rope {
    private final int pairs;
    private final float thetaScale;
    private final float[] factors;
    private final float freqScale;
    private final float extFactor;
    private final float mscale;
    private final float corrLow;
    private final float corrHigh;
    private final boolean[] still; // pairs that do not turn (multi-section RoPE's extra section), or null

    /**
     * @param factors per-pair frequency divisors (llama3 {@code rope_freqs}, LongRoPE factors), or null
     */
    Rope(int dims, float base, RopeScaling scaling, float[] factors) {
        this(dims, base, scaling, factors, null);
    }

    /**
     * @param still per pair, whether it keeps an angle of 0 whatever the position; null when every pair turns
     */
    Rope(int dims, float base, RopeScaling scaling, float[] factors, boolean[] still) {
        this.still = still;
        this.pairs = dims / 2;
        this.thetaScale = (float) Math.pow(base, -2.0 / dims);
        this.factors = factors;
        this.freqScale = scaling.freqScale();
        boolean yarn = scaling.type() == RopeScaling.Type.YARN;
        this.extFactor = yarn ? 1f : 0f;
        float m = scaling.attnFactor();
        if (yarn && freqScale != 1f) {
            m *= 1f + 0.1f * (float) Math.log(1f / freqScale);
        }
        this.mscale = m;
        if (yarn) {
            int original = scaling.originalContext();
            this.corrLow = Math.max(0f, (float) Math.floor(corrDim(dims, original, scaling.betaFast(), base)));
            this.corrHigh = Math.min(dims - 1, (float) Math.ceil(corrDim(dims, original, scaling.betaSlow(), base)));
        } else {
            this.corrLow = 0;
            this.corrHigh = 0;
        }
    }

    /**
     * The model's rotation for a context of {@code positions}: its per-pair factors ({@code rope_freqs}; for
     * LongRoPE the long factors once the context exceeds the one the model was trained with) and scaling.
     */
    public static Rope of(ModelConfig c, ModelWeights w, int positions) {
        float[] factors = w.ropeFactors;
        if (w.ropeFactorsLong != null) {
            factors = positions > c.ropeScaling().originalContext() ? w.ropeFactorsLong : w.ropeFactorsShort;
        }
        return new Rope(c.ropeDims(), c.ropeBase(), c.ropeScaling(), factors, stillPairs(c));
    }

    /**
     * The pairs that interleaved multi-section RoPE (llama.cpp's IMROPE, Qwen3.5) leaves unturned for text: a text
     * token's time, height and width positions are all its position and its extra position is 0, so pair i turns with
     * the position unless its sector (i mod the sections' total) falls in none of the first three interleaved sections.
     * Null when every pair turns.
     */
    private static boolean[] stillPairs(ModelConfig c) {
        int[] s = c.ropeSections();
        int total = s.length == 4 ? s[0] + s[1] + s[2] + s[3] : 0;
        if (total == 0) {
            return null;
        }
        boolean[] still = new boolean[c.ropeDims() / 2];
        boolean any = false;
        for (int i = 0; i < still.length; i++) {
            int sector = i % total;
            boolean turns = sector % 3 == 0 && sector < 3 * s[0] || sector % 3 == 1 && sector < 3 * s[1]
                    || sector % 3 == 2 && sector < 3 * s[2];
            still[i] = !turns;
            any |= still[i];
        }
        return any ? still : null;
    }

    /**
     * The rotation of sliding-window layers where they have a base of their own (Gemma 3) or a shape of their own
     * (Gemma 4: smaller heads, and none of the global layers' rope_freqs), else {@code global}.
     */
    public static Rope local(ModelConfig c, Rope global) {
        if (c.layout().present()) {
            return new Rope(c.layout().ropeDimsLocal(), c.ropeBaseLocal(), c.ropeScaling(), null);
        }
        if (c.ropeBaseLocal() == c.ropeBase()) {
            return global;
        }
        // Gemma 3's local layers rotate unscaled; gpt-oss's keep the model's scaling with their own base
        RopeScaling scaling = c.architecture() == dev.vellama.runtime.Architecture.GPT_OSS ? c.ropeScaling() : RopeScaling.NONE;
        return new Rope(c.ropeDims(), c.ropeBaseLocal(), scaling, null);
    }

    /** The dimension at which a rotation of {@code rotations} turns over the original context happens. */
    private static double corrDim(int dims, int originalContext, float rotations, float base) {
        return dims * Math.log(originalContext / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    public int pairs() {
        return pairs;
    }

    /** The angles of positions 0..positions-1: {cos, sin}, each [position][pair]. */
    public float[][] table(int positions) {
        float[] cos = new float[positions * pairs];
        float[] sin = new float[positions * pairs];
        float[] c = new float[pairs];
        float[] s = new float[pairs];
        for (int p = 0; p < positions; p++) {
            angles(p, c, s);
            System.arraycopy(c, 0, cos, p * pairs, pairs);
            System.arraycopy(s, 0, sin, p * pairs, pairs);
        }
        return new float[][] {cos, sin};
    }

    /** Fills cos[0..pairs) and sin[0..pairs) for position {@code pos}. */
    void angles(int pos, float[] cos, float[] sin) {
        angles(pos, cos, sin, mscale);
    }

    /**
     * The pure rotation by {@code delta} positions (may be negative), without the magnitude correction: what moves a
     * key already rotated for position p to position p + delta, as llama.cpp's K-shift does after a context shift.
     * The angles are linear in the position for every scaling here (YaRN's ramp depends on the pair alone).
     */
    public void rotation(int delta, float[] cos, float[] sin) {
        angles(delta, cos, sin, 1f);
    }

    private void angles(int pos, float[] cos, float[] sin, float magnitude) {
        float theta = pos;
        for (int i = 0; i < pairs; i++) {
            float extrapolated = factors != null ? theta / factors[i] : theta;
            float t = freqScale * extrapolated;
            if (extFactor != 0f) {
                float y = (i - corrLow) / Math.max(0.001f, corrHigh - corrLow);
                float ramp = (1f - Math.min(1f, Math.max(0f, y))) * extFactor;
                t = t * (1f - ramp) + extrapolated * ramp;
            }
            if (still != null && still[i]) {
                t = 0f;
            }
            cos[i] = (float) Math.cos(t) * magnitude;
            sin[i] = (float) Math.sin(t) * magnitude;
            theta *= thetaScale;
        }
    }
}
