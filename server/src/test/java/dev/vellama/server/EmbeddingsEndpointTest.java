package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code POST /v1/embeddings} with the OpenAI Java SDK and LangChain4j, next to the library's own vectors. */
class EmbeddingsEndpointTest {
    private static ServerFixture fixture;
    private static OpenAIClient client;
    private static Http http;

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture("tiny-llama3-q8_0.gguf", 1, 512, 4, null);
        client = OpenAIOkHttpClient.builder().baseUrl(fixture.baseUrl() + "/v1").apiKey("none").maxRetries(0).build();
        http = new Http(fixture.baseUrl(), null);
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    private static float[] floats(List<Float> v) {
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    @Test
    void theSdksEmbeddingsAreTheLibrarys() {
        List<String> texts = List.of("Hello world", "The cat sat on the mat.");
        float[][] expected = fixture.model.embed(texts);
        CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder().model("m")
                .inputOfArrayOfStrings(texts).build());
        r.validate();
        assertEquals(2, r.data().size());
        for (int i = 0; i < 2; i++) {
            assertEquals(i, r.data().get(i).index());
            assertArrayEquals(expected[i], floats(r.data().get(i).embedding()), 1e-6f);
        }
        assertTrue(r.usage().promptTokens() > 0);
    }

    @Test
    void langChain4jEmbedsThroughTheServer() {
        OpenAiEmbeddingModel model = OpenAiEmbeddingModel.builder().baseUrl(fixture.baseUrl() + "/v1").apiKey("none")
                .modelName("m").maxRetries(0).build();
        List<Embedding> e = model.embedAll(List.of(TextSegment.from("Hello world"), TextSegment.from("Goodbye"))).content();
        assertEquals(2, e.size());
        assertArrayEquals(fixture.model.embed(List.of("Goodbye"))[0], e.get(1).vector(), 1e-6f);
    }

    @Test
    void base64TokenIdsAndErrors() throws Exception {
        Http.Answer a = http.post("/v1/embeddings", "{\"input\": [[1, 2, 3], \"Hello world\"], \"encoding_format\": \"base64\"}");
        assertEquals(200, a.status(), a.body());
        JsonNode d = a.json().path("data");
        byte[] raw = Base64.getDecoder().decode(d.get(1).path("embedding").asText());
        float[] v = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        assertArrayEquals(fixture.model.embed(List.of("Hello world"))[0], v, 1e-6f);
        assertEquals(64, v.length);
        String[][] bad = {{"{}", "input"}, {"{\"input\": \"x\", \"encoding_format\": \"hex\"}", "encoding_format"},
                {"{\"input\": \"x\", \"dimensions\": 8}", "dimensions"}, {"{\"input\": [[999999]]}", "input"},
                {"{\"input\": \"\"}", "input"}, {"{\"input\": 5}", "input"}};
        for (String[] b : bad) {
            Http.Answer r = http.post("/v1/embeddings", b[0]);
            assertEquals(400, r.status(), b[0]);
            assertEquals(b[1], r.error("param"), b[0]);
        }
    }
}
