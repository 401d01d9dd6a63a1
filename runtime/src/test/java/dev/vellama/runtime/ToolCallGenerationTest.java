package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.runtime.chat.ChatMessage;
import dev.vellama.runtime.chat.ChatReply;
import dev.vellama.runtime.chat.Tool;
import dev.vellama.runtime.chat.ToolCall;
import dev.vellama.runtime.chat.ToolCallFormat;
import dev.vellama.runtime.chat.ToolChoice;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;

/** A model made to call tools writes calls its template's format reads back, with arguments its schema allows. */
class ToolCallGenerationTest {
    private static final String PARAMS = """
            {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
                                              "unit": {"enum": ["C", "F"]}},
             "required": ["city", "unit"], "additionalProperties": false}""";

    @Test
    void requiredCallsParseAndValidate() throws IOException {
        ObjectMapper json = new ObjectMapper();
        Object schemaValue = json.readValue(PARAMS, Object.class);
        com.networknt.schema.Schema schema = com.networknt.schema.SchemaRegistry
                .withDefaultDialect(com.networknt.schema.SpecificationVersion.DRAFT_2020_12).getSchema(json.readTree(PARAMS));
        List<Tool> tools = List.of(new Tool("get_weather", "Weather for a city", schemaValue), new Tool("get_time", "Local time", null));
        for (String file : List.of("tiny-qwen3-q8_0.gguf", "tiny-llama3-q8_0.gguf")) {
            try (Model m = Model.load(TestData.model(file));
                 Session s = m.newSession(SessionOptions.defaults().withContextSize(1024).withThreads(2))) {
                ToolCallFormat format = ToolCallFormat.of(m.chatTemplate());
                List<ChatMessage> conversation = format.prepare(List.of(ChatMessage.user("What is the weather in Oslo?")),
                        tools, ToolChoice.function("get_weather"));
                int[] prompt = m.chatPrompt(conversation, m.chatTemplate(), format.templateVariables(tools),
                        format.replyPrefix(ToolChoice.function("get_weather")));
                int called = 0;
                for (long seed = 0; seed < 6; seed++) {
                    s.reset();
                    GenerationResult r = s.generate(prompt, GenerationParams.defaults().withSeed(seed).withMaxTokens(200)
                            .withGrammar(format.grammar(tools, ToolChoice.function("get_weather"))), null);
                    if (r.stopReason() == StopReason.LENGTH) {
                        continue; // a random model may wander in whitespace; the grammar still held (checked below when it ends)
                    }
                    ChatReply reply = format.parse(r.text());
                    assertTrue(!reply.toolCalls().isEmpty(), file + " seed " + seed + ": " + r.text());
                    for (ToolCall c : reply.toolCalls()) {
                        assertEquals("get_weather", c.name());
                        var errors = schema.validate(json.readTree(c.arguments()));
                        assertTrue(errors.isEmpty(), c.arguments() + " → " + errors);
                    }
                    called++;
                }
                assertTrue(called >= 4, file + ": " + called + " of 6 replies ended within the limit");
            }
        }
    }
}
