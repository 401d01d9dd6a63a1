package dev.vellama.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.gguf.GgufFile;
import dev.vellama.runtime.grammar.Grammar;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;

/** Tool calls per template family: which format a template implies, the grammar of calls, and reading replies back. */
class ToolCallFormatTest {
    private static final Object WEATHER_PARAMS = parse("""
            {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
             "required": ["city", "days"]}""");
    private static final List<Tool> TOOLS = List.of(new Tool("get_weather", "The forecast", WEATHER_PARAMS),
            new Tool("get_time", null, null));

    /** Small templates written here in each family's manner (what llama.cpp keys its detection on). */
    private static final String LLAMA_31_LIKE = "{% for m in messages %}<|start_header_id|>{{ 'ipython' if m.role == 'tool' else m.role }}"
            + "<|end_header_id|>\n\n{% if m.tool_calls %}{% for c in m.tool_calls %}{\"name\": \"{{ c.function.name }}\", "
            + "\"parameters\": {{ c.function.arguments | tojson }}}{% endfor %}{% else %}{{ m.content }}{% endif %}<|eot_id|>{% endfor %}"
            + "{% if tools %}TOOLS{% endif %}<|start_header_id|>assistant<|end_header_id|>\n\n";
    private static final String MISTRAL_LIKE = "{% for m in messages %}{% if m.tool_calls %}[TOOL_CALLS]{{ m.tool_calls | tojson }}"
            + "{% else %}[INST]{{ m.content }}[/INST]{% endif %}{% endfor %}{% if tools %}[AVAILABLE_TOOLS]{{ tools | tojson }}{% endif %}";

    /** A schema as a client's JSON gives it: properties in their written order (Map.of's order is random). */
    private static Object parse(String json) {
        try {
            return new ObjectMapper().readValue(json, Object.class);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static ChatTemplate templateOf(String model) throws IOException {
        try (GgufFile f = GgufFile.open(TestData.model(model))) {
            return ChatTemplate.fromGguf(f.metadata());
        }
    }

    @Test
    void theTemplateSaysTheFormat() throws IOException {
        assertEquals(ToolCallFormat.HERMES, ToolCallFormat.of(templateOf("tiny-qwen3-q8_0.gguf")));
        assertEquals(ToolCallFormat.HERMES, ToolCallFormat.of(templateOf("tiny-qwen2-q4_0.gguf")));
        assertEquals(ToolCallFormat.GENERIC, ToolCallFormat.of(templateOf("tiny-llama3-q8_0.gguf")));
        assertEquals(ToolCallFormat.LLAMA_3, ToolCallFormat.of(ChatTemplate.of(LLAMA_31_LIKE, "", "")));
        assertEquals(ToolCallFormat.MISTRAL, ToolCallFormat.of(ChatTemplate.of(MISTRAL_LIKE, "", "")));
    }

    @Test
    void grammarsHoldCallsToTheToolsAndTheirSchemas() {
        Grammar hermes = ToolCallFormat.HERMES.grammar(TOOLS, ToolChoice.REQUIRED);
        assertTrue(hermes.accepts("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}\n</tool_call>"));
        assertTrue(hermes.accepts("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}</tool_call>\n<tool_call>\n"
                + "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"days\": 7}}</tool_call>"));
        assertFalse(hermes.accepts("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 9}}</tool_call>"));
        assertFalse(hermes.accepts("<tool_call>\n{\"name\": \"launch\", \"arguments\": {}}</tool_call>"));
        assertFalse(hermes.accepts("Sure!"));
        Grammar named = ToolCallFormat.HERMES.grammar(TOOLS, ToolChoice.function("get_time"));
        assertFalse(named.accepts("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}</tool_call>"));
        assertTrue(named.accepts("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}</tool_call>"));
        Grammar llama = ToolCallFormat.LLAMA_3.grammar(TOOLS, ToolChoice.REQUIRED);
        assertTrue(llama.accepts("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\", \"days\": 1}}"));
        assertFalse(llama.accepts("{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 1}}"));
        Grammar mistral = ToolCallFormat.MISTRAL.grammar(TOOLS, ToolChoice.REQUIRED);
        assertTrue(mistral.accepts("[{\"name\": \"get_time\", \"arguments\": {}, \"id\": \"a1B2c3D4e\"}]"));
        assertFalse(mistral.accepts("[{\"name\": \"get_time\", \"arguments\": {}, \"id\": \"short\"}]"));
        Grammar generic = ToolCallFormat.GENERIC.grammar(TOOLS, ToolChoice.AUTO);
        assertTrue(generic.accepts("{\"tool_call\": {\"name\": \"get_time\", \"arguments\": {}}}"));
        assertTrue(generic.accepts("{\"response\": \"It is sunny.\"}"));
        Grammar lazy = ToolCallFormat.HERMES.grammar(TOOLS, ToolChoice.AUTO);
        assertTrue(lazy.accepts("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}</tool_call>"),
                "auto: the same calls, held from the trigger on");
        assertEquals(List.of("<tool_call>"), ToolCallFormat.HERMES.triggers(ToolChoice.AUTO));
        assertEquals(List.of("{\"name\""), ToolCallFormat.LLAMA_3.triggers(ToolChoice.AUTO));
        assertEquals(List.of(), ToolCallFormat.HERMES.triggers(ToolChoice.REQUIRED));
        assertNull(ToolCallFormat.MISTRAL.grammar(TOOLS, ToolChoice.AUTO), "Mistral's call opens with a control token");
        assertNull(ToolCallFormat.HERMES.grammar(TOOLS, ToolChoice.NONE));
        assertThrows(IllegalArgumentException.class, () -> ToolCallFormat.HERMES.grammar(TOOLS, ToolChoice.function("nope")));
    }

    @Test
    void repliesAreReadBackIntoWordsAndCalls() throws IOException {
        ObjectMapper json = new ObjectMapper();
        ChatReply h = ToolCallFormat.HERMES.parse("Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                + "{\"city\": \"Oslo\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>");
        assertEquals("Let me look.", h.content());
        assertEquals(2, h.toolCalls().size());
        assertEquals("get_weather", h.toolCalls().get(0).name());
        assertEquals(2, json.readTree(h.toolCalls().get(0).arguments()).get("days").asInt());
        assertTrue(h.toolCalls().get(0).id().matches("call_[A-Za-z0-9]{24}"));
        assertEquals(new ChatReply("Just words.", List.of()), ToolCallFormat.HERMES.parse("Just words."));
        assertEquals("<tool_call>{broken", ToolCallFormat.HERMES.parse("<tool_call>{broken").content());
        ChatReply l = ToolCallFormat.LLAMA_3.parse("<|python_tag|>{\"name\": \"get_time\", \"parameters\": {\"zone\": \"UTC\"}}");
        assertEquals("get_time", l.toolCalls().get(0).name());
        assertEquals("{\"zone\":\"UTC\"}", l.toolCalls().get(0).arguments());
        ChatReply m = ToolCallFormat.MISTRAL.parse("[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}, \"id\": \"abcdefghi\"}]");
        assertEquals("abcdefghi", m.toolCalls().get(0).id());
        ChatReply g = ToolCallFormat.GENERIC.parse("{\"response\": \"Hello.\"}");
        assertEquals(new ChatReply("Hello.", List.of()), g);
        assertEquals("get_time", ToolCallFormat.GENERIC.parse("{\"tool_call\": {\"name\": \"get_time\", \"arguments\": {}}}")
                .toolCalls().get(0).name());
    }

    @Test
    void theQwenTemplateRendersToolsCallsAndAnswers() throws IOException {
        ChatTemplate qwen = templateOf("tiny-qwen3-q8_0.gguf");
        List<ChatMessage> conversation = List.of(ChatMessage.user("Weather in Oslo?"),
                ChatMessage.assistant("", List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Oslo\",\"days\":1}"))),
                ChatMessage.toolResult("call_1", "{\"sky\":\"clear\"}"));
        ToolCallFormat f = ToolCallFormat.of(qwen);
        String text = qwen.render(f.prepare(conversation, TOOLS, ToolChoice.AUTO), true, f.templateVariables(TOOLS));
        assertTrue(text.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\""), text);
        assertTrue(text.contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 1}}\n</tool_call>"), text);
        assertTrue(text.contains("<tool_response>\n{\"sky\":\"clear\"}\n</tool_response>"), text);
        ChatTemplate llama = ChatTemplate.of(LLAMA_31_LIKE, "", "");
        String l = llama.render(conversation, true, ToolCallFormat.LLAMA_3.templateVariables(TOOLS));
        assertTrue(l.contains("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\", \"days\": 1}}"), l);
        assertTrue(l.contains("<|start_header_id|>ipython<|end_header_id|>"), l);
    }

    /** gpt-oss: tools in the developer message's TypeScript namespace, a call and its answer as harmony messages. */
    @Test
    void theGptOssTemplateRendersToolsCallsAndAnswersInHarmony() {
        ChatTemplate oss = RealTemplatesTest.load("gpt-oss", "<|startoftext|>", "<|return|>");
        ToolCallFormat f = ToolCallFormat.of(oss);
        assertEquals(ToolCallFormat.HARMONY, f);
        assertNull(f.grammar(TOOLS, ToolChoice.REQUIRED), "harmony calls open with control tokens no grammar writes");
        assertFalse(f.constrains(ToolChoice.REQUIRED));
        List<ChatMessage> conversation = List.of(ChatMessage.user("Weather in Oslo?"),
                ChatMessage.assistant("", List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Oslo\",\"days\":1}"))),
                ChatMessage.toolResult("call_1", "{\"sky\":\"clear\"}"));
        List<Tool> described = List.of(TOOLS.get(0)); // the template writes every tool's description, as Jinja2 would fail without
        List<ChatMessage> prepared = f.prepare(conversation, described, ToolChoice.AUTO);
        assertEquals(conversation, prepared, "the template itself writes the tools and calls");
        String text = oss.render(prepared, true, f.templateVariables(described));
        assertTrue(text.contains("namespace functions {"), text);
        assertTrue(text.contains("type get_weather = (_: {"), text);
        // the template writes the arguments through tojson, and the tool's answer too (a JSON string of the text)
        assertTrue(text.contains("<|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>"
                + "{\"city\": \"Oslo\", \"days\": 1}<|call|>"), text);
        assertTrue(text.contains("<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>"
                + "\"{\\\"sky\\\":\\\"clear\\\"}\"<|end|><|start|>assistant"), text);
    }

    /** GLM-4.6: tools in its system text, calls as name and key/value pairs, answers as observations. */
    @Test
    void theGlmTemplateWritesItsCallsAndTheyAreReadBack() {
        ChatTemplate glm = RealTemplatesTest.load("glm4.6", "[gMASK]<sop>", "<|endoftext|>");
        ToolCallFormat f = ToolCallFormat.of(glm);
        assertEquals(ToolCallFormat.GLM, f);
        assertNull(f.grammar(TOOLS, ToolChoice.REQUIRED));
        List<Tool> described = List.of(TOOLS.get(0));
        String text = glm.render(f.prepare(List.of(ChatMessage.user("Weather?"),
                ChatMessage.assistant("", List.of(new ToolCall("c1", "get_weather", "{\"city\":\"Oslo\",\"days\":2}"))),
                ChatMessage.toolResult("c1", "sunny")), described, ToolChoice.AUTO), true, f.templateVariables(described));
        assertTrue(text.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\""), text);
        assertTrue(text.contains("<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Oslo</arg_value>\n"
                + "<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call><|observation|>\n<tool_response>\nsunny\n"
                + "</tool_response><|assistant|>"), text);

        ChatReply reply = f.parse("Let me look.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>New York</arg_value>\n"
                + "<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n<arg_key>note</arg_key>\n<arg_value>12abc</arg_value>\n</tool_call>");
        assertEquals("Let me look.", reply.content());
        assertEquals(1, reply.toolCalls().size());
        assertEquals("get_weather", reply.toolCalls().get(0).name());
        assertEquals("{\"city\":\"New York\",\"days\":3,\"note\":\"12abc\"}", reply.toolCalls().get(0).arguments());
        assertEquals("no call here", f.parse("no call here").content());
    }

    @Test
    void aTemplateWithoutToolsIsToldOfThemInTheSystemMessage() {
        List<ChatMessage> prepared = ToolCallFormat.GENERIC.prepare(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Time?"),
                ChatMessage.assistant("", List.of(new ToolCall("c1", "get_time", "{}"))), ChatMessage.toolResult("c1", "noon")),
                TOOLS, ToolChoice.AUTO);
        assertTrue(prepared.get(0).content().startsWith("Be brief.\n\nYou can call these tools:"), prepared.get(0).content());
        assertTrue(prepared.get(0).content().contains("\"get_weather\""));
        assertEquals("{\"tool_call\": {\"name\": \"get_time\", \"arguments\": {}}}", prepared.get(2).content());
        assertEquals("{\"tool_response\": \"noon\"}", prepared.get(3).content());
    }
}
