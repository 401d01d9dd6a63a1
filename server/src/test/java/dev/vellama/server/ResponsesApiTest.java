package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.responses.EasyInputMessage;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseOutputText;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import com.openai.models.responses.StructuredResponse;
import com.openai.models.responses.StructuredResponseCreateParams;
import com.openai.models.responses.ToolChoiceOptions;
import dev.vellama.runtime.chat.ChatMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OpenAI's Responses API ({@code /v1/responses}) through the official OpenAI Java SDK: plain replies against the
 * greedy text of a lone session (the stories model), validated field by field by the SDK; a stream through the
 * SDK's own accumulator; errors; function calls and their outputs, and structured output, on a model whose template
 * is Qwen's (random weights: what it says is noise, its shape is what was asked).
 */
class ResponsesApiTest {
    private static final List<ChatMessage> CHAT = List.of(ChatMessage.system("You write about databases."),
            ChatMessage.user("What is an index?"));
    private static ServerFixture stories;
    private static ServerFixture qwen;
    private static OpenAIClient client;
    private static OpenAIClient toolClient;

    @com.fasterxml.jackson.annotation.JsonClassDescription("The weather in a city")
    public static class GetWeather {
        public String city;
        public Unit unit;
    }

    public enum Unit { CELSIUS, FAHRENHEIT }

    public static class Pet {
        public String name;
        public int legs;
    }

    @BeforeAll
    static void start() throws IOException {
        stories = new ServerFixture(2, 1024, 8, null);
        qwen = new ServerFixture("tiny-qwen3-q8_0.gguf", 1, 2048, 8, null);
        client = OpenAIOkHttpClient.builder().baseUrl(stories.baseUrl() + "/v1").apiKey("none").maxRetries(0).build();
        toolClient = OpenAIOkHttpClient.builder().baseUrl(qwen.baseUrl() + "/v1").apiKey("none").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        for (ServerFixture f : new ServerFixture[] {stories, qwen}) {
            if (f != null) {
                f.close();
            }
        }
    }

    private static ResponseCreateParams.Builder greedy(long maxTokens) {
        return ResponseCreateParams.builder().model("m").instructions("You write about databases.")
                .input("What is an index?").maxOutputTokens(maxTokens).temperature(0.0);
    }

    private static String text(Response r) {
        return r.output().stream().flatMap(i -> i.message().stream()).flatMap(m -> m.content().stream())
                .flatMap(c -> c.outputText().stream()).map(ResponseOutputText::text).collect(Collectors.joining());
    }

    @Test
    void aResponseIsTheGreedyTextOfALoneSession() {
        Response r = client.responses().create(greedy(20).build());
        r.validate(); // every field the SDK knows, of the type it expects
        int[] prompt = stories.model.chatPrompt(CHAT);
        assertEquals(stories.alone(prompt, 20), text(r));
        assertEquals(ResponseStatus.INCOMPLETE, r.status().orElseThrow());
        assertEquals("max_output_tokens", r.incompleteDetails().orElseThrow().reason().orElseThrow().asString());
        assertEquals(prompt.length, r.usage().orElseThrow().inputTokens());
        assertEquals(20, r.usage().orElseThrow().outputTokens());
        assertTrue(r.id().startsWith("resp_"), r.id());
        assertEquals(0.0, r.temperature().orElseThrow());
    }

    @Test
    void aStreamAccumulatesToTheSameResponse() throws Exception {
        ResponseAccumulator acc = ResponseAccumulator.createWithSnapshots();
        try (StreamResponse<ResponseStreamEvent> s = client.responses().createStreaming(greedy(20).build())) {
            s.stream().forEach(acc::accumulate);
        }
        String whole = stories.alone(stories.model.chatPrompt(CHAT), 20);
        assertEquals(whole, text(acc.response()));
        assertEquals(whole, text(acc.reconstructedResponse()), "the deltas add up to the text");
        // the raw events: named, numbered from 0, in the API's order
        Http.Answer a = new Http(stories.baseUrl(), null).post("/v1/responses", "{\"input\": \"What is an index?\", "
                + "\"instructions\": \"You write about databases.\", \"max_output_tokens\": 5, \"temperature\": 0, \"stream\": true}");
        List<String> types = new ArrayList<>();
        int sequence = 0;
        for (String event : a.body().split("\n\n")) {
            String name = event.lines().filter(l -> l.startsWith("event:")).findFirst().orElseThrow().substring(6).strip();
            com.fasterxml.jackson.databind.JsonNode data = Http.JSON.readTree(
                    event.lines().filter(l -> l.startsWith("data:")).findFirst().orElseThrow().substring(5));
            assertEquals(name, data.path("type").asText());
            assertEquals(sequence++, data.path("sequence_number").asInt(), event);
            types.add(name);
        }
        assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
                "response.content_part.added"), types.subList(0, 4));
        assertEquals(List.of("response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.incomplete"), types.subList(types.size() - 4, types.size()));
    }

    @Test
    void aStoredResponseIsContinuedRetrievedAndDeleted() {
        Response first = client.responses().create(greedy(8).build()); // stored, as OpenAI's default
        Response repeat = client.responses().create(greedy(8).build());
        long input = repeat.usage().orElseThrow().inputTokens();
        // the same input again: the slot that ran it holds all of it but the token whose logits start the answer
        assertEquals(input - 1, repeat.usage().orElseThrow().inputTokensDetails().cachedTokens());
        assertEquals(text(first), text(repeat));
        Response second = client.responses().create(ResponseCreateParams.builder().model("m").previousResponseId(first.id())
                .input("And a table?").maxOutputTokens(8).temperature(0.0).build());
        // the prompt is the conversation so far (without the first request's instructions), then the new input
        int[] prompt = stories.model.chatPrompt(List.of(ChatMessage.user("What is an index?"),
                ChatMessage.assistant(text(first)), ChatMessage.user("And a table?")));
        assertEquals(prompt.length, second.usage().orElseThrow().inputTokens());
        assertEquals(stories.alone(prompt, 8), text(second));
        assertEquals(first.id(), second.previousResponseId().orElseThrow());

        Response again = client.responses().retrieve(first.id());
        again.validate();
        assertEquals(text(first), text(again));
        client.responses().delete(first.id());
        assertThrows(com.openai.errors.NotFoundException.class, () -> client.responses().retrieve(first.id()));

        Response unstored = client.responses().create(greedy(4).store(false).build());
        assertThrows(com.openai.errors.NotFoundException.class, () -> client.responses().retrieve(unstored.id()));
        BadRequestException e = assertThrows(BadRequestException.class,
                () -> client.responses().create(greedy(4).previousResponseId(unstored.id()).build()));
        assertTrue(e.getMessage().contains("previous_response_id"), e.getMessage());
    }

    @Test
    void errorsAre400sThatNameTheField() {
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.responses().create(
                greedy(4).previousResponseId("resp_1").build()));
        assertTrue(e.getMessage().contains("previous_response_id"), e.getMessage());
        e = assertThrows(BadRequestException.class, () -> client.responses().create(greedy(4)
                .addTool(com.openai.models.responses.WebSearchTool.builder()
                        .type(com.openai.models.responses.WebSearchTool.Type.WEB_SEARCH).build()).build()));
        assertTrue(e.getMessage().contains("tools[0]"), e.getMessage());
    }

    /** The first of a few seeds whose reply ends within the limit (random weights may wander in a string). */
    private static Response firstEnded(java.util.function.LongFunction<ResponseCreateParams> request) {
        for (long seed = 0; seed < 6; seed++) {
            Response r = toolClient.responses().create(request.apply(seed));
            if (r.status().orElseThrow().equals(ResponseStatus.COMPLETED)) {
                return r;
            }
        }
        throw new AssertionError("no reply of six ended within the limit");
    }

    @Test
    void aRequiredFunctionCallComesBackAndItsOutputGoesIn() {
        Response r = firstEnded(seed -> ResponseCreateParams.builder().model("m").input("What is the weather in Oslo?")
                .addTool(GetWeather.class).toolChoice(ToolChoiceOptions.REQUIRED).maxOutputTokens(200)
                .putAdditionalBodyProperty("seed", JsonValue.from(seed)).build());
        r.validate();
        ResponseFunctionToolCall call = r.output().stream().flatMap(i -> i.functionCall().stream()).findFirst().orElseThrow();
        assertEquals("GetWeather", call.name());
        GetWeather args = call.arguments(GetWeather.class); // valid JSON of the tool's schema
        assertTrue(args.city != null, call.arguments());
        Response next = toolClient.responses().create(ResponseCreateParams.builder().model("m")
                .inputOfResponse(List.of(
                        ResponseInputItem.ofEasyInputMessage(EasyInputMessage.builder().role(EasyInputMessage.Role.USER)
                                .content("What is the weather in Oslo?").build()),
                        ResponseInputItem.ofFunctionCall(call),
                        ResponseInputItem.ofFunctionCallOutput(ResponseInputItem.FunctionCallOutput.builder()
                                .callId(call.callId()).output("sunny").build())))
                .addTool(GetWeather.class).maxOutputTokens(8).temperature(0.0).build());
        next.validate();
        assertTrue(next.usage().orElseThrow().inputTokens() > r.usage().orElseThrow().inputTokens(),
                "the call and its output are in the prompt");
        assertFalse(next.output().isEmpty());
    }

    @Test
    void aStreamedFunctionCallAccumulates() {
        for (long seed = 0; seed < 6; seed++) {
            ResponseAccumulator acc = ResponseAccumulator.createWithSnapshots();
            try (StreamResponse<ResponseStreamEvent> s = toolClient.responses().createStreaming(ResponseCreateParams.builder()
                    .model("m").input("What is the weather in Oslo?").addTool(GetWeather.class).toolChoice(ToolChoiceOptions.REQUIRED)
                    .maxOutputTokens(200).putAdditionalBodyProperty("seed", JsonValue.from(seed)).build())) {
                s.stream().forEach(acc::accumulate);
            }
            Response r = acc.response();
            if (!r.status().orElseThrow().equals(ResponseStatus.COMPLETED)) {
                continue; // wandered in a string until the limit: try the next seed
            }
            List<ResponseFunctionToolCall> calls = r.output().stream().flatMap(i -> i.functionCall().stream()).toList();
            assertEquals(1, calls.size(), r.toString());
            assertEquals("GetWeather", calls.getFirst().name());
            assertEquals(calls.getFirst().arguments(), acc.reconstructedResponse().output().stream()
                    .flatMap(i -> i.functionCall().stream()).findFirst().orElseThrow().arguments());
            return;
        }
        throw new AssertionError("no reply of six ended within the limit");
    }

    @Test
    void structuredOutputIsTheRequestedClass() {
        for (long seed = 0; seed < 6; seed++) {
            StructuredResponseCreateParams<Pet> params = ResponseCreateParams.builder().model("m").input("Describe a pet.")
                    .maxOutputTokens(200).putAdditionalBodyProperty("seed", JsonValue.from(seed)).text(Pet.class).build();
            StructuredResponse<Pet> r = toolClient.responses().create(params);
            if (!r.status().orElseThrow().equals(ResponseStatus.COMPLETED)) {
                continue;
            }
            Pet pet = r.output().stream().flatMap(i -> i.message().stream()).flatMap(m -> m.content().stream())
                    .flatMap(c -> c.outputText().stream()).findFirst().orElseThrow();
            assertTrue(pet.name != null, "a JSON object of the class's schema");
            return;
        }
        throw new AssertionError("no reply of six ended within the limit");
    }
}
