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
    void withoutTopKTheWholeVocabularyIsSortedByLogitThenId() {
        float[] logits = {0.5f, 2f, -1f, 2f, 0f, -0f, Float.NEGATIVE_INFINITY, 1f};
        // greedy at temperature → tiny: the draw takes the first candidate, the highest logit with the lowest id
        GenerationParams p = GenerationParams.builder().topK(0).topP(1f).minP(0f).temperature(1e-6f).seed(3L).build();
        assertEquals(1, new Sampler(p, logits.length).sample(logits, new int[0], 0));
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
}
