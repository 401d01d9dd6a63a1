package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.VellamaException;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;

/** Embeddings of decoder models next to llama-embedding's vectors for the same texts (kept as test data). */
class EmbeddingsTest {
    private static JsonNode reference() throws IOException {
        try (InputStream in = EmbeddingsTest.class.getResourceAsStream("/embeddings.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static double cosine(float[] a, JsonNode b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            double y = b.get(i).asDouble();
            dot += a[i] * y;
            na += (double) a[i] * a[i];
            nb += y * y;
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void vectorsAreLlamaEmbeddingsForEveryModelAndPooling() throws IOException {
        JsonNode ref = reference();
        List<String> texts = new ArrayList<>();
        ref.path("texts").forEach(t -> texts.add(t.asText()));
        for (JsonNode c : ref.path("cases")) {
            try (Model m = Model.load(TestData.model(c.path("model").asText()))) {
                float[][] v = Embeddings.compute(m, texts, Embeddings.Options.defaults().withThreads(2)
                        .withPooling(Embeddings.Pooling.parse(c.path("pooling").asText())));
                for (int i = 0; i < texts.size(); i++) {
                    JsonNode expected = c.path("embeddings").get(i);
                    assertEquals(expected.size(), v[i].length);
                    double cos = cosine(v[i], expected);
                    assertTrue(cos >= 0.9999, c.path("model").asText() + " " + c.path("pooling").asText() + " text " + i + ": cosine " + cos);
                    double norm = 0;
                    for (float x : v[i]) {
                        norm += x * x;
                    }
                    assertEquals(1.0, norm, 1e-5, "Euclidean-normalized");
                }
            }
        }
    }

    /** An independent double-precision reference for the pooling and normalization arithmetic. */
    @Test
    void poolingAndNormalizationAgreeWithADoubleReference() throws IOException {
        try (Model m = Model.load(TestData.model("stories-llama2-q8_0.gguf"));
             Session s = m.newSession(SessionOptions.defaults().withContextSize(64).withThreads(2))) {
            int[] tokens = m.tokenizer().encode("The cat sat on the mat.", true, true);
            float[] hidden = s.hiddenStates(tokens);
            int d = m.config().embeddingLength();
            double[] mean = new double[d];
            for (int t = 0; t < tokens.length; t++) {
                for (int j = 0; j < d; j++) {
                    mean[j] += hidden[t * d + j] / (double) tokens.length;
                }
            }
            double len = 0;
            for (double x : mean) {
                len += x * x;
            }
            len = Math.sqrt(len);
            float[] v = Embeddings.compute(m, List.of("The cat sat on the mat."), Embeddings.Options.defaults().withThreads(2)
                    .withPooling(Embeddings.Pooling.MEAN))[0];
            for (int j = 0; j < d; j++) {
                assertEquals(mean[j] / len, v[j], 1e-5);
            }
            float[] taxicab = Embeddings.normalize(new float[] {3, -4}, 1);
            assertArrayEquals(new float[] {3f / 7, -4f / 7}, taxicab, 1e-7f);
            float[] int16 = Embeddings.normalize(new float[] {0.5f, -1f}, 0);
            assertArrayEquals(new float[] {16380f, -32760f}, int16, 1e-2f);
        }
    }

    /** Several texts go through the model in one pass, each in a cache of its own: each vector is the one it gets alone. */
    @Test
    void textsTogetherGiveWhatEachGivesAlone() throws IOException {
        List<String> texts = List.of("Hello world", "The cat sat on the mat.", "a", "Vellama runs models on the JVM, fast.");
        try (Model m = Model.load(TestData.model("stories-llama2-q8_0.gguf"))) {
            float[][] together = m.embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                float[] alone = m.embed(List.of(texts.get(i)))[0];
                assertArrayEquals(alone, together[i], 2e-5f, "text " + i);
            }
        }
    }

    @Test
    void embeddingIsThreadSafeAndRefusesWhatItCannotDo() throws Exception {
        try (Model m = Model.load(TestData.model("tiny-llama3-q8_0.gguf"))) {
            float[] alone = m.embed(List.of("Hello world"))[0];
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<float[]>> all = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                all.add(pool.submit(() -> m.embed(List.of("Hello world"))[0]));
            }
            for (Future<float[]> f : all) {
                assertArrayEquals(alone, f.get());
            }
            pool.shutdown();
            VellamaException e = assertThrows(VellamaException.class, () -> Embeddings.Pooling.parse("none"));
            assertTrue(e.getMessage().contains("per-token"), e.getMessage());
        }
    }
}
