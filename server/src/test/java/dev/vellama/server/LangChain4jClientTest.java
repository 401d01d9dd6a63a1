package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.vellama.runtime.chat.ChatMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LangChain4j's OpenAI chat models, unchanged, pointed at the server on loopback. */
class LangChain4jClientTest {
    private static ServerFixture fixture;

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture(2, 1024, 8, ServerFixture.KEY);
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private static String expected(int maxTokens) {
        return fixture.alone(fixture.model.chatPrompt(List.of(ChatMessage.system("You write about databases."),
                ChatMessage.user("What is an index?"))), maxTokens);
    }

    @Test
    void chatModelAnswersWithTheGreedyText() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(fixture.baseUrl() + "/v1").apiKey(ServerFixture.KEY)
                .modelName(ServerFixture.MODEL_FILE).temperature(0.0).maxTokens(20).maxRetries(0).build();
        ChatResponse r = model.chat(SystemMessage.from("You write about databases."), UserMessage.from("What is an index?"));
        assertEquals(expected(20), r.aiMessage().text());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(20, r.tokenUsage().outputTokenCount());
    }

    @Test
    void streamingChatModelStreamsTheSameText() throws Exception {
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(fixture.baseUrl() + "/v1")
                .apiKey(ServerFixture.KEY).modelName(ServerFixture.MODEL_FILE).temperature(0.0).maxTokens(20).build();
        StringBuilder partial = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(List.of(SystemMessage.from("You write about databases."), UserMessage.from("What is an index?")),
                new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String text) {
                        partial.append(text);
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
        assertEquals(expected(20), partial.toString());
        assertEquals(partial.toString(), r.aiMessage().text());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertTrue(r.tokenUsage() == null || r.tokenUsage().outputTokenCount() == 20);
    }
}
