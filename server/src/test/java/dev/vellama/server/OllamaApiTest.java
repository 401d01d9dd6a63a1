package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaLanguageModel;
import dev.langchain4j.model.ollama.OllamaModel;
import dev.langchain4j.model.ollama.OllamaModelCard;
import dev.langchain4j.model.ollama.OllamaModels;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.ollama.RunningOllamaModel;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.Response;
import dev.vellama.runtime.chat.ChatMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ollama's API: LangChain4j's Ollama models, unchanged, pointed at the server on loopback (chat, streaming chat,
 * generate, embeddings, the model listing and card), and the raw shapes a client of ollama reads (NDJSON streams,
 * {@code {"error": "..."}}, the load-only generate, structured output through {@code format}).
 */
class OllamaApiTest {
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

    private static final List<ChatMessage> CHAT = List.of(ChatMessage.system("You write about databases."),
            ChatMessage.user("What is an index?"));

    @Test
    void chatModelAnswersWithTheGreedyText() {
        OllamaChatModel model = OllamaChatModel.builder().baseUrl(fixture.baseUrl()).modelName(ServerFixture.MODEL_FILE)
                .temperature(0.0).numPredict(20).maxRetries(0).build();
        ChatResponse r = model.chat(SystemMessage.from("You write about databases."), UserMessage.from("What is an index?"));
        assertEquals(fixture.alone(fixture.model.chatPrompt(CHAT), 20), r.aiMessage().text());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(20, r.tokenUsage().outputTokenCount());
        assertEquals(fixture.model.chatPrompt(CHAT).length, r.tokenUsage().inputTokenCount());
    }

    @Test
    void streamingChatModelStreamsTheSameText() throws Exception {
        OllamaStreamingChatModel model = OllamaStreamingChatModel.builder().baseUrl(fixture.baseUrl())
                .modelName(ServerFixture.MODEL_FILE).temperature(0.0).numPredict(20).build();
        StringBuilder partial = new StringBuilder();
        List<String> pieces = new ArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(List.of(SystemMessage.from("You write about databases."), UserMessage.from("What is an index?")),
                new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String text) {
                        partial.append(text);
                        pieces.add(text);
                    }

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });
        ChatResponse r = done.get(60, TimeUnit.SECONDS);
        assertEquals(fixture.alone(fixture.model.chatPrompt(CHAT), 20), partial.toString());
        assertTrue(pieces.size() > 5, "streamed in pieces: " + pieces);
        assertEquals(partial.toString(), r.aiMessage().text());
        assertEquals(20, r.tokenUsage().outputTokenCount());
    }

    @Test
    void languageModelGeneratesFromAUserTurn() {
        OllamaLanguageModel model = OllamaLanguageModel.builder().baseUrl(fixture.baseUrl())
                .modelName(ServerFixture.MODEL_FILE).temperature(0.0).numPredict(12).maxRetries(0).build();
        Response<String> r = model.generate("Once upon a time");
        assertEquals(fixture.alone(fixture.model.chatPrompt(List.of(ChatMessage.user("Once upon a time"))), 12), r.content());
        assertEquals(12, r.tokenUsage().outputTokenCount());
    }

    @Test
    void embeddingModelGivesUnitVectorsOfTheModelsWidth() {
        OllamaEmbeddingModel model = OllamaEmbeddingModel.builder().baseUrl(fixture.baseUrl())
                .modelName(ServerFixture.MODEL_FILE).maxRetries(0).build();
        List<Embedding> vectors = model.embedAll(List.of(
                dev.langchain4j.data.segment.TextSegment.from("A table of rows."),
                dev.langchain4j.data.segment.TextSegment.from("The cat sat on the mat."))).content();
        assertEquals(2, vectors.size());
        for (Embedding e : vectors) {
            assertEquals(fixture.model.config().embeddingLength(), e.dimension());
            double norm = 0;
            for (float x : e.vector()) {
                norm += x * x;
            }
            assertEquals(1.0, Math.sqrt(norm), 1e-4);
        }
        assertNotEquals(vectors.get(0).vectorAsList(), vectors.get(1).vectorAsList());
    }

    @Test
    void modelsListCardAndRunningModel() {
        OllamaModels models = OllamaModels.builder().baseUrl(fixture.baseUrl()).maxRetries(0).build();
        List<OllamaModel> list = models.availableModels().content();
        assertEquals(1, list.size());
        OllamaModel m = list.getFirst();
        assertEquals(ServerFixture.MODEL_FILE, m.getName());
        assertEquals(fixture.model.file().fileSize(), m.getSize());
        assertEquals("llama", m.getDetails().getFamily());
        assertEquals("gguf", m.getDetails().getFormat());
        assertEquals(64, m.getDigest().length());
        OllamaModelCard card = models.modelCard(m).content();
        assertEquals("llama", card.getModelInfo().get("general.architecture"));
        assertTrue(card.getCapabilities().contains("completion"), card.getCapabilities().toString());
        assertFalse(card.getModelInfo().containsKey("tokenizer.ggml.tokens"), "long arrays are left out");
        List<RunningOllamaModel> running = models.runningModels().content();
        assertEquals(1, running.size());
        assertEquals(ServerFixture.MODEL_FILE, running.getFirst().getName());
    }

    @Test
    void chatStreamsNewlineDelimitedJsonByDefault() throws Exception {
        HttpResponse<InputStream> r = http.open("/api/chat", "{\"model\": \"any\", \"messages\": [{\"role\": \"system\", "
                + "\"content\": \"You write about databases.\"}, {\"role\": \"user\", \"content\": \"What is an index?\"}], "
                + "\"options\": {\"temperature\": 0, \"num_predict\": 16}}");
        assertEquals(200, r.statusCode());
        assertEquals("application/x-ndjson", r.headers().firstValue("content-type").orElse(""));
        List<JsonNode> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(Http.JSON.readTree(line));
            }
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            JsonNode l = lines.get(i);
            assertEquals(ServerFixture.MODEL_FILE, l.path("model").asText());
            assertEquals("assistant", l.path("message").path("role").asText());
            assertEquals(i == lines.size() - 1, l.path("done").asBoolean(), l.toString());
            text.append(l.path("message").path("content").asText());
        }
        JsonNode last = lines.getLast();
        assertEquals("length", last.path("done_reason").asText());
        assertEquals(16, last.path("eval_count").asInt());
        assertEquals(fixture.model.chatPrompt(CHAT).length, last.path("prompt_eval_count").asInt());
        assertTrue(last.path("total_duration").asLong() > 0);
        assertEquals(fixture.alone(fixture.model.chatPrompt(CHAT), 16), text.toString());
    }

    @Test
    void generateWithRawTakesThePromptAsItIs() throws Exception {
        Http.Answer a = http.post("/api/generate", "{\"model\": \"m\", \"prompt\": \"Once upon a time\", \"raw\": true, "
                + "\"stream\": false, \"options\": {\"temperature\": 0, \"num_predict\": 10}}");
        assertEquals(200, a.status(), a.body());
        assertEquals(fixture.alone(fixture.model.completionPrompt("Once upon a time"), 10), a.json().path("response").asText());
        assertEquals("length", a.json().path("done_reason").asText());
    }

    @Test
    void generateWithNoPromptOnlyLoads() throws Exception {
        Http.Answer a = http.post("/api/generate", "{\"model\": \"m\"}");
        assertEquals(200, a.status(), a.body());
        assertTrue(a.json().path("done").asBoolean());
        assertEquals("load", a.json().path("done_reason").asText());
    }

    @Test
    void formatHoldsTheReplyToASchema() throws Exception {
        Http.Answer a = http.post("/api/chat", "{\"messages\": [{\"role\": \"user\", \"content\": \"Name a colour.\"}], "
                + "\"stream\": false, \"options\": {\"temperature\": 0, \"num_predict\": 200}, \"format\": {\"type\": \"object\", "
                + "\"properties\": {\"colour\": {\"type\": \"string\", \"maxLength\": 12}}, \"required\": [\"colour\"], "
                + "\"additionalProperties\": false}}");
        assertEquals(200, a.status(), a.body());
        JsonNode reply = Http.JSON.readTree(a.json().path("message").path("content").asText());
        assertTrue(reply.path("colour").isTextual(), reply.toString());
        assertEquals(1, reply.size(), reply.toString());
        assertEquals("stop", a.json().path("done_reason").asText());
    }

    @Test
    void errorsAreOllamasShape() throws Exception {
        Http.Answer bad = http.post("/api/chat", "{\"messages\": [], \"options\": {\"temperature\": \"hot\"}}");
        assertEquals(400, bad.status());
        assertTrue(bad.json().path("error").isTextual(), bad.body());
        assertTrue(bad.json().path("error").asText().contains("temperature"), bad.body());
        Http.Answer json = http.post("/api/generate", "{\"prompt\": ");
        assertEquals(400, json.status());
        assertTrue(json.json().path("error").asText().contains("JSON"), json.body());
        Http.Answer images = http.post("/api/chat", "{\"messages\": [{\"role\": \"user\", \"content\": \"What is this?\", "
                + "\"images\": [\"aGVsbG8=\"]}]}");
        assertEquals(400, images.status());
        assertTrue(images.json().path("error").asText().contains("images"), images.body());
        Http.Answer context = http.post("/api/generate", "{\"prompt\": \"Hi\", \"context\": [1, 2, 3]}");
        assertEquals(400, context.status());
        assertTrue(context.json().path("error").asText().contains("context"), context.body());
        Http.Answer format = http.post("/api/chat", "{\"messages\": [], \"format\": \"yaml\"}");
        assertEquals(400, format.status());
        Http.Answer none = http.get("/api/pull");
        assertEquals(404, none.status());
        assertTrue(none.json().path("error").isTextual(), none.body());
        // the OpenAI routes keep their error object
        assertEquals("invalid_value", http.post("/v1/chat/completions", "{\"messages\": 3}").error("code"));
        // and the server still answers
        assertEquals(200, http.post("/api/generate", "{\"prompt\": \"Hi\", \"stream\": false, \"options\": {\"num_predict\": 2}}").status());
    }

    @Test
    void aConversationWithToolCallsInOllamasShapeRenders() throws Exception {
        String tools = "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": "
                + "\"The weather in a city\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": "
                + "\"string\"}}, \"required\": [\"city\"]}}}]";
        String ask = "{\"role\": \"user\", \"content\": \"What is the weather in Oslo?\"}";
        Http.Answer first = http.post("/api/chat", "{\"messages\": [" + ask + "], " + tools
                + ", \"stream\": false, \"options\": {\"num_predict\": 4, \"temperature\": 0}}");
        assertEquals(200, first.status(), first.body());
        // the call (arguments an object, as ollama sends them) and its result go back into the conversation
        Http.Answer next = http.post("/api/chat", "{\"messages\": [" + ask + ", {\"role\": \"assistant\", \"content\": \"\", "
                + "\"tool_calls\": [{\"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}}]}, "
                + "{\"role\": \"tool\", \"content\": \"{\\\"sky\\\": \\\"clear\\\"}\", \"tool_name\": \"get_weather\"}], " + tools
                + ", \"stream\": false, \"options\": {\"num_predict\": 4, \"temperature\": 0}}");
        assertEquals(200, next.status(), next.body());
        assertTrue(next.json().path("prompt_eval_count").asInt() > first.json().path("prompt_eval_count").asInt() + 4,
                first.body() + " / " + next.body());
        Http.Answer bad = http.post("/api/chat", "{\"messages\": [{\"role\": \"assistant\", \"tool_calls\": [{\"function\": {}}]}]}");
        assertEquals(400, bad.status());
        assertTrue(bad.json().path("error").asText().contains("tool_calls"), bad.body());
    }

    @Test
    void versionAndRoot() throws Exception {
        Http.Answer v = http.get("/api/version");
        assertEquals(200, v.status());
        assertFalse(v.json().path("version").asText("unknown").equals("unknown"), v.body());
        assertEquals(200, http.get("/").status());
    }

    @Test
    void aClientThatLeavesAStreamFreesItsSlot() throws Exception {
        // a plain socket, reset when closed: the client is gone the moment it leaves (an HTTP client's pooled
        // connection may close later than its body stream, after a fast model has already finished)
        byte[] body = "{\"prompt\": \"Tell me a long story.\", \"options\": {\"num_predict\": 400}}".getBytes(StandardCharsets.UTF_8);
        java.net.URI base = java.net.URI.create(fixture.baseUrl());
        try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
            socket.setSoLinger(true, 0);
            java.io.OutputStream out = socket.getOutputStream();
            out.write(("POST /api/generate HTTP/1.1\r\nHost: " + base.getHost() + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int pieces = 0;
            for (String line = in.readLine(); line != null && pieces < 3; line = in.readLine()) {
                if (line.startsWith("{")) { // the chunked body's lines; headers and chunk sizes are not JSON
                    assertFalse(Http.JSON.readTree(line).path("done").asBoolean());
                    pieces++;
                }
            }
            assertEquals(3, pieces);
        } // the client leaves after three pieces
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (fixture.engine.stats().busySlots() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, fixture.engine.stats().busySlots());
        deadline = System.nanoTime() + 5_000_000_000L;
        while (fixture.log.stream().noneMatch(l -> l.startsWith("POST /api/generate") && l.contains("client disconnected"))
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(fixture.log.stream().anyMatch(l -> l.startsWith("POST /api/generate") && l.contains("client disconnected")),
                fixture.log.toString());
    }
}
