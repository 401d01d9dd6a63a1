package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.vellama.runtime.chat.ChatMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK, unchanged, against the server on loopback. */
class OpenAiClientTest {
    private static ServerFixture fixture;
    private static OpenAIClient client;

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture(2, 1024, 8, ServerFixture.KEY);
        client = OpenAIOkHttpClient.builder().baseUrl(fixture.baseUrl() + "/v1").apiKey(ServerFixture.KEY).maxRetries(0).build();
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

    private static ChatCompletionCreateParams.Builder chat(String user) {
        return ChatCompletionCreateParams.builder().model(ServerFixture.MODEL_FILE).addUserMessage(user)
                .temperature(0.0).maxCompletionTokens(24);
    }

    private static String aloneChat(String user, int maxTokens) {
        return fixture.alone(fixture.model.chatPrompt(List.of(ChatMessage.user(user))), maxTokens);
    }

    @Test
    void chatCompletionIsTheGreedyTextOfTheTemplatedConversation() {
        ChatCompletion c = client.chat().completions().create(chat("Tell me about tables.").build());
        ChatCompletion.Choice choice = c.choices().get(0);
        assertEquals(aloneChat("Tell me about tables.", 24), choice.message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, choice.finishReason());
        assertEquals(24, c.usage().orElseThrow().completionTokens());
        assertEquals(fixture.model.chatPrompt(List.of(ChatMessage.user("Tell me about tables."))).length,
                c.usage().orElseThrow().promptTokens());
        assertEquals(ServerFixture.MODEL_FILE, c.model());
        c.validate(); // every field the SDK requires is there, of the right type
    }

    /** A repeated conversation reuses its slot's cache, and says so in OpenAI's usage and llama-server's timings. */
    @Test
    void aRepeatedPromptReportsItsCachedTokens() throws Exception {
        String user = "Which tables hold the orders?";
        int promptLength = fixture.model.chatPrompt(List.of(ChatMessage.user(user))).length;
        client.chat().completions().create(chat(user).build());
        ChatCompletion again = client.chat().completions().create(chat(user).build());
        var usage = again.usage().orElseThrow();
        // all but the last prompt token, whose logits start the answer: the slot that ran it first holds it
        assertEquals(promptLength - 1, usage.promptTokensDetails().orElseThrow().cachedTokens().orElseThrow());
        Http raw = new Http(fixture.baseUrl(), ServerFixture.KEY);
        JsonNode whole = raw.post("/v1/chat/completions", Http.chatBody(user, 4, false)).json();
        assertEquals(promptLength - 1, whole.path("timings").path("cache_n").asInt(), whole.toString());
        assertEquals(1, whole.path("timings").path("prompt_n").asInt(), whole.toString());
        assertEquals(4, whole.path("timings").path("predicted_n").asInt(), whole.toString());
        String[] events = raw.post("/v1/chat/completions", Http.chatBody(user, 4, true)).body().split("\n\n");
        JsonNode last = Http.JSON.readTree(events[events.length - 2].substring("data:".length()));
        assertEquals("length", last.path("choices").get(0).path("finish_reason").asText(), last.toString());
        assertEquals(4, last.path("timings").path("predicted_n").asInt(), last.toString());
    }

    @Test
    void streamedChatDeltasAddUpToTheWholeAnswer() {
        StringBuilder text = new StringBuilder();
        List<String> finishes = new ArrayList<>();
        long[] usage = {-1};
        ChatCompletionCreateParams p = chat("Tell me about tables.")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
            s.stream().forEach(chunk -> {
                chunk.validate();
                chunk.usage().ifPresent(u -> usage[0] = u.completionTokens());
                for (ChatCompletionChunk.Choice ch : chunk.choices()) {
                    ch.delta().content().ifPresent(text::append);
                    ch.finishReason().ifPresent(f -> finishes.add(f.asString()));
                }
            });
        }
        assertEquals(aloneChat("Tell me about tables.", 24), text.toString());
        assertEquals(List.of("length"), finishes);
        assertEquals(24, usage[0]);
    }

    @Test
    void textCompletionsStreamedAndWholeAgree() {
        CompletionCreateParams p = CompletionCreateParams.builder().model(ServerFixture.MODEL_FILE)
                .prompt("Once upon a time").maxTokens(20).temperature(0.0).build();
        Completion whole = client.completions().create(p);
        whole.validate();
        String expected = fixture.alone(fixture.model.completionPrompt("Once upon a time"), 20);
        assertEquals(expected, whole.choices().get(0).text());
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<Completion> s = client.completions().createStreaming(p)) {
            s.stream().forEach(c -> c.choices().forEach(ch -> streamed.append(ch.text())));
        }
        assertEquals(expected, streamed.toString());
    }

    @Test
    void stopStringsEndTheAnswerBeforeThem() {
        String full = aloneChat("Tell me about tables.", 24);
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
        ChatCompletion c = client.chat().completions().create(chat("Tell me about tables.").stop(stop).build());
        assertEquals(full.substring(0, full.indexOf(stop)), c.choices().get(0).message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
    }

    @Test
    void logprobsComeWithTheirAlternatives() {
        ChatCompletion c = client.chat().completions().create(chat("Hello").maxCompletionTokens(6).logprobs(true).topLogprobs(3).build());
        List<ChatCompletionTokenLogprob> content = c.choices().get(0).logprobs().orElseThrow().content().orElseThrow();
        assertEquals(6, content.size());
        StringBuilder joined = new StringBuilder();
        for (ChatCompletionTokenLogprob t : content) {
            assertTrue(t.logprob() <= 0);
            assertEquals(3, t.topLogprobs().size());
            // greedy: the token is the most likely one
            assertEquals(t.topLogprobs().get(0).token(), t.token());
            assertEquals(t.topLogprobs().get(0).logprob(), t.logprob(), 1e-6);
            joined.append(t.token());
        }
        assertEquals(c.choices().get(0).message().content().orElseThrow(), joined.toString());
    }

    @Test
    void modelsListTheLoadedModel() {
        List<com.openai.models.models.Model> models = client.models().list().data();
        assertEquals(1, models.size());
        assertEquals(ServerFixture.MODEL_FILE, models.get(0).id());
        assertEquals(ServerFixture.MODEL_FILE, client.models().retrieve(ServerFixture.MODEL_FILE).id());
        com.openai.errors.NotFoundException missing = assertThrows(com.openai.errors.NotFoundException.class,
                () -> client.models().retrieve("gpt-4o"));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    }

    @Test
    void badRequestsGetOpenAiErrors() {
        BadRequestException n = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("Hello").n(2).build()));
        assertEquals(400, n.statusCode());
        assertTrue(n.getMessage().contains("'n' must be 1"), n.getMessage());
        BadRequestException range = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("Hello").temperature(7.0).build()));
        assertTrue(range.getMessage().contains("temperature"), range.getMessage());
        BadRequestException tooLong = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("word ".repeat(600)).build()));
        assertTrue(tooLong.getMessage().contains("context"), tooLong.getMessage());
        OpenAIClient wrongKey = OpenAIOkHttpClient.builder().baseUrl(fixture.baseUrl() + "/v1").apiKey("nope")
                .maxRetries(0).build();
        try {
            UnauthorizedException e = assertThrows(UnauthorizedException.class,
                    () -> wrongKey.chat().completions().create(chat("Hello").build()));
            assertEquals(401, e.statusCode());
        } finally {
            wrongKey.close();
        }
        // the server is unharmed
        assertFalse(client.chat().completions().create(chat("Hello").maxCompletionTokens(2).build()).choices().isEmpty());
    }
}
