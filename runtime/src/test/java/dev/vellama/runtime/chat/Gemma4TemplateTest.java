package dev.vellama.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * Gemma 4's chat templates rendered as Python's Jinja2 renders them. The templates are llama.cpp's
 * {@code models/templates/google-gemma-4-31B-it.jinja} (test resource {@code gemma4.jinja}) and
 * {@code google-gemma-4-31B-it-interleaved.jinja} ({@code gemma4-interleaved.jinja}, the older one, which knows tool
 * results only as {@code tool_responses} on the assistant's turn), copied from llama.cpp at commit 092b66d0
 * (2026-04-24). Every expected string was printed by {@code python3 gemma4_reference.py} (next to the templates;
 * jinja2 3.1.6, set up as Hugging Face's {@code apply_chat_template} sets it up), which renders the same
 * conversations as the dicts {@link ChatMessage} and {@link Tool} hand a template.
 */
class Gemma4TemplateTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String WEATHER_SCHEMA = """
            {"type": "object", "properties": {
              "city": {"type": "string", "description": "City name"},
              "unit": {"type": "string", "enum": ["c", "f"], "description": "Unit"},
              "days": {"type": "integer", "description": "Days ahead", "nullable": true},
              "tags": {"type": "array", "items": {"type": "string"}},
              "stops": {"type": "array", "description": "Stops on the way", "items": {"type": "object",
                "properties": {"name": {"type": "string"}, "hours": {"type": "number"}}, "required": ["name"]}},
              "options": {"type": "object", "properties": {"metric": {"type": "boolean"}}, "required": ["metric"]}},
             "required": ["city", "unit"]}""";
    private static final Tool WEATHER_TOOL = new Tool("get_weather", "Weather now and ahead", parse(WEATHER_SCHEMA));
    private static final Tool CLOCK_TOOL = new Tool("clock", null, null);

    /** What the template declares for the two tools: dictsort's order, types upper-cased, strings in {@code <|"|>}. */
    private static final String WEATHER = "<|tool>declaration:get_weather{description:<|\"|>Weather now and ahead<|\"|>,"
            + "parameters:{properties:{city:{description:<|\"|>City name<|\"|>,type:<|\"|>STRING<|\"|>},"
            + "days:{description:<|\"|>Days ahead<|\"|>,nullable:true,type:<|\"|>INTEGER<|\"|>},"
            + "options:{properties:{metric:{type:<|\"|>BOOLEAN<|\"|>}},required:[<|\"|>metric<|\"|>],type:<|\"|>OBJECT<|\"|>},"
            + "stops:{description:<|\"|>Stops on the way<|\"|>,items:{properties:{hours:{type:<|\"|>NUMBER<|\"|>},"
            + "name:{type:<|\"|>STRING<|\"|>}},required:[<|\"|>name<|\"|>],type:<|\"|>OBJECT<|\"|>},type:<|\"|>ARRAY<|\"|>},"
            + "tags:{items:{type:<|\"|>STRING<|\"|>},type:<|\"|>ARRAY<|\"|>},"
            + "unit:{description:<|\"|>Unit<|\"|>,enum:[<|\"|>c<|\"|>,<|\"|>f<|\"|>],type:<|\"|>STRING<|\"|>}},"
            + "required:[<|\"|>city<|\"|>,<|\"|>unit<|\"|>],type:<|\"|>OBJECT<|\"|>}}<tool|>";
    /** The older template's declaration of the same tool: its commas fall differently around nested objects. */
    private static final String WEATHER_INTERLEAVED = WEATHER
            .replace("options:{properties:{metric:{type:<|\"|>BOOLEAN<|\"|>}},required:[<|\"|>metric<|\"|>],type:",
                    "options:{,properties:{metric:{type:<|\"|>BOOLEAN<|\"|>}},required:[<|\"|>metric<|\"|>]type:")
            .replace("tags:{items:{type:<|\"|>STRING<|\"|>},type:", "tags:{,items:{type:<|\"|>STRING<|\"|>}type:");
    private static final String CLOCK = "<|tool>declaration:clock{description:<|\"|><|\"|>,"
            + "parameters:{type:<|\"|>OBJECT<|\"|>}}<tool|>";
    /** The generation prompt with thinking off: an empty thought channel, so the reply is the answer. */
    private static final String MODEL_NO_THINKING = "<|turn>model\n<|channel>thought\n<channel|>";

    private static Object parse(String json) {
        try {
            return JSON.readValue(json, Object.class);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static ChatTemplate gemma4() {
        return RealTemplatesTest.load("gemma4", "<bos>", "<eos>");
    }

    private static Map<String, Object> tools(Tool... tools) {
        List<Object> values = new ArrayList<>();
        for (Tool t : tools) {
            values.add(t.asTemplateValue());
        }
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("tools", values);
        return vars;
    }

    private static ToolCall call(String id, String name, String arguments) {
        return new ToolCall(id, name, arguments);
    }

    @Test
    void plainChat() {
        assertEquals("<bos><|turn>user\nHi<turn|>\n" + MODEL_NO_THINKING, gemma4().render(List.of(ChatMessage.user("Hi")), true));
        assertEquals("<bos><|turn>user\nHi<turn|>\n", gemma4().render(List.of(ChatMessage.user("  Hi  ")), false));
    }

    @Test
    void systemMessageOpensASystemTurn() {
        assertEquals("<bos><|turn>system\nYou are terse.<turn|>\n<|turn>user\nHi<turn|>\n" + MODEL_NO_THINKING,
                gemma4().render(List.of(ChatMessage.system("You are terse. "), ChatMessage.user("Hi")), true));
    }

    @Test
    void earlierAnswersLoseTheirThoughts() {
        List<ChatMessage> chat = List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hi"),
                ChatMessage.assistant("<|channel>thought\nhmm<channel|>Hello."), ChatMessage.user("Bye"));
        assertEquals("<bos><|turn>system\nYou are terse.<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\nHello.<turn|>\n"
                + "<|turn>user\nBye<turn|>\n" + MODEL_NO_THINKING, gemma4().render(chat, true));
    }

    @Test
    void enableThinkingPutsTheThinkTokenInTheSystemTurnAndLeavesTheThoughtOpen() {
        List<ChatMessage> chat = List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hi"));
        assertEquals("<bos><|turn>system\n<|think|>\nYou are terse.<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n",
                gemma4().render(chat, true, Map.of("enable_thinking", true)));
        assertEquals("<bos><|turn>user\nHi<turn|>\n" + MODEL_NO_THINKING,
                gemma4().render(List.of(ChatMessage.user("Hi")), true, Map.of("enable_thinking", false)));
    }

    @Test
    void toolsAreDeclaredInTheSystemTurn() {
        List<ChatMessage> chat = List.of(ChatMessage.system("You are terse."), ChatMessage.user("Weather?"));
        assertEquals("<bos><|turn>system\nYou are terse." + WEATHER + CLOCK + "<turn|>\n<|turn>user\nWeather?<turn|>\n"
                + MODEL_NO_THINKING, gemma4().render(chat, true, tools(WEATHER_TOOL, CLOCK_TOOL)));
        Map<String, Object> thinking = tools(CLOCK_TOOL);
        thinking.put("enable_thinking", true);
        assertEquals("<bos><|turn>system\n<|think|>\n" + CLOCK + "<turn|>\n<|turn>user\nWeather?<turn|>\n<|turn>model\n",
                gemma4().render(List.of(ChatMessage.user("Weather?")), true, thinking));
    }

    @Test
    void aCallAndItsResultStayInTheModelTurn() {
        List<ChatMessage> chat = List.of(ChatMessage.user("Weather in Paris?"),
                ChatMessage.assistant("", List.of(call("call_1", "get_weather", "{\"city\": \"Paris\", \"unit\": \"c\", "
                        + "\"days\": 3, \"tags\": [\"a\", \"b\"], \"options\": {\"metric\": true}, \"x\": null, \"f\": 1.5}"))),
                ChatMessage.toolResult("call_1", "{\"temp\": 21}"));
        // no generation prompt after a tool result: the model goes on with its turn
        assertEquals("<bos><|turn>system\n" + WEATHER + "<turn|>\n<|turn>user\nWeather in Paris?<turn|>\n<|turn>model\n"
                + "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:3,f:1.5,options:{metric:true},"
                + "tags:[<|\"|>a<|\"|>,<|\"|>b<|\"|>],unit:<|\"|>c<|\"|>,x:None}<tool_call|>"
                + "<|tool_response>response:get_weather{value:<|\"|>{\"temp\": 21}<|\"|>}<tool_response|>",
                gemma4().render(chat, true, tools(WEATHER_TOOL)));
    }

    @Test
    void parallelCallsTheirResultsAndTheAnswerAfterThem() {
        List<ChatMessage> chat = List.of(ChatMessage.user("Weather in Paris?"),
                ChatMessage.assistant("", List.of(call("call_1", "get_weather", "{\"city\": \"Paris\"}"),
                        call("call_2", "clock", "{}"))),
                ChatMessage.toolResult("call_1", "sunny"), ChatMessage.toolResult("call_2", "noon"),
                ChatMessage.assistant("Sunny at noon."), ChatMessage.user("Thanks"));
        assertEquals("<bos><|turn>system\n" + WEATHER + CLOCK + "<turn|>\n<|turn>user\nWeather in Paris?<turn|>\n"
                + "<|turn>model\n<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|>"
                + "<|tool_call>call:clock{}<tool_call|><|tool_response>response:get_weather{value:<|\"|>sunny<|\"|>}"
                + "<tool_response|><|tool_response>response:clock{value:<|\"|>noon<|\"|>}<tool_response|>Sunny at noon."
                + "<turn|>\n<|turn>user\nThanks<turn|>\n" + MODEL_NO_THINKING,
                gemma4().render(chat, true, tools(WEATHER_TOOL, CLOCK_TOOL)));
    }

    @Test
    void aCallWithoutItsResultYetEndsOpeningTheResponse() {
        List<ChatMessage> chat = List.of(ChatMessage.user("Weather in Paris?"),
                ChatMessage.assistant("", List.of(call("call_1", "get_weather", "{\"city\": \"Paris\"}"))));
        assertEquals("<bos><|turn>system\n" + WEATHER + "<turn|>\n<|turn>user\nWeather in Paris?<turn|>\n<|turn>model\n"
                + "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|><|tool_response>",
                gemma4().render(chat, true, tools(WEATHER_TOOL)));
    }

    @Test
    void theOlderTemplateDeclaresToolsItsOwnWay() {
        ChatTemplate t = RealTemplatesTest.load("gemma4-interleaved", "<bos>", "<eos>");
        List<ChatMessage> chat = List.of(ChatMessage.system("You are terse."), ChatMessage.user("Weather?"));
        assertEquals("<bos><|turn>system\nYou are terse." + WEATHER_INTERLEAVED + CLOCK
                + "<turn|>\n<|turn>user\nWeather?<turn|>\n" + MODEL_NO_THINKING,
                t.render(chat, true, tools(WEATHER_TOOL, CLOCK_TOOL)));
    }

    @Test
    void wordsAfterToolResultsCloseTheTurnAndTheModelGetsANewOne() {
        List<ChatMessage> chat = List.of(ChatMessage.user("Weather in Paris?"),
                ChatMessage.assistant("Let me check.", List.of(call("call_1", "get_weather", "{\"city\": \"Paris\"}"))),
                ChatMessage.toolResult("call_1", "sunny"));
        String rendered = "<bos><|turn>system\n" + WEATHER + "<turn|>\n<|turn>user\nWeather in Paris?<turn|>\n<|turn>model\n"
                + "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|>"
                + "<|tool_response>response:get_weather{value:<|\"|>sunny<|\"|>}<tool_response|>Let me check.<turn|>\n";
        assertEquals(rendered, gemma4().render(chat, false, tools(WEATHER_TOOL)));
        // the template opens no turn after it; llama.cpp opens the model's, and so does render
        assertEquals(rendered + "<|turn>model\n", gemma4().render(chat, true, tools(WEATHER_TOOL)));
    }

    @Test
    void theOlderTemplateGetsToolResultsMergedIntoTheCallingTurn() {
        ChatTemplate t = RealTemplatesTest.load("gemma4-interleaved", "<bos>", "<eos>");
        String head = "<bos><|turn>system\n" + WEATHER_INTERLEAVED + "<turn|>\n<|turn>user\nWeather in Paris?<turn|>\n"
                + "<|turn>model\n<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|>";
        // a JSON result is an object to the template, and the answer after the results is the merged turn's content
        List<ChatMessage> answered = List.of(ChatMessage.user("Weather in Paris?"),
                ChatMessage.assistant("", List.of(call("call_1", "get_weather", "{\"city\": \"Paris\"}"))),
                ChatMessage.toolResult("call_1", "{\"temp\": 21, \"sky\": \"clear\"}"),
                ChatMessage.assistant("Clear, 21."), ChatMessage.user("Thanks"));
        assertEquals(head + "<|tool_response>response:get_weather{sky:<|\"|>clear<|\"|>,temp:21}<tool_response|>"
                + "Clear, 21.<turn|>\n<|turn>user\nThanks<turn|>\n" + MODEL_NO_THINKING,
                t.render(answered, true, tools(WEATHER_TOOL)));
        // a result beyond the calls is named by its call id; the calling turn's own words are dropped, as llama.cpp does
        List<ChatMessage> pending = List.of(ChatMessage.user("Weather in Paris?"),
                ChatMessage.assistant("Let me check.", List.of(call("call_1", "get_weather", "{\"city\": \"Paris\"}"))),
                ChatMessage.toolResult("call_1", "sunny"), ChatMessage.toolResult("call_2", "42"));
        assertEquals(head + "<|tool_response>response:get_weather{value:<|\"|>sunny<|\"|>}<tool_response|>"
                + "<|tool_response>response:call_2{value:42}<tool_response|><|channel>thought\n<channel|>",
                t.render(pending, true, tools(WEATHER_TOOL)));
    }
}
