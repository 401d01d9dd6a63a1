package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.errors.BadRequestException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolChoiceAny;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.anthropic.models.messages.ToolUseBlock;
import com.fasterxml.jackson.databind.JsonNode;
import dev.vellama.runtime.chat.ChatMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Anthropic's Messages API ({@code /v1/messages}, {@code /v1/messages/count_tokens}) through Anthropic's official
 * Java SDK and LangChain4j's Anthropic models: plain replies against the greedy text of a lone session (the stories model), streaming through the SDK's
 * own accumulator, stop sequences, errors and the {@code x-api-key} header; tool use on a model whose template is
 * Qwen's (its weights are random: what it says is noise, its shape is what was asked).
 */
class AnthropicApiTest {
    private static final List<ChatMessage> CHAT = List.of(ChatMessage.system("You write about databases."),
            ChatMessage.user("What is an index?"));
    private static ServerFixture stories;
    private static ServerFixture qwen;
    private static AnthropicClient client;
    private static AnthropicClient toolClient;

    @BeforeAll
    static void start() throws IOException {
        stories = new ServerFixture(ServerFixture.MODEL_FILE, 2, 1024, 8, ServerFixture.KEY);
        qwen = new ServerFixture("tiny-qwen3-q8_0.gguf", 1, 2048, 8, null);
        client = AnthropicOkHttpClient.builder().baseUrl(stories.baseUrl()).apiKey(ServerFixture.KEY).maxRetries(0).build();
        toolClient = AnthropicOkHttpClient.builder().baseUrl(qwen.baseUrl()).apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        for (ServerFixture f : new ServerFixture[] {stories, qwen}) {
            if (f != null) {
                f.close();
            }
        }
    }

    private static MessageCreateParams.Builder greedy(long maxTokens) {
        return MessageCreateParams.builder().model("any").maxTokens(maxTokens).system("You write about databases.")
                .addUserMessage("What is an index?").putAdditionalBodyProperty("temperature", JsonValue.from(0));
    }

    private static String text(Message m) {
        StringBuilder sb = new StringBuilder();
        for (ContentBlock b : m.content()) {
            b.text().ifPresent(t -> sb.append(t.text()));
        }
        return sb.toString();
    }

    @Test
    void aReplyIsTheGreedyTextOfALoneSession() {
        Message m = client.messages().create(greedy(20).build());
        int[] prompt = stories.model.chatPrompt(CHAT);
        assertEquals(stories.alone(prompt, 20), text(m));
        assertEquals(StopReason.MAX_TOKENS, m.stopReason().orElseThrow());
        assertEquals(prompt.length, m.usage().inputTokens());
        assertEquals(20, m.usage().outputTokens());
        assertTrue(m.id().startsWith("msg_"), m.id());
        assertEquals(ServerFixture.MODEL_FILE, m.model().asString());
    }

    @Test
    void aStreamAccumulatesToTheSameMessage() {
        MessageAccumulator acc = MessageAccumulator.create();
        List<String> types = new ArrayList<>();
        try (StreamResponse<RawMessageStreamEvent> s = client.messages().createStreaming(greedy(20).build())) {
            s.stream().forEach(e -> {
                acc.accumulate(e);
                types.add(e.isMessageStart() ? "message_start" : e.isContentBlockStart() ? "content_block_start"
                        : e.isContentBlockDelta() ? "content_block_delta" : e.isContentBlockStop() ? "content_block_stop"
                        : e.isMessageDelta() ? "message_delta" : "message_stop");
            });
        }
        Message m = acc.message();
        assertEquals(stories.alone(stories.model.chatPrompt(CHAT), 20), text(m));
        assertEquals(StopReason.MAX_TOKENS, m.stopReason().orElseThrow());
        assertEquals(20, m.usage().outputTokens());
        assertEquals("message_start", types.getFirst());
        assertEquals("content_block_start", types.get(1));
        assertEquals(List.of("content_block_stop", "message_delta", "message_stop"), types.subList(types.size() - 3, types.size()));
    }

    @Test
    void aStopSequenceEndsTheReplyBeforeIt() {
        String whole = stories.alone(stories.model.chatPrompt(CHAT), 30);
        String stop = whole.substring(whole.length() / 2, whole.length() / 2 + 3);
        Message m = client.messages().create(greedy(30).addStopSequence(stop).build());
        assertEquals(whole.substring(0, whole.indexOf(stop)), text(m));
        assertEquals(StopReason.STOP_SEQUENCE, m.stopReason().orElseThrow());
        assertEquals(stop, m.stopSequence().orElseThrow());
    }

    @Test
    void countTokensIsThePromptsLength() {
        long n = client.messages().countTokens(MessageCountTokensParams.builder().model("any")
                .system("You write about databases.").addUserMessage("What is an index?").build()).inputTokens();
        assertEquals(stories.model.chatPrompt(CHAT).length, n);
    }

    @Test
    void errorsComeInAnthropicsShape() throws Exception {
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.messages().create(greedy(0).build()));
        assertTrue(e.getMessage().contains("max_tokens"), e.getMessage());
        AnthropicClient wrongKey = AnthropicOkHttpClient.builder().baseUrl(stories.baseUrl()).apiKey("wrong").maxRetries(0).build();
        assertThrows(UnauthorizedException.class, () -> wrongKey.messages().create(greedy(4).build()));
        Http http = new Http(stories.baseUrl(), ServerFixture.KEY);
        for (String[] bad : new String[][] {
                {"{\"max_tokens\": 4}", "messages"},
                {"{\"max_tokens\": 4, \"messages\": [{\"role\": \"system\", \"content\": \"x\"}]}", "messages[0].role"},
                {"{\"max_tokens\": 4, \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image\", \"source\": {}}]}]}",
                        "messages[0].content[0]"},
                {"{\"max_tokens\": 4, \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": [{\"name\": \"f\"}]}",
                        "tools[0].input_schema"},
                {"{\"max_tokens\": 4, \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": [{\"type\": "
                        + "\"web_search_20250305\", \"name\": \"web_search\"}]}", "tools[0].type"},
                {"{\"max_tokens\": 4, \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tool_choice\": {\"type\": \"any\"}}",
                        "tool_choice"}}) {
            Http.Answer a = http.post("/v1/messages", bad[0]);
            assertEquals(400, a.status(), a.body());
            JsonNode o = a.json();
            assertEquals("error", o.path("type").asText(), a.body());
            assertEquals("invalid_request_error", o.path("error").path("type").asText(), a.body());
            assertTrue(o.path("error").path("message").asText().contains(bad[1]), bad[1] + ": " + a.body());
        }
    }

    @Test
    void langChain4jsAnthropicModelsGetTheSameText() throws Exception {
        String whole = stories.alone(stories.model.chatPrompt(CHAT), 16);
        var model = dev.langchain4j.model.anthropic.AnthropicChatModel.builder().baseUrl(stories.baseUrl() + "/v1/")
                .apiKey(ServerFixture.KEY).modelName("any").maxTokens(16).temperature(0.0).maxRetries(0).build();
        var r = model.chat(dev.langchain4j.data.message.SystemMessage.from("You write about databases."),
                dev.langchain4j.data.message.UserMessage.from("What is an index?"));
        assertEquals(whole, r.aiMessage().text());
        assertEquals(dev.langchain4j.model.output.FinishReason.LENGTH, r.finishReason());
        assertEquals(stories.model.chatPrompt(CHAT).length, r.tokenUsage().inputTokenCount());

        var streaming = dev.langchain4j.model.anthropic.AnthropicStreamingChatModel.builder().baseUrl(stories.baseUrl() + "/v1/")
                .apiKey(ServerFixture.KEY).modelName("any").maxTokens(16).temperature(0.0).build();
        StringBuilder partial = new StringBuilder();
        java.util.concurrent.CompletableFuture<dev.langchain4j.model.chat.response.ChatResponse> done = new java.util.concurrent.CompletableFuture<>();
        streaming.chat(List.of(dev.langchain4j.data.message.SystemMessage.from("You write about databases."),
                dev.langchain4j.data.message.UserMessage.from("What is an index?")),
                new dev.langchain4j.model.chat.response.StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String text) {
                        partial.append(text);
                    }

                    @Override
                    public void onCompleteResponse(dev.langchain4j.model.chat.response.ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });
        var streamed = done.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(whole, partial.toString());
        assertEquals(whole, streamed.aiMessage().text());
    }

    private static Tool weather() {
        return Tool.builder().name("get_weather").description("The weather in a city")
                .inputSchema(Tool.InputSchema.builder()
                        .properties(Tool.InputSchema.Properties.builder()
                                .putAdditionalProperty("city", JsonValue.from(Map.of("type", "string"))).build())
                        .required(List.of("city")).build())
                .build();
    }

    /** The first of a few seeds whose reply ends within the limit (random weights may wander in a string). */
    private static Message firstEnded(java.util.function.LongFunction<MessageCreateParams> request) {
        for (long seed = 0; seed < 6; seed++) {
            Message m = toolClient.messages().create(request.apply(seed));
            if (!m.stopReason().orElseThrow().equals(StopReason.MAX_TOKENS)) {
                return m;
            }
        }
        throw new AssertionError("no reply of six ended within the limit");
    }

    @Test
    void anyToolChoiceGivesAToolUseBlockAndItsResultGoesBack() {
        Message m = firstEnded(seed -> MessageCreateParams.builder().model("any").maxTokens(200)
                .addUserMessage("What is the weather in Oslo?").addTool(weather()).toolChoice(ToolChoiceAny.builder().build())
                .putAdditionalBodyProperty("seed", JsonValue.from(seed)).build());
        assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow(), m.toString());
        ToolUseBlock call = m.content().stream().filter(ContentBlock::isToolUse).findFirst().orElseThrow().asToolUse();
        assertEquals("get_weather", call.name());
        assertTrue(call.id().startsWith("toolu_"), call.id());
        @SuppressWarnings("unchecked")
        Map<String, Object> input = call._input().convert(Map.class);
        assertTrue(input.get("city") instanceof String, input.toString());
        // the call and its result go back, and the model answers
        Message after = toolClient.messages().create(MessageCreateParams.builder().model("any").maxTokens(8)
                .addUserMessage("What is the weather in Oslo?").addTool(weather()).addMessage(m)
                .addUserMessageOfContentBlockParams(List.of(ContentBlockParam.ofToolResult(
                        ToolResultBlockParam.builder().toolUseId(call.id()).content("sunny, 21 degrees").build())))
                .putAdditionalBodyProperty("temperature", JsonValue.from(0)).build());
        assertFalse(after.content().isEmpty());
        assertTrue(after.usage().inputTokens() > m.usage().inputTokens(), "the call and its result are in the prompt");
    }

    @Test
    void aStreamedToolUseAccumulatesToTheCall() {
        Message m = null;
        for (long seed = 0; seed < 6 && (m == null || m.stopReason().orElseThrow().equals(StopReason.MAX_TOKENS)); seed++) {
            MessageAccumulator acc = MessageAccumulator.create();
            try (StreamResponse<RawMessageStreamEvent> s = toolClient.messages().createStreaming(MessageCreateParams.builder()
                    .model("any").maxTokens(200).addUserMessage("Weather in Lima?").addTool(weather())
                    .toolChoice(ToolChoiceAny.builder().build()).putAdditionalBodyProperty("seed", JsonValue.from(seed)).build())) {
                s.stream().forEach(acc::accumulate);
            }
            m = acc.message();
        }
        assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow(), "no reply of six ended within the limit");
        ToolUseBlock call = m.content().stream().filter(ContentBlock::isToolUse).findFirst().orElseThrow().asToolUse();
        assertEquals("get_weather", call.name());
        @SuppressWarnings("unchecked")
        Map<String, Object> input = call._input().convert(Map.class);
        assertTrue(input.get("city") instanceof String, input.toString());
    }

    @Test
    void thinkingDisabledReachesTheTemplate() {
        long on = toolClient.messages().countTokens(MessageCountTokensParams.builder().model("any").addUserMessage("Hi")
                .build()).inputTokens();
        long off = toolClient.messages().countTokens(MessageCountTokensParams.builder().model("any").addUserMessage("Hi")
                .thinking(com.anthropic.models.messages.ThinkingConfigDisabled.builder().build()).build()).inputTokens();
        // Qwen 3's template closes an empty think block in the prompt when thinking is off
        assertEquals(qwen.model.chatPrompt(List.of(ChatMessage.user("Hi")), qwen.model.chatTemplate(), new java.util.HashMap<>(Map.of("enable_thinking", false)), "").length, off);
        assertTrue(off > on, on + " vs " + off);
    }
}
