package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.vellama.VellamaException;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Neuron ranking and steering vectors, recomputed here from the hooks' own readings. */
class ContrastiveActivationsTest {
    private static Model stories;
    private static List<String> success;
    private static List<String> failure;

    @BeforeAll
    static void load() throws IOException {
        stories = Model.load(TestData.model("stories-llama2-q8_0.gguf"));
        success = Files.readAllLines(Path.of("../docs/examples/success.txt")).subList(0, 8);
        failure = Files.readAllLines(Path.of("../docs/examples/failure.txt")).subList(0, 8);
    }

    @AfterAll
    static void close() {
        if (stories != null) {
            stories.close();
        }
    }

    private static Session session() {
        return stories.newSession(SessionOptions.defaults().withContextSize(64).withThreads(2));
    }

    /** Each text's mean over its tokens after BOS at one layer and point, read with a plain hook. */
    private static double[] textMeans(Session s, List<String> texts, ActivationPoint point, int layer, int neuron) {
        double[] means = new double[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            int[] tokens = s.tokenize(texts.get(i));
            double[] sum = new double[1];
            try (Session.Hook h = s.observe(point, layer, (l, p, pos, v, off, len) -> {
                if (pos > 0) {
                    sum[0] += v[off + neuron];
                }
            })) {
                s.evaluateAll(tokens);
            }
            means[i] = sum[0] / (tokens.length - 1);
        }
        return means;
    }

    @Test
    void theTopNeuronsScoresAreItsTextsMeansAndTheBestThreshold() {
        try (Session s = session()) {
            ContrastiveActivations a = ContrastiveActivations.collect(s, ActivationPoint.FFN_ACT, success, failure);
            List<NeuronScore> top = a.rank(-1, 5);
            assertEquals(5, top.size());
            for (int i = 1; i < top.size(); i++) {
                assertTrue(top.get(i - 1).accuracy() >= top.get(i).accuracy(), "ranked by accuracy");
            }
            NeuronScore best = top.get(0);
            double[] p = textMeans(s, success, ActivationPoint.FFN_ACT, best.layer(), best.neuron());
            double[] n = textMeans(s, failure, ActivationPoint.FFN_ACT, best.layer(), best.neuron());
            assertEquals(java.util.Arrays.stream(p).average().orElseThrow(), best.meanPositive(), 1e-6);
            assertEquals(java.util.Arrays.stream(n).average().orElseThrow(), best.meanNegative(), 1e-6);
            // brute force: every threshold between two values, both directions
            double bestAccuracy = 0.5;
            for (double[] set : new double[][] {p, n}) {
                for (double t : set) {
                    int right = 0;
                    for (double v : p) {
                        right += v >= t ? 1 : 0;
                    }
                    for (double v : n) {
                        right += v < t ? 1 : 0;
                    }
                    int total = p.length + n.length;
                    bestAccuracy = Math.max(bestAccuracy, Math.max(right, total - right) / (double) total);
                }
            }
            assertEquals(bestAccuracy, best.accuracy(), 1e-9);
            List<NeuronScore> layer2 = a.rank(2, 3);
            assertTrue(layer2.stream().allMatch(x -> x.layer() == 2));
        }
    }

    @Test
    void theSteeringVectorIsTheDifferenceOfTheMeanResiduals() {
        try (Session s = session()) {
            ContrastiveActivations a = ContrastiveActivations.collect(s, ActivationPoint.FFN_ACT, success, failure);
            ControlVector v = a.steeringVector();
            assertEquals(5, v.lastLayer());
            assertEquals(null, v.direction(0));
            for (int j : new int[] {0, 17, 255}) {
                double p = java.util.Arrays.stream(textMeans(s, success, ActivationPoint.RESIDUAL, 4, j)).average().orElseThrow();
                double n = java.util.Arrays.stream(textMeans(s, failure, ActivationPoint.RESIDUAL, 4, j)).average().orElseThrow();
                assertEquals(p - n, v.direction(4)[j], 1e-5, "layer 4, value " + j);
            }
        }
    }

    @Test
    void emptySetsAreRefused() {
        try (Session s = session()) {
            assertThrows(VellamaException.class, () -> ContrastiveActivations.collect(s, ActivationPoint.RESIDUAL, List.of(), failure));
        }
    }
}
