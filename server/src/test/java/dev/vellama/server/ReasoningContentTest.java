package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The reasoning of a model whose template writes {@code <think>} (Qwen 3's) comes back apart from the answer, as
 * llama-server hands it out: {@code message.reasoning_content}, or {@code delta.reasoning_content} when streaming.
 * The model's weights are random, so a grammar makes it write a reasoning and an answer.
 */
class ReasoningContentTest {
    private static final String GRAMMAR = "root ::= \"<think>\\nplan it\\n</think>\\n\\nthe answer\"";
    private static ServerFixture fixture;
    private static Http http;

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture("tiny-qwen3-q8_0.gguf", 2, 1024, 8, null);
        http = new Http(fixture.baseUrl(), null);
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private static ObjectNode body(boolean stream, String reasoningFormat) throws IOException {
        ObjectNode b = (ObjectNode) Http.JSON.readTree(Http.chatBody("Think, then answer.", 60, stream));
        b.put("grammar", GRAMMAR);
        if (reasoningFormat != null) {
            b.put("reasoning_format", reasoningFormat);
        }
        return b;
    }

    @Test
    void theReasoningIsApartFromTheAnswer() throws Exception {
        Http.Answer a = http.post("/v1/chat/completions", body(false, null).toString());
        assertEquals(200, a.status(), a.body());
        JsonNode message = Http.JSON.readTree(a.body()).path("choices").get(0).path("message");
        assertEquals("plan it", message.path("reasoning_content").asText());
        assertEquals("the answer", message.path("content").asText());
    }

    @Test
    void reasoningFormatNoneLeavesTheReplyAsWritten() throws Exception {
        Http.Answer a = http.post("/v1/chat/completions", body(false, "none").toString());
        JsonNode message = Http.JSON.readTree(a.body()).path("choices").get(0).path("message");
        assertEquals("<think>\nplan it\n</think>\n\nthe answer", message.path("content").asText());
        assertTrue(message.path("reasoning_content").isMissingNode());
    }

    @Test
    void streamingSendsReasoningDeltasThenContentDeltas() throws Exception {
        HttpResponse<java.io.InputStream> r = http.open("/v1/chat/completions", body(true, null).toString());
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        boolean contentStarted = false;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.startsWith("data:")) {
                    continue;
                }
                String data = line.substring(5).strip();
                if (data.equals("[DONE]")) {
                    continue;
                }
                JsonNode choices = Http.JSON.readTree(data).path("choices");
                if (choices.isEmpty()) {
                    continue;
                }
                JsonNode delta = choices.get(0).path("delta");
                if (delta.has("reasoning_content")) {
                    assertFalse(contentStarted, "reasoning after the answer began");
                    reasoning.append(delta.get("reasoning_content").asText());
                }
                if (delta.has("content")) {
                    content.append(delta.get("content").asText());
                    contentStarted |= !delta.get("content").asText().isEmpty();
                }
            }
        }
        assertEquals("\nplan it\n", reasoning.toString());
        assertEquals("the answer", content.toString());
    }

    /** llama-server's {@code chat_template_kwargs}: Qwen 3's {@code enable_thinking: false} closes the reasoning in the prompt. */
    @Test
    void chatTemplateKwargsReachTheTemplate() throws Exception {
        ObjectNode plain = (ObjectNode) Http.JSON.readTree(Http.chatBody("Hi", 1, false));
        ObjectNode noThinking = plain.deepCopy();
        noThinking.putObject("chat_template_kwargs").put("enable_thinking", false);
        int without = Http.JSON.readTree(http.post("/v1/chat/completions", plain.toString()).body()).path("usage").path("prompt_tokens").asInt();
        int with = Http.JSON.readTree(http.post("/v1/chat/completions", noThinking.toString()).body()).path("usage").path("prompt_tokens").asInt();
        assertTrue(with > without, "an empty <think></think> block more in the prompt: " + without + " then " + with);

        ObjectNode bad = plain.deepCopy();
        bad.put("chat_template_kwargs", "enable_thinking=false");
        Http.Answer a = http.post("/v1/chat/completions", bad.toString());
        assertEquals(400, a.status());
        assertEquals("chat_template_kwargs", Http.JSON.readTree(a.body()).path("error").path("param").asText());
        ObjectNode effort = plain.deepCopy();
        effort.put("reasoning_effort", "extreme");
        assertEquals("reasoning_effort", Http.JSON.readTree(http.post("/v1/chat/completions", effort.toString()).body())
                .path("error").path("param").asText());
    }

    @Test
    void anUnknownReasoningFormatIsA400NamingTheField() throws Exception {
        Http.Answer a = http.post("/v1/chat/completions", body(false, "loud").toString());
        assertEquals(400, a.status());
        assertEquals("reasoning_format", Http.JSON.readTree(a.body()).path("error").path("param").asText());
    }
}
