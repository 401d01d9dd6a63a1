package dev.vellama.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.TokenStream;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The models as LangChain4j applications use them: through AiServices, against Vellama's own session. */
class VellamaLangChain4jTest {
    private static final SessionOptions OPTIONS = SessionOptions.defaults().withContextSize(256).withThreads(2);
    private static final GenerationParams GREEDY = GenerationParams.greedy().withMaxTokens(12);
    private static Model model;

    interface Assistant {
        String chat(String message);
    }

    interface StreamingAssistant {
        TokenStream chat(String message);
    }

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(TestData.model("tiny-llama3-q8_0.gguf"));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    /** What a Vellama session replies to the user message alone, greedily. */
    private static GenerationResult direct(String message) {
        try (Session s = model.newSession(OPTIONS)) {
            return s.chat(List.of(dev.vellama.runtime.chat.ChatMessage.user(message)), GREEDY, null);
        }
    }

    @Test
    void anAiServiceRepliesAsTheSessionDoes() {
        try (VellamaChatModel chat = VellamaChatModel.builder(model).sessionOptions(OPTIONS).defaults(GREEDY).build()) {
            Assistant assistant = AiServices.builder(Assistant.class).chatModel(chat).build();
            String reply = assistant.chat("What is the capital of France?");
            assertEquals(direct("What is the capital of France?").text(), reply);
            assertFalse(reply.isEmpty());
            ChatResponse r = chat.chat(SystemMessage.from("Be brief."), UserMessage.from("Hi"));
            assertEquals(12, r.tokenUsage().outputTokenCount());
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertEquals(new VellamaTokenCountEstimator(model).estimateTokenCountInMessages(
                    List.of(SystemMessage.from("Be brief."), UserMessage.from("Hi"))), r.tokenUsage().inputTokenCount());
        }
    }

    @Test
    void aStreamingAiServiceHandsOutTheSameTextTokenByToken() throws Exception {
        try (VellamaStreamingChatModel streaming = VellamaStreamingChatModel.of(model, OPTIONS, GREEDY, 1)) {
            StreamingAssistant assistant = AiServices.builder(StreamingAssistant.class).streamingChatModel(streaming).build();
            StringBuilder parts = new StringBuilder();
            List<String> pieces = new java.util.concurrent.CopyOnWriteArrayList<>();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            assistant.chat("Tell me a story.")
                    .onPartialResponse(p -> {
                        pieces.add(p);
                        parts.append(p);
                    })
                    .onCompleteResponse(done::complete)
                    .onError(done::completeExceptionally)
                    .start();
            ChatResponse r = done.get(60, TimeUnit.SECONDS);
            String expected = direct("Tell me a story.").text();
            assertEquals(expected, r.aiMessage().text());
            assertEquals(expected, parts.toString());
            assertTrue(pieces.size() > 1, "token by token: " + pieces);
        }
    }

    @Test
    void concurrentCallsEachGetTheirOwnSession() throws Exception {
        try (VellamaChatModel chat = VellamaChatModel.builder(model).sessionOptions(OPTIONS).defaults(GREEDY).sessions(2).build()) {
            List<String> prompts = List.of("One", "Two", "Three", "Four");
            List<CompletableFuture<String>> replies = prompts.stream()
                    .map(p -> CompletableFuture.supplyAsync(() -> chat.chat(p))).toList();
            for (int i = 0; i < prompts.size(); i++) {
                assertEquals(direct(prompts.get(i)).text(), replies.get(i).get(60, TimeUnit.SECONDS), prompts.get(i));
            }
        }
    }

    @Test
    void embeddingsAndTokenCountsAreTheModelsOwn() {
        VellamaEmbeddingModel embeddings = new VellamaEmbeddingModel(model);
        float[][] want = model.embed(List.of("a cat", "a dog"));
        var got = embeddings.embedAll(List.of(TextSegment.from("a cat"), TextSegment.from("a dog"))).content();
        assertArrayEquals(want[0], got.get(0).vector());
        assertArrayEquals(want[1], got.get(1).vector());
        assertEquals(model.config().embeddingLength(), embeddings.dimension());
        VellamaTokenCountEstimator counter = new VellamaTokenCountEstimator(model);
        assertEquals(model.tokenizer().encode("Hello, world", false, false).length, counter.estimateTokenCountInText("Hello, world"));
        assertEquals(model.chatPrompt(List.of(dev.vellama.runtime.chat.ChatMessage.user("Hi"))).length,
                counter.estimateTokenCountInMessage(UserMessage.from("Hi")));
    }

    /**
     * Tools as vellama serve offers them: with REQUIRED the reply is a call to the tool, its arguments held to the
     * tool's schema by a grammar (the tiny model's weights are random, so only the grammar makes it call; an enum
     * keeps its argument short, where a free string could run past the token limit), and a
     * conversation that carries the call and its result goes on.
     */
    @Test
    void aRequiredToolIsCalledWithArgumentsOfItsSchema() throws Exception {
        ToolSpecification weather = ToolSpecification.builder().name("weather").description("the weather in a city")
                .parameters(JsonObjectSchema.builder().addEnumProperty("city", List.of("Paris", "London")).required("city").build()).build();
        try (VellamaChatModel chat = VellamaChatModel.builder(model).sessionOptions(OPTIONS)
                .defaults(GenerationParams.greedy().withMaxTokens(160)).build()) {
            ChatResponse r = chat.chat(ChatRequest.builder().messages(UserMessage.from("Weather in Paris?"))
                    .toolSpecifications(weather).toolChoice(ToolChoice.REQUIRED).build());
            assertTrue(r.aiMessage().hasToolExecutionRequests(), r.aiMessage().toString());
            ToolExecutionRequest call = r.aiMessage().toolExecutionRequests().get(0);
            assertEquals("weather", call.name());
            String city = new com.fasterxml.jackson.databind.ObjectMapper().readTree(call.arguments()).path("city").asText();
            assertTrue(city.equals("Paris") || city.equals("London"), call.arguments());
            assertEquals(FinishReason.TOOL_EXECUTION, r.finishReason());
            ChatResponse after = chat.chat(ChatRequest.builder().messages(UserMessage.from("Weather in Paris?"), r.aiMessage(),
                    ToolExecutionResultMessage.from(call, "sunny"), UserMessage.from("Thanks.")).toolSpecifications(weather).build());
            assertTrue(after.aiMessage().text() != null || after.aiMessage().hasToolExecutionRequests());
            ChatResponse none = chat.chat(ChatRequest.builder().messages(UserMessage.from("Weather in Paris?"))
                    .toolSpecifications(weather).toolChoice(ToolChoice.NONE).build());
            assertFalse(none.aiMessage().hasToolExecutionRequests());
        }
    }
}
