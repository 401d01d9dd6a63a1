package dev.vellama.runtime.cuda;

import dev.vellama.runtime.model.ModelConfig;
import dev.vellama.runtime.model.ModelWeights;
import dev.vellama.runtime.model.RopeScaling;

/**
 * RoPE angles for every position of a context, cos and sin as [position][pair], computed once on the host with
 * the same single-precision steps as the CPU engine's rotation (θ_i = pos · base^(−2i/n_rot) / factor_i, the power
 * built by repeated multiplication; then linear or YaRN scaling and the magnitude correction), so that both paths
 * rotate by identical angles whatever the scaling.
 */
final class RopeTable {
    final int pairs;
    final float[] cos;
    final float[] sin;

    /** The model's angles. */
    static RopeTable of(ModelConfig c, ModelWeights w, int positions) {
        float[] factors = w.ropeFactors;
        if (w.ropeFactorsLong != null) {
            // LongRoPE: the long factors once the context exceeds the one the model was trained with
            factors = positions > c.ropeScaling().originalContext() ? w.ropeFactorsLong : w.ropeFactorsShort;
        }
        return new RopeTable(c.ropeDims(), c.ropeBase(), c.ropeScaling(), factors, positions);
    }

    /** The angles of sliding-window layers where they use a base of their own (Gemma 3), else {@code global}. */
    static RopeTable local(ModelConfig c, RopeTable global, int positions) {
        return c.ropeBaseLocal() == c.ropeBase() ? global
                : new RopeTable(c.ropeDims(), c.ropeBaseLocal(), RopeScaling.NONE, null, positions);
    }

    private RopeTable(int dims, float base, RopeScaling scaling, float[] factors, int positions) {
        pairs = dims / 2;
        float thetaScale = (float) Math.pow(base, -2.0 / dims);
        float freqScale = scaling.freqScale();
        boolean yarn = scaling.type() == RopeScaling.Type.YARN;
        float extFactor = yarn ? 1f : 0f;
        float mscale = scaling.attnFactor();
        if (yarn && freqScale != 1f) {
            mscale *= 1f + 0.1f * (float) Math.log(1f / freqScale);
        }
        float corrLow = 0;
        float corrHigh = 0;
        if (yarn) {
            int original = scaling.originalContext();
            corrLow = Math.max(0f, (float) Math.floor(corrDim(dims, original, scaling.betaFast(), base)));
            corrHigh = Math.min(dims - 1, (float) Math.ceil(corrDim(dims, original, scaling.betaSlow(), base)));
        }
        cos = new float[positions * pairs];
        sin = new float[positions * pairs];
        for (int p = 0; p < positions; p++) {
            float theta = p;
            for (int i = 0; i < pairs; i++) {
                float extrapolated = factors != null ? theta / factors[i] : theta;
                float t = freqScale * extrapolated;
                if (extFactor != 0f) {
                    float y = (i - corrLow) / Math.max(0.001f, corrHigh - corrLow);
                    float ramp = (1f - Math.min(1f, Math.max(0f, y))) * extFactor;
                    t = t * (1f - ramp) + extrapolated * ramp;
                }
                cos[p * pairs + i] = (float) Math.cos(t) * mscale;
                sin[p * pairs + i] = (float) Math.sin(t) * mscale;
                theta *= thetaScale;
            }
        }
    }

    /** The dimension at which a rotation of {@code rotations} turns over the original context happens. */
    private static double corrDim(int dims, int originalContext, float rotations, float base) {
        return dims * Math.log(originalContext / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }
}
