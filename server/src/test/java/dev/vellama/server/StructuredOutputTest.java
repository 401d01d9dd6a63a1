package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.chat.completions.StructuredChatCompletion;
import com.openai.models.chat.completions.StructuredChatCompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Structured output and tool calls through the official OpenAI Java SDK's own helpers (schemas it derives from Java
 * classes, tool calls it parses back into them), against a server on a model whose template is Qwen's (Hermes-style
 * {@code <tool_call>}). The model's weights are random: what it says is noise, but its shape is what was asked.
 */
class StructuredOutputTest {
    private static ServerFixture fixture;
    private static OpenAIClient client;
    private static Http http;

    public static class Pet {
        public Mood mood;
        @JsonPropertyDescription("legs, from 0 to 8")
        public long legs;
        public boolean friendly;
    }

    public static class Person {
        public String name;
        public long age; // random weights write numbers of any length
        public List<Pet> pets;
        public Mood mood;
    }

    public enum Mood { HAPPY, SAD }

    @com.fasterxml.jackson.annotation.JsonClassDescription("The weather in a city")
    public static class GetWeather {
        public String city;
        public Unit unit;
    }

    public enum Unit { CELSIUS, FAHRENHEIT }

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture("tiny-qwen3-q8_0.gguf", 2, 2048, 8, null);
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

    /**
     * Random weights may wander inside a string until the token limit; a reply that ends, ends as the class's JSON.
     * Of sixteen seeds, some end (the test asks for two).
     */
    @Test
    void theSdksStructuredOutputParsesIntoTheClass() {
        int parsed = 0;
        for (long seed = 0; seed < 16 && parsed < 2; seed++) {
            StructuredChatCompletionCreateParams<Person> p = ChatCompletionCreateParams.builder().model("m")
                    .addUserMessage("Describe a person.").seed(seed).maxCompletionTokens(500).responseFormat(Person.class).build();
            StructuredChatCompletion<Person> c = client.chat().completions().create(p);
            StructuredChatCompletion.Choice<Person> choice = c.choices().get(0);
            if (choice.finishReason().equals(ChatCompletion.Choice.FinishReason.LENGTH)) {
                continue;
            }
            assertEquals(ChatCompletion.Choice.FinishReason.STOP, choice.finishReason(), "seed " + seed);
            Person person = choice.message().content().orElseThrow(); // the SDK parsed the reply into the class
            assertTrue(person.name != null && person.pets != null && person.mood != null, "seed " + seed);
            parsed++;
        }
        assertTrue(parsed >= 2, "only " + parsed + " of 16 replies ended within the limit");
    }

    @Test
    void jsonModeGivesAJsonObject() throws Exception {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("m")
                .addUserMessage("Anything as JSON.").seed(5).maxCompletionTokens(300)
                .responseFormat(ResponseFormatJsonObject.builder().build()).build());
        String text = c.choices().get(0).message().content().orElseThrow();
        if (c.choices().get(0).finishReason().equals(ChatCompletion.Choice.FinishReason.STOP)) {
            assertTrue(Http.JSON.readTree(text).isObject(), text);
        } else {
            assertTrue(text.stripLeading().startsWith("{"), text);
        }
    }

    /** The first of a few seeds whose reply ends within the limit (random weights may wander in a string). */
    private static ChatCompletion firstEnded(java.util.function.LongFunction<ChatCompletionCreateParams> request) {
        for (long seed = 0; seed < 6; seed++) {
            ChatCompletion c = client.chat().completions().create(request.apply(seed));
            if (!c.choices().get(0).finishReason().equals(ChatCompletion.Choice.FinishReason.LENGTH)) {
                return c;
            }
        }
        throw new AssertionError("no reply of six ended within the limit");
    }

    @Test
    void aRequiredToolCallComesBackAsTheSdksToolCall() {
        ChatCompletion c = firstEnded(seed -> ChatCompletionCreateParams.builder().model("m")
                .addUserMessage("What is the weather in Oslo?").addTool(GetWeather.class).seed(seed).maxCompletionTokens(200)
                .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
        ChatCompletion.Choice choice = c.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        List<ChatCompletionMessageToolCall> calls = choice.message().toolCalls().orElseThrow();
        assertFalse(calls.isEmpty());
        ChatCompletionMessageFunctionToolCall call = calls.get(0).asFunction();
        assertEquals("GetWeather", call.function().name());
        GetWeather args = call.function().arguments(GetWeather.class); // valid JSON of the tool's schema
        assertTrue(args.city != null && args.unit != null, call.function().arguments());
        c.validate();

        // the call and its answer go back into the conversation; the template renders them and the model answers
        ChatCompletion next = client.chat().completions().create(ChatCompletionCreateParams.builder().model("m")
                .addUserMessage("What is the weather in Oslo?").addMessage(choice.message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"sky\": \"clear\"}").build())
                .addTool(GetWeather.class).maxCompletionTokens(8).temperature(0.0).build());
        assertTrue(next.choices().get(0).message().content().isPresent());
    }

    /** With auto the reply is free words until a call opens (a lazy grammar): random weights never open one. */
    @Test
    void autoLeavesWordsFree() {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("m")
                .addUserMessage("Hello").addTool(GetWeather.class).seed(4).maxCompletionTokens(16).build());
        ChatCompletion.Choice choice = c.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, choice.finishReason());
        assertTrue(choice.message().toolCalls().isEmpty() || choice.message().toolCalls().get().isEmpty());
        assertFalse(choice.message().content().orElseThrow().contains("<tool_call>"));
    }

    @Test
    void aNamedFunctionIsCalledAndStreamedDeltasAccumulate() {
        for (long seed = 0; seed < 6; seed++) {
            ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("m")
                    .addUserMessage("Weather?").addTool(GetWeather.class).seed(seed).maxCompletionTokens(200)
                    .toolChoice(ChatCompletionNamedToolChoice.builder()
                            .function(ChatCompletionNamedToolChoice.Function.builder().name("GetWeather").build()).build())
                    .build();
            ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
            List<String> finishes = new ArrayList<>();
            try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
                s.stream().forEach(chunk -> {
                    chunk.validate();
                    acc.accumulate(chunk);
                    chunk.choices().forEach(ch -> ch.finishReason().ifPresent(f -> finishes.add(f.asString())));
                });
            }
            if (finishes.equals(List.of("length"))) {
                continue; // wandered in a string until the limit: try the next seed
            }
            assertEquals(List.of("tool_calls"), finishes);
            ChatCompletion whole = acc.chatCompletion();
            ChatCompletionMessageFunctionToolCall call = whole.choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction();
            assertEquals("GetWeather", call.function().name());
            assertTrue(call.function().arguments(GetWeather.class).city != null, call.function().arguments());
            return;
        }
        throw new AssertionError("no streamed reply of six ended within the limit");
    }

    @Test
    void badSchemasAndToolChoicesAre400sThatSayWhy() throws Exception {
        Http.Answer a = http.post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema",
                 "json_schema": {"name": "s", "schema": {"type": "string", "format": "email"}}}}""");
        assertEquals(400, a.status(), a.body());
        assertEquals("response_format.json_schema.schema", a.error("param"));
        assertTrue(a.error("message").contains("email"), a.body());
        Http.Answer b = http.post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "f"}}],
                 "tool_choice": {"type": "function", "function": {"name": "g"}}}""");
        assertEquals(400, b.status());
        assertEquals("tool_choice", b.error("param"));
        Http.Answer c = http.post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "xml"}}""");
        assertEquals(400, c.status());
        assertEquals("response_format.type", c.error("param"));
        Http.Answer d = http.post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "x"}], "grammar": "root ::= [a-"}""");
        assertEquals(400, d.status());
        assertTrue(d.error("message").contains("line 1"), d.body());
        Http.Answer e = http.post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "f",
                 "parameters": {"type": "object", "properties": {"a": {"type": "string", "contentMediaType": "x"}}}}}],
                 "tool_choice": "required"}""");
        assertEquals(400, e.status());
        assertEquals("tools", e.error("param"));
        assertTrue(e.error("message").contains("contentMediaType"), e.body());
    }

    @Test
    void completionsTakeAGrammarAndASchemaToo() throws Exception {
        Http.Answer a = http.post("/v1/completions", """
                {"prompt": "Label:", "max_tokens": 20, "seed": 2, "grammar": "root ::= \\"yes\\" | \\"no\\""}""");
        assertEquals(200, a.status(), a.body());
        assertTrue(List.of("yes", "no").contains(a.json().path("choices").get(0).path("text").asText()), a.body());
        Http.Answer b = http.post("/v1/completions", """
                {"prompt": "Number:", "max_tokens": 40, "seed": 2, "json_schema": {"type": "integer", "minimum": 10, "maximum": 20}}""");
        assertEquals(200, b.status(), b.body());
        JsonNode n = Http.JSON.readTree(b.json().path("choices").get(0).path("text").asText());
        assertTrue(n.isInt() && n.asInt() >= 10 && n.asInt() <= 20, b.body());
    }
}
