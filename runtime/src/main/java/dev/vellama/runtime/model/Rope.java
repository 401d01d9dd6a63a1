package dev.vellama.runtime.model;

/**
 * The rotation angles of RoPE for one position, computed as llama.cpp does in single precision:
 * θ_i = pos · base^(−2i/n_rot) / factor_i · scale, the power built up by repeated multiplication.
 */
final class Rope {
    private final int pairs;
    private final float thetaScale;
    private final float[] factors;
    private final float scale;

    Rope(ModelConfig c, float[] factors) {
        this.pairs = c.ropeDims() / 2;
        this.thetaScale = (float) Math.pow(c.ropeBase(), -2.0 / c.ropeDims());
        this.factors = factors;
        this.scale = c.ropeScale();
    }

    int pairs() {
        return pairs;
    }

    /** Fills cos[0..pairs) and sin[0..pairs) for position {@code pos}. */
    void angles(int pos, float[] cos, float[] sin) {
        float theta = pos;
        for (int i = 0; i < pairs; i++) {
            float t = theta;
            if (factors != null) {
                t /= factors[i];
            }
            t *= scale;
            cos[i] = (float) Math.cos(t);
            sin[i] = (float) Math.sin(t);
            theta *= thetaScale;
        }
    }
}
