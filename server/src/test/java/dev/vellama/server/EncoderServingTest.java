package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.vellama.runtime.EncoderModel;
import dev.vellama.testdata.TinyBert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A BERT served for embeddings only: /v1/embeddings answers, generation routes say why they do not. */
class EncoderServingTest {
    @Test
    void aBertAnswersEmbeddingsOnly(@TempDir Path dir) throws Exception {
        Path file = TinyBert.write(dir.resolve("bert.gguf"));
        List<String> log = new CopyOnWriteArrayList<>();
        try (EncoderModel model = EncoderModel.load(file, 2);
             VellamaServer server = VellamaServer.start(VellamaServer.ServerOptions.defaults().withPort(0).withLog(log::add))) {
            server.attachEncoder(model, "bert");
            String base = "http://127.0.0.1:" + server.port();
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(base + "/v1").apiKey("none").maxRetries(0).build();
            try {
                CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder().model("bert")
                        .inputOfArrayOfStrings(List.of("Hello world", "Goodbye")).build());
                r.validate();
                float[] expected = model.embed(List.of("Goodbye"))[0];
                List<Float> got = r.data().get(1).embedding();
                float[] g = new float[got.size()];
                for (int i = 0; i < g.length; i++) {
                    g[i] = got.get(i);
                }
                assertArrayEquals(expected, g, 1e-6f);
            } finally {
                client.close();
            }
            Http http = new Http(base, null);
            Http.Answer chat = http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
            assertEquals(400, chat.status());
            assertEquals("model_not_generative", chat.error("code"));
            assertEquals(200, http.get("/health").status());
            assertTrue(http.get("/v1/models").body().contains("\"embedding_only\":true"));
            assertEquals(200, http.get("/metrics").status());
            assertEquals(200, http.post("/tokenize", "{\"content\": \"Hello world\"}").status());
        }
    }
}
