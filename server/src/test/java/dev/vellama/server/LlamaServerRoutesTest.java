package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** llama-server's native {@code /completion} and {@code /props}, in llama-server's shapes. */
class LlamaServerRoutesTest {
    private static ServerFixture fixture;
    private static Http http;

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture(2, 1024, 8, null);
        http = new Http(fixture.baseUrl(), null);
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void completionAnswersWithContentStopTypeAndTimings() throws Exception {
        Http.Answer a = http.post("/completion", "{\"prompt\": \"Once upon a time\", \"n_predict\": 12, \"temperature\": 0}");
        assertEquals(200, a.status(), a.body());
        JsonNode o = a.json();
        int[] prompt = fixture.model.completionPrompt("Once upon a time");
        assertEquals(fixture.alone(prompt, 12), o.path("content").asText());
        assertTrue(o.path("stop").asBoolean());
        assertEquals("limit", o.path("stop_type").asText());
        assertEquals(12, o.path("tokens_predicted").asInt());
        assertEquals(prompt.length, o.path("tokens_evaluated").asInt());
        assertEquals(12, o.path("tokens").size());
        assertEquals(12, o.path("timings").path("predicted_n").asInt());
        assertTrue(o.path("timings").path("predicted_per_second").asDouble() > 0, o.toString());
        assertEquals(0.0, o.path("generation_settings").path("temperature").asDouble());
        assertEquals(ServerFixture.MODEL_FILE, o.path("model").asText());
    }

    @Test
    void tokenIdsAndProbabilities() throws Exception {
        int[] prompt = fixture.model.completionPrompt("The table");
        StringBuilder ids = new StringBuilder();
        for (int id : prompt) {
            ids.append(ids.isEmpty() ? "" : ", ").append(id);
        }
        Http.Answer a = http.post("/completion", "{\"prompt\": [" + ids + "], \"n_predict\": 6, \"temperature\": 0, \"n_probs\": 3}");
        assertEquals(200, a.status(), a.body());
        assertEquals(fixture.alone(prompt, 6), a.json().path("content").asText());
        JsonNode probs = a.json().path("completion_probabilities");
        assertEquals(6, probs.size());
        for (JsonNode p : probs) {
            assertEquals(3, p.path("top_logprobs").size(), p.toString());
            assertEquals(p.path("id").asInt(), p.path("top_logprobs").get(0).path("id").asInt(), "greedy takes the best");
            assertTrue(p.path("logprob").asDouble() <= 0);
        }
    }

    @Test
    void streamIsServerSentEventsEndingWithStop() throws Exception {
        HttpResponse<InputStream> r = http.open("/completion", "{\"prompt\": \"Once upon a time\", \"n_predict\": 10, "
                + "\"temperature\": 0, \"stream\": true}");
        assertEquals(200, r.statusCode());
        List<JsonNode> events = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("data:")) {
                    String data = line.substring(5).strip();
                    assertFalse(data.equals("[DONE]"), "the native route sends no [DONE]");
                    events.add(Http.JSON.readTree(data));
                }
            }
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < events.size(); i++) {
            assertEquals(i == events.size() - 1, events.get(i).path("stop").asBoolean(), events.get(i).toString());
            text.append(events.get(i).path("content").asText());
        }
        assertEquals(fixture.alone(fixture.model.completionPrompt("Once upon a time"), 10), text.toString());
        assertEquals("limit", events.getLast().path("stop_type").asText());
        assertEquals(10, events.getLast().path("tokens_predicted").asInt());
    }

    @Test
    void aStopWordIsReported() throws Exception {
        String greedy = fixture.alone(fixture.model.completionPrompt("Once upon a time"), 40);
        String word = greedy.strip().split("\\s+")[1];
        Http.Answer a = http.post("/completion", "{\"prompt\": \"Once upon a time\", \"n_predict\": 40, \"temperature\": 0, "
                + "\"stop\": [" + Http.JSON.writeValueAsString(word) + "]}");
        assertEquals(200, a.status(), a.body());
        assertEquals("word", a.json().path("stop_type").asText(), a.body());
        assertEquals(word, a.json().path("stopping_word").asText());
        assertFalse(a.json().path("content").asText().contains(word));
    }

    @Test
    void propsGivesTheSlotsContext() throws Exception {
        Http.Answer a = http.get("/props");
        assertEquals(200, a.status(), a.body());
        assertEquals(fixture.engine.slotContext(), a.json().path("default_generation_settings").path("n_ctx").asInt());
        assertEquals(2, a.json().path("total_slots").asInt());
        assertEquals(40, a.json().path("default_generation_settings").path("params").path("top_k").asInt());
    }

    @Test
    void badFieldsAre400s() throws Exception {
        Http.Answer many = http.post("/completion", "{\"prompt\": [\"a\", \"b\"]}");
        assertEquals(400, many.status());
        assertEquals("prompt", many.error("param"));
        Http.Answer probs = http.post("/completion", "{\"prompt\": \"a\", \"n_probs\": 1000}");
        assertEquals(400, probs.status());
        assertEquals("n_probs", probs.error("param"));
        assertEquals(400, http.post("/completion", "{}").status());
    }

    @Test
    void infillOnAModelWithoutFillInTheMiddleTokensIs501() throws Exception {
        Http.Answer a = http.post("/infill", "{\"input_prefix\": \"a\", \"input_suffix\": \"b\"}");
        assertEquals(501, a.status(), a.body());
        assertEquals("not_supported_error", a.json().path("error").path("type").asText());
        assertTrue(a.json().path("error").path("message").asText().contains("infill is not supported"), a.body());
        Http.Answer ollama = http.post("/api/generate", "{\"prompt\": \"a\", \"suffix\": \"b\", \"stream\": false}");
        assertEquals(400, ollama.status(), ollama.body());
        assertTrue(ollama.json().path("error").asText().contains("does not support insert"), ollama.body());
    }

    @Test
    void applyTemplateGivesThePromptAChatRequestWouldGenerateFrom() throws Exception {
        Http.Answer a = http.post("/apply-template", "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, "
                + "{\"role\": \"user\", \"content\": \"What is an index?\"}]}");
        assertEquals(200, a.status(), a.body());
        String prompt = a.json().path("prompt").asText();
        assertTrue(prompt.contains("What is an index?") && prompt.contains("Be brief."), prompt);
        int[] chat = fixture.model.chatPrompt(List.of(dev.vellama.runtime.chat.ChatMessage.system("Be brief."),
                dev.vellama.runtime.chat.ChatMessage.user("What is an index?")));
        assertEquals(java.util.Arrays.toString(chat), java.util.Arrays.toString(fixture.model.tokenizeChat(prompt)));
        assertEquals(400, http.post("/apply-template", "{}").status());
    }
}
