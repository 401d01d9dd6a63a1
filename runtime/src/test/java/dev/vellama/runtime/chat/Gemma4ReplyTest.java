package dev.vellama.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * Gemma 4's replies read back: the thought channel split from the answer as the reply streams, and tool calls read
 * into names and JSON arguments. The expected values are what llama.cpp's Gemma 4 parser (common/chat.cpp,
 * {@code common_chat_params_init_gemma4}, at commit 092b66d0) gives for the same text, read with
 * {@code common_chat_templates_apply} on {@code google-gemma-4-31B-it.jinja} and {@code common_chat_peg_parse};
 * the reasoning cases with thinking on and no tools, the call cases with tools offered. Several come from
 * llama.cpp's own tests (tests/test-chat.cpp).
 */
class Gemma4ReplyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reply text, then llama.cpp's reasoning and content for it. */
    private static final String[][] REASONING = {
        {"Hello, world!\nWhat's up?", "", "Hello, world!\nWhat's up?"},
        {"<|channel>thought\nI'm\nthinking<channel|>Hello, world!\nWhat's up?", "I'm\nthinking", "Hello, world!\nWhat's up?"},
        {"<|channel>thought<channel|>Hello, world!\nWhat's up?", "", "Hello, world!\nWhat's up?"},
        // a stray <channel|> ends the reply; an empty thought after the answer is dropped; so are empty channels
        {"<|channel>thought\n<channel|>Hello, world!\nWhat's up?<channel|>", "", "Hello, world!\nWhat's up?"},
        {"<|channel>thought\n<channel|>Hello, world!\nWhat's up?<|channel>thought\n<channel|>", "", "Hello, world!\nWhat's up?"},
        {"<|channel><|channel>thought\n<channel|>Hello, world!\nWhat's up?", "", "Hello, world!\nWhat's up?"},
        {"A<channel|>B", "", "A"},
        // thoughts before and after words are joined; whitespace after "thought" goes, the rest stays
        {"<|channel>thought\nr<channel|>A<|channel>thought\ns<channel|>B", "rs", "AB"},
        {"<|channel>thought  \n r \n<channel|>\n\nAnswer\n", "r \n", "\n\nAnswer\n"},
        {"<|channel>thought\nstill thinking", "still thinking", ""},
        {"<|channel>thoughtful<channel|>B", "ful", "B"},
        {"Use <b>bold</b> and a < sign", "", "Use <b>bold</b> and a < sign"},
    };

    /** Reply text, then llama.cpp's reasoning, content, and calls as name and arguments in turn. */
    private static final String[][] CALLS = {
        {"<|tool_call>call:get_time{city:<|\"|>London<|\"|>}<tool_call|>", "", "", "get_time", "{\"city\":\"London\"}"},
        {"<|tool_call>call:get_time{city:<|\"|>San Francisco<|\"|>}<tool_call|>", "", "",
            "get_time", "{\"city\":\"San Francisco\"}"},
        {"<|tool_call>call:f{}<tool_call|>", "", "", "f", "{}"},
        {"Hello, world!\nWhat's up?<|tool_call>call:get_time{city:<|\"|>Paris<|\"|>}<tool_call|>", "",
            "Hello, world!\nWhat's up?", "get_time", "{\"city\":\"Paris\"}"},
        {"<|tool_call>call:get_time{city:<|\"|>London<|\"|>}<tool_call|>"
            + "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|>", "", "",
            "get_time", "{\"city\":\"London\"}", "get_weather", "{\"city\":\"Paris\"}"},
        {"<|tool_call>call:f{arg1:42,n:-7,x:3.14,e:1.5e10,on:true,off:false,none:null}<tool_call|>", "", "",
            "f", "{\"arg1\":42,\"n\":-7,\"x\":3.14,\"e\":1.5e10,\"on\":true,\"off\":false,\"none\":null}"},
        {"<|tool_call>call:todo_list{todos:[<|\"|>buy milk<|\"|>,<|\"|>walk dog<|\"|>],empty:[]}<tool_call|>", "", "",
            "todo_list", "{\"todos\":[\"buy milk\",\"walk dog\"],\"empty\":[]}"},
        {"<|tool_call>call:set_config{config:{theme:<|\"|>dark<|\"|>,count:3,inner:{}}}<tool_call|>", "", "",
            "set_config", "{\"config\":{\"theme\":\"dark\",\"count\":3,\"inner\":{}}}"},
        // strings are taken as they stand, then JSON-escaped
        {"<|tool_call>call:f{q:<|\"|>a \"b\" \\ c}:\n\t\u0001\u00e9<|\"|>}<tool_call|>", "", "",
            "f", "{\"q\":\"a \\\"b\\\" \\\\ c}:\\n\\t\\u0001\u00e9\"}"},
        {"<|channel>thought\nNeed the time.\n<channel|>Checking.\n\n<|tool_call>call:get_time{city:<|\"|>Oslo<|\"|>}"
            + "<tool_call|>", "Need the time.\n", "Checking.\n\n", "get_time", "{\"city\":\"Oslo\"}"},
        {"A<channel|>B<|tool_call>call:f{}<tool_call|>", "", "A", "f", "{}"},
        {"<|tool_call>call:f{a:1}", "", "", "f", "{\"a\":1}"},
    };

    private static ReasoningSplitter splitter() {
        return ReasoningFormat.GEMMA4.splitter("<|turn>model\n", id -> null);
    }

    /** The reply fed in the given pieces; returns {reasoning, content}, checking that the deltas add up. */
    private static String[] feed(List<String> pieces) {
        ReasoningSplitter s = splitter();
        StringBuilder r = new StringBuilder();
        StringBuilder c = new StringBuilder();
        for (String p : pieces) {
            ReasoningSplitter.Delta d = s.accept(0, p);
            r.append(d.reasoning());
            c.append(d.content());
        }
        ReasoningSplitter.Delta d = s.finish();
        r.append(d.reasoning());
        c.append(d.content());
        assertEquals(s.reasoning(), r.toString(), "the deltas add up to the whole");
        assertEquals(s.content(), c.toString());
        return new String[] {r.toString(), c.toString()};
    }

    /**
     * The reply split as it streams, checked alike however it is cut: whole, a character at a time, and in two at
     * every place.
     */
    private static String[] split(String reply) {
        String[] whole = feed(List.of(reply));
        List<String> chars = new ArrayList<>();
        reply.codePoints().forEach(cp -> chars.add(Character.toString(cp)));
        assertEquals(List.of(whole), List.of(feed(chars)), "a character at a time: " + reply);
        for (int i = 1; i < reply.length(); i++) {
            assertEquals(List.of(whole), List.of(feed(List.of(reply.substring(0, i), reply.substring(i)))),
                    "cut at " + i + ": " + reply);
        }
        return whole;
    }

    @Test
    void theTemplatesSayTheFormats() {
        for (String name : List.of("gemma4", "gemma4-interleaved")) {
            ChatTemplate t = RealTemplatesTest.load(name, "<bos>", "<eos>");
            assertEquals(ReasoningFormat.GEMMA4, ReasoningFormat.of(t), name);
            assertEquals(ToolCallFormat.GEMMA4, ToolCallFormat.of(t), name);
        }
        assertEquals(ReasoningFormat.HARMONY, ReasoningFormat.of(RealTemplatesTest.load("gpt-oss", "", "")));
        assertEquals(ToolCallFormat.HARMONY, ToolCallFormat.of(RealTemplatesTest.load("gpt-oss", "", "")));
    }

    @Test
    void theThoughtChannelIsTheReasoningHoweverTheReplyIsCut() {
        for (String[] c : REASONING) {
            String[] out = split(c[0]);
            assertEquals(c[1], out[0], "reasoning of " + c[0]);
            assertEquals(c[2], out[1], "content of " + c[0]);
            assertEquals(new ChatReply(c[2], List.of()), ToolCallFormat.GEMMA4.parse(out[1]), "no calls in " + c[0]);
        }
    }

    @Test
    void callsAreReadIntoNamesAndJsonArguments() {
        for (String[] c : CALLS) {
            String[] out = split(c[0]);
            assertEquals(c[1], out[0], "reasoning of " + c[0]);
            ChatReply reply = ToolCallFormat.GEMMA4.parse(out[1]);
            assertEquals(c[2], reply.content(), "content of " + c[0]);
            assertEquals((c.length - 3) / 2, reply.toolCalls().size(), "calls in " + c[0]);
            for (int i = 0; i < reply.toolCalls().size(); i++) {
                ToolCall call = reply.toolCalls().get(i);
                assertEquals(c[3 + 2 * i], call.name());
                assertEquals(c[4 + 2 * i], call.arguments(), "arguments in " + c[0]);
                assertTrue(call.id().matches("call_[A-Za-z0-9]{24}"), call.id());
            }
        }
    }

    @Test
    void aCallSplitAcrossChunksIsPassedThroughWholeAndReadAtTheEnd() {
        List<String> chunks = List.of("<|chan", "nel>thought\nThe user wants", " Oslo's weather.<chan", "nel|>",
                "On it.", "<|tool", "_call>call:get_", "weather{city:<|\"", "|>Oslo<|\"|>,days:", "3}<tool_", "call|>");
        ReasoningSplitter s = splitter();
        List<String> contentDeltas = new ArrayList<>();
        for (String chunk : chunks) {
            ReasoningSplitter.Delta d = s.accept(0, chunk);
            if (!d.content().isEmpty()) {
                contentDeltas.add(d.content());
            }
        }
        s.finish();
        assertEquals("The user wants Oslo's weather.", s.reasoning());
        // words go out at once; a marker cut in two is held until it is whole
        assertEquals(List.of("On it.", "<|tool_call>call:get_", "weather{city:<|\"", "|>Oslo<|\"|>,days:", "3}",
                "<tool_call|>"), contentDeltas);
        ChatReply reply = ToolCallFormat.GEMMA4.parse(s.content());
        assertEquals("On it.", reply.content());
        assertEquals(1, reply.toolCalls().size());
        assertEquals("get_weather", reply.toolCalls().get(0).name());
        assertEquals("{\"city\":\"Oslo\",\"days\":3}", reply.toolCalls().get(0).arguments());
    }

    @Test
    void whitespaceInsideTheArgumentsIsAllowedWhereLlamaCppAllowsIt() throws IOException {
        // llama.cpp gives {"a":1,"b":[1,2 ]} (the space kept after a number); the same JSON value
        ChatReply reply = ToolCallFormat.GEMMA4.parse("<|tool_call>call:f{ a:1,\n b: [ 1, 2 ] }<tool_call|>");
        assertEquals("{\"a\":1,\"b\":[1,2]}", reply.toolCalls().get(0).arguments());
        assertEquals(JSON.readTree("{\"a\":1,\"b\":[1,2 ]}"), JSON.readTree(reply.toolCalls().get(0).arguments()));
        // a key is everything up to its colon, trailing spaces and all, as there
        assertEquals("{\"a \":1}", ToolCallFormat.GEMMA4.parse("<|tool_call>call:f{a :1}<tool_call|>")
                .toolCalls().get(0).arguments());
    }

    @Test
    void aCallThatDoesNotReadStaysInTheWords() {
        // llama.cpp drops these calls and their text; here, as in every format, they stay in the answer
        for (String text : List.of("<|tool_call>call:get_time{city:London}<tool_call|>",
                "<|tool_call>call:f{a:01}<tool_call|>", "<|tool_call>call:f {a:1}<tool_call|>",
                "<|tool_call>call:f{a:1,}<tool_call|>", "<|tool_call>call:f{a:<|\"|>open}<tool_call|>",
                "<|tool_call>call:f{a:1}junk<tool_call|>", "<|tool_call>f{}<tool_call|>")) {
            ChatReply reply = ToolCallFormat.GEMMA4.parse(text);
            assertEquals(new ChatReply(text, List.of()), reply, text);
        }
    }

    @Test
    void noGrammarHoldsTheCallsYet() {
        List<Tool> tools = List.of(new Tool("f", null, null));
        assertNull(ToolCallFormat.GEMMA4.grammar(tools, ToolChoice.AUTO));
        assertNull(ToolCallFormat.GEMMA4.grammar(tools, ToolChoice.REQUIRED));
        assertFalse(ToolCallFormat.GEMMA4.constrains(ToolChoice.REQUIRED));
        assertEquals(List.of(), ToolCallFormat.GEMMA4.triggers(ToolChoice.AUTO));
        // the template declares the tools itself
        assertEquals(1, ((List<?>) ToolCallFormat.GEMMA4.templateVariables(tools).get("tools")).size());
        assertFalse(splitter().readsTokens(), "its markers show in the decoded text");
    }
}
