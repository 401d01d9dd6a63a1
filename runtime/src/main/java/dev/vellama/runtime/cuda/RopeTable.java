package dev.vellama.runtime.cuda;

import dev.vellama.runtime.model.ModelConfig;

/**
 * RoPE angles for every position of a context, cos and sin as [position][pair], computed once with the same
 * single-precision recurrence as the CPU path (θ_i = pos · base^(−2i/n_rot) / factor_i · scale, the power built by
 * repeated multiplication), so that both paths rotate by identical angles.
 */
final class RopeTable {
    final int pairs;
    final float[] cos;
    final float[] sin;

    RopeTable(ModelConfig c, float[] factors, int positions) {
        pairs = c.ropeDims() / 2;
        float thetaScale = (float) Math.pow(c.ropeBase(), -2.0 / c.ropeDims());
        cos = new float[positions * pairs];
        sin = new float[positions * pairs];
        for (int p = 0; p < positions; p++) {
            float theta = p;
            for (int i = 0; i < pairs; i++) {
                float t = theta;
                if (factors != null) {
                    t /= factors[i];
                }
                t *= c.ropeScale();
                cos[p * pairs + i] = (float) Math.cos(t);
                sin[p * pairs + i] = (float) Math.sin(t);
                theta *= thetaScale;
            }
        }
    }
}
