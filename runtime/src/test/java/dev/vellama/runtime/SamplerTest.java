package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final float[] LOGITS = {1f, 5f, 3f, 4.9f, -2f, 0f, 4.95f, 2f};

    @Test
    void temperatureZeroIsArgmax() {
        Sampler s = new Sampler(GenerationParams.greedy(), LOGITS.length);
        assertEquals(1, s.sample(LOGITS, new int[0], 0));
    }

    @Test
    void topKOneIsArgmaxWhateverTheTemperature() {
        Sampler s = new Sampler(GenerationParams.defaults().withTopK(1).withTemperature(5f).withSeed(1L), LOGITS.length);
        for (int i = 0; i < 50; i++) {
            assertEquals(1, s.sample(LOGITS, new int[0], 0));
        }
    }

    @Test
    void seededDrawsRepeat() {
        int[] a = draws(42L, 200);
        int[] b = draws(42L, 200);
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
    }

    private static int[] draws(long seed, int n) {
        Sampler s = new Sampler(GenerationParams.defaults().withTemperature(1.5f).withMinP(0).withTopP(1f).withSeed(seed), LOGITS.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(LOGITS, new int[0], 0);
        }
        return out;
    }

    @Test
    void topKKeepsOnlyTheKBest() {
        Sampler s = new Sampler(GenerationParams.defaults().withTopK(3).withTemperature(10f).withMinP(0).withTopP(1f).withSeed(7L), LOGITS.length);
        assertEquals(Set.of(1, 3, 6), distinctDraws(s, LOGITS));
    }

    @Test
    void minPCutsUnlikelyTokens() {
        // min-p 0.5 keeps logits within ln 2 of the best: 5, 4.95, 4.9
        Sampler s = new Sampler(GenerationParams.defaults().withTopK(0).withTopP(1f).withMinP(0.5f).withTemperature(3f).withSeed(3L), LOGITS.length);
        assertEquals(Set.of(1, 3, 6), distinctDraws(s, LOGITS));
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        float[] l = {0f, (float) Math.log(6), (float) Math.log(3), 0f}; // probabilities 1/11, 6/11, 3/11, 1/11
        Sampler s = new Sampler(GenerationParams.defaults().withTopK(0).withMinP(0).withTopP(0.8f).withTemperature(1f).withSeed(5L), l.length);
        assertEquals(Set.of(1, 2), distinctDraws(s, l));
    }

    @Test
    void repeatPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] l = {3f, 2.9f, -1f};
        int[] history = {0};
        Sampler s = new Sampler(GenerationParams.greedy().withRepeatPenalty(1.1f, 64), l.length);
        assertEquals(1, s.sample(l, history, 1), "3/1.1 < 2.9");
        assertEquals(3f, l[0], "the caller's logits are not changed");
        Sampler presence = new Sampler(GenerationParams.greedy().withPresencePenalty(0.2f), l.length);
        assertEquals(1, presence.sample(l, history, 1));
        Sampler window = new Sampler(GenerationParams.greedy().withRepeatPenalty(1.1f, 1), l.length);
        assertEquals(0, window.sample(l, new int[] {0, 2}, 2), "token 0 is outside the last-1 window");
    }

    /** The tokens 500 draws produce: what the chain lets through. */
    private static Set<Integer> distinctDraws(Sampler s, float[] logits) {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            seen.add(s.sample(logits, new int[0], 0));
        }
        return seen;
    }

    @Test
    void withoutTopKTheDrawWalksTheVocabularyInIdOrder() {
        // tokens 1 and 3 tie for the best; at a tiny temperature the others weigh nothing. llama.cpp's draw walks
        // unsorted candidates in id order, so token 1 comes when the uniform number is at most a half, else token 3
        float[] logits = {0.5f, 2f, -1f, 2f, 0f, -0f, Float.NEGATIVE_INFINITY, 1f};
        Set<Integer> seen = new java.util.TreeSet<>();
        for (long seed = 0; seed < 64; seed++) {
            GenerationParams p = GenerationParams.builder().topK(0).topP(1f).minP(0f).temperature(1e-6f).seed(seed).build();
            int token = new Sampler(p, logits.length).sample(logits, new int[0], 0);
            double u = new Mt19937(seed).nextDouble();
            assertEquals(u <= 0.5 ? 1 : 3, token, "seed " + seed);
            seen.add(token);
        }
        assertEquals(Set.of(1, 3), seen);
    }

    @Test
    void builderStartsFromDefaultsAndChecksOnBuild() {
        GenerationParams p = GenerationParams.builder().maxTokens(7).temperature(0).stop("x", "y").build();
        assertEquals(GenerationParams.defaults().withMaxTokens(7).withTemperature(0).withStop(java.util.List.of("x", "y")), p);
        assertEquals(p, p.toBuilder().build());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> GenerationParams.builder().topP(0).build());
    }

    @Test
    void resultsWithEqualPromptsAreEqual() {
        Timings t = new Timings(1, 2, 3, 4);
        GenerationResult a = new GenerationResult(new int[] {1, 2}, java.util.List.of(), "", StopReason.EOS, t);
        GenerationResult b = new GenerationResult(new int[] {1, 2}, java.util.List.of(), "", StopReason.EOS, t);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
    }

    @Test
    void logitBiasComesFirstAndCanBanTheBestToken() {
        float[] logits = {0f, 3f, 2f, 1f};
        GenerationParams greedy = GenerationParams.greedy();
        assertEquals(1, new Sampler(greedy, 4).sample(logits, new int[0], 0));
        assertEquals(2, new Sampler(greedy.withLogitBias(java.util.Map.of(1, Float.NEGATIVE_INFINITY)), 4).sample(logits, new int[0], 0));
        assertEquals(3, new Sampler(greedy.withLogitBias(java.util.Map.of(3, 2.5f)), 4).sample(logits, new int[0], 0));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Sampler(greedy.withLogitBias(java.util.Map.of(9, 1f)), 4));
    }

    /** The chain with only what a test names: no top-k, top-p or min-p cut, temperature 1. */
    private static GenerationParams.Builder plain(long seed) {
        return GenerationParams.defaults().toBuilder().topK(0).topP(1f).minP(0f).temperature(1f).seed(seed);
    }

    private static float[] logitsOf(double... probabilities) {
        float[] l = new float[probabilities.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) Math.log(probabilities[i]);
        }
        return l;
    }

    @Test
    void typicalKeepsTheTokensWhoseSurpriseIsNearTheEntropy() {
        // p = .5 .2 .2 .1: entropy 1.22 nats; surprises .69 1.61 1.61 2.30, so |surprise - entropy| ranks tokens
        // 1 and 2 (0.39) before 0 (0.53) and 3 (1.08); their mass 0.4 is the first to pass 0.3
        float[] l = logitsOf(0.5, 0.2, 0.2, 0.1);
        assertEquals(Set.of(1, 2), distinctDraws(new Sampler(plain(3).typicalP(0.3f).build(), 4), l));
        assertEquals(Set.of(0, 1, 2), distinctDraws(new Sampler(plain(3).typicalP(0.85f).build(), 4), l));
        assertEquals(Set.of(0, 1, 2, 3), distinctDraws(new Sampler(plain(3).build(), 4), l), "1 = off");
    }

    @Test
    void xtcRemovesTheTopChoicesButTheLeastLikelyOfThem() {
        float[] l = logitsOf(0.4, 0.3, 0.2, 0.1);
        // 0, 1 and 2 are at least 0.15 likely: all but 2 go
        assertEquals(Set.of(2, 3), distinctDraws(new Sampler(plain(4).xtc(1f, 0.15f).build(), 4), l));
        // one token above the threshold: nothing to exclude
        assertEquals(Set.of(0, 1, 2, 3), distinctDraws(new Sampler(plain(4).xtc(1f, 0.35f).build(), 4), l));
        // a threshold above 0.5 turns it off, as does probability 0
        assertEquals(Set.of(0, 1, 2, 3), distinctDraws(new Sampler(plain(4).xtc(1f, 0.6f).build(), 4), l));
        assertEquals(Set.of(0, 1, 2, 3), distinctDraws(new Sampler(plain(4).xtc(0f, 0.15f).build(), 4), l));
    }

    @Test
    void mirostatTwoKeepsTokensWithinItsSurpriseBound() {
        float[] l = logitsOf(0.6, 0.3, 0.1);
        // tau 0.5 bits: mu starts at 1 bit, so only p >= 0.5 survives; each such draw (0 bits once renormalized)
        // raises mu by eta * 0.5 = 0.05, so token 1 (1.74 bits) stays out for the first 10 draws at least
        Sampler s = new Sampler(plain(5).mirostat(2, 0.5f, 0.1f).build(), 3);
        for (int i = 0; i < 10; i++) {
            assertEquals(0, s.sample(l, new int[0], 0), "draw " + i);
        }
        // a large target keeps everything
        assertEquals(Set.of(0, 1, 2), distinctDraws(new Sampler(plain(5).mirostat(2, 10f, 0.1f).build(), 3), l));
        // temperature 0 is greedy
        assertEquals(0, new Sampler(plain(5).temperature(0).mirostat(2, 10f, 0.1f).build(), 3).sample(l, new int[0], 0));
    }

    @Test
    void mirostatOneNarrowsToTheTopTokensForALowTarget() {
        // a Zipf-like distribution over 200 tokens; tau 0.1 gives a k of 1 at the start
        double[] p = new double[200];
        for (int i = 0; i < p.length; i++) {
            p[i] = 1.0 / (i + 1);
        }
        float[] l = logitsOf(p);
        Sampler low = new Sampler(plain(6).mirostat(1, 0.1f, 0.1f).build(), 200);
        assertEquals(0, low.sample(l, new int[0], 0));
        Set<Integer> wide = distinctDraws(new Sampler(plain(6).mirostat(1, 10f, 0.1f).build(), 200), l);
        assertTrue(wide.size() > 20, "a target of 10 bits keeps many tokens: " + wide.size());
    }

    @Test
    void dryPenalisesTheTokenThatWouldRepeatASequence() {
        // history a b c d a b c: token d (4) would extend the 3-token repeat "a b c" -> penalty 0.8 * 1.75^(3-2) = 1.4
        int[] history = {1, 2, 3, 4, 1, 2, 3};
        GenerationParams.Dry dry = new GenerationParams.Dry(0.8f, 1.75f, 2, -1, java.util.List.of());
        GenerationParams greedy = GenerationParams.greedy().toBuilder().dry(dry).build();
        float[] l = {-5f, -5f, -5f, -5f, 1.0f, -0.3f};
        float[] copy = l.clone();
        assertEquals(5, new Sampler(greedy, 6).sample(l, history, history.length), "1.0 - 1.4 < -0.3");
        assertEquals(copy[4], l[4], "the caller's logits are left alone");
        l[5] = -0.5f;
        assertEquals(4, new Sampler(greedy, 6).sample(l, history, history.length), "1.0 - 1.4 > -0.5");
        l[5] = -0.3f;
        // a shorter repeat than the allowed length goes free
        GenerationParams lenient = GenerationParams.greedy().toBuilder()
                .dry(new GenerationParams.Dry(0.8f, 1.75f, 3, -1, java.util.List.of())).build();
        assertEquals(4, new Sampler(lenient, 6).sample(l, new int[] {1, 2, 4, 1, 2}, 5));
        // a window too short to see the earlier occurrence
        GenerationParams near = GenerationParams.greedy().toBuilder()
                .dry(new GenerationParams.Dry(0.8f, 1.75f, 2, 4, java.util.List.of())).build();
        assertEquals(4, new Sampler(near, 6).sample(l, history, history.length));
        // token 2 breaks sequences: the repeat "a b c" cannot reach back across it
        DryBreakers b = DryBreakers.of(java.util.Map.of(2, java.util.List.of(new int[0])));
        assertEquals(4, new Sampler(greedy, 6, b).sample(l, history, history.length));
        // off by default
        assertEquals(4, new Sampler(GenerationParams.greedy(), 6).sample(l, history, history.length));
    }
}
