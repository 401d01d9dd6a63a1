package dev.vellama.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guards the meaning of the parity tests: on the tiny models and the parity sequence, switching any one option
 * off (or to its neighbour) must move the reference's logits by far more than the parity tolerance, so an engine
 * that ignored or misread that option could not pass {@link ArchitectureParityTest}.
 */
class TinyModelSensitivityTest {
    /** Fifty times the parity tolerance. */
    static final double MIN_EFFECT = 50 * ArchitectureParityTest.MAX_ABS_DIFF;

    @TempDir
    static Path dir;

    @Test
    void ropeFreqsMatter() throws IOException {
        TinySpec without = TinyModels.llamaRopeFreqs().copy().named("llama-no-rope-freqs");
        without.llama3RopeFreqs = false;
        assertEffect(TinyModels.llamaRopeFreqs(), without);
    }

    @Test
    void linearScalingMatters() throws IOException {
        TinySpec unscaled = TinyModels.llamaLinearScaling().copy().named("llama-unscaled");
        unscaled.ropeScaling = null;
        assertEffect(TinyModels.llamaLinearScaling(), unscaled);
    }

    @Test
    void yarnDiffersFromLinearScalingOfTheSameFactor() throws IOException {
        TinySpec linear = TinyModels.llamaYarnScaling().copy().named("llama-yarn-as-linear");
        linear.ropeScaling = "linear";
        assertEffect(TinyModels.llamaYarnScaling(), linear);
    }

    @Test
    void phi3SlidingWindowMatters() throws IOException {
        TinySpec full = TinyModels.phi3().copy().named("phi3-no-window");
        full.slidingWindow = 0;
        assertEffect(TinyModels.phi3(), full);
    }

    @Test
    void phi3LongAndShortFactorsDiffer() throws IOException {
        Path file = TinyModels.write(TinyModels.phi3(), dir);
        int[] tokens = ArchitectureParityTest.tokens();
        double[][] shortFactors = new ReferenceTransformer(file, ArchitectureParityTest.CONTEXT).logits(tokens);
        double[][] longFactors = new ReferenceTransformer(file, 8192).logits(tokens);
        assertEffect("phi3 long vs short factors", shortFactors, longFactors);
    }

    @Test
    void partialRotaryMatters() throws IOException {
        TinySpec full = TinyModels.phi3LongFactors().copy().named("phi3-full-rotary");
        full.ropeDims = 0;
        assertEffect(TinyModels.phi3LongFactors(), full);
    }

    @Test
    void gemma2AttentionSoftcapMatters() throws IOException {
        assertEffect(TinyModels.gemma2(), TinyModels.gemma2().copy().named("gemma2-default-attn-cap").attnSoftcap(0));
    }

    @Test
    void gemma2FinalSoftcapMatters() throws IOException {
        assertEffect(TinyModels.gemma2(), TinyModels.gemma2().copy().named("gemma2-default-final-cap").finalSoftcap(0));
    }

    @Test
    void gemma2SlidingWindowMatters() throws IOException {
        assertEffect(TinyModels.gemma2(), TinyModels.gemma2().copy().named("gemma2-wide-window").slidingWindow(4096));
    }

    @Test
    void gemma3SlidingWindowMaskMatters() throws IOException {
        assertEffect(TinyModels.gemma3(), TinyModels.gemma3().copy().named("gemma3-wide-window").slidingWindow(4096));
    }

    @Test
    void gemma3LocalRopeOfSlidingLayersMatters() throws IOException {
        // a window wider than the sequence masks nothing, so the two differ only in the local layers' RoPE
        TinySpec wide = TinyModels.gemma3().copy().named("gemma3-local-rope").slidingWindow(4096);
        TinySpec global = TinyModels.gemma3().copy().named("gemma3-all-global").slidingWindow(0);
        assertEffect(wide, global);
    }

    private static void assertEffect(TinySpec spec, TinySpec variant) throws IOException {
        int[] tokens = ArchitectureParityTest.tokens();
        double[][] a = new ReferenceTransformer(TinyModels.write(spec, dir), ArchitectureParityTest.CONTEXT).logits(tokens);
        double[][] b = new ReferenceTransformer(TinyModels.write(variant, dir), ArchitectureParityTest.CONTEXT).logits(tokens);
        assertEffect(spec + " vs " + variant, a, b);
    }

    private static void assertEffect(String what, double[][] a, double[][] b) {
        double max = 0;
        for (int t = 0; t < a.length; t++) {
            for (int i = 0; i < a[t].length; i++) {
                max = Math.max(max, Math.abs(a[t][i] - b[t][i]));
            }
        }
        System.out.printf("%s: logits move by up to %.4f%n", what, max);
        assertTrue(max > MIN_EFFECT, what + ": logits move by only " + max);
    }
}
