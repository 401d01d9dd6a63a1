package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import dev.vellama.runtime.chat.ChatReply;
import dev.vellama.runtime.chat.ToolCallFormat;
import org.junit.jupiter.api.Test;

/** What a streamed reply that may call tools lets out as words, and what it holds back to read as calls. */
class ToolReplyStreamTest {
    private static String feed(ToolReplyStream s, List<String> pieces) {
        StringBuilder out = new StringBuilder();
        pieces.forEach(p -> out.append(s.accept(p)));
        return out.toString();
    }

    @Test
    void hermesWordsFlowUntilACallOpens() {
        ToolReplyStream s = new ToolReplyStream(ToolCallFormat.HERMES, false);
        assertEquals("Let me check. ", feed(s, List.of("Let me", " check. <", "tool", "_call>\n{\"name\": \"f\", ",
                "\"arguments\": {}}\n</tool_call>")));
        ChatReply r = s.reply();
        assertEquals("f", r.toolCalls().get(0).name());
        assertEquals("", s.unsentContent(r));
    }

    @Test
    void glmWordsFlowUntilACallOpensAndItsPairsAreReadBack() {
        ToolReplyStream s = new ToolReplyStream(ToolCallFormat.GLM, false);
        assertEquals("Checking. ", feed(s, List.of("Checking. <tool", "_call>f\n<arg_key>a</arg_key>\n",
                "<arg_value>1</arg_value>\n</tool_call>")));
        ChatReply r = s.reply();
        assertEquals("f", r.toolCalls().get(0).name());
        assertEquals("{\"a\":1}", r.toolCalls().get(0).arguments());
        assertEquals("", s.unsentContent(r));
    }

    @Test
    void gemma4WordsFlowUntilACallOpensEvenWhenItsMarkerIsCut() {
        ToolReplyStream s = new ToolReplyStream(ToolCallFormat.GEMMA4, false);
        assertEquals("On it. ", feed(s, List.of("On it. <|to", "ol_call>call:get_weather{city:<|\"|>Os",
                "lo<|\"|>}<tool_call|>")));
        ChatReply r = s.reply();
        assertEquals("get_weather", r.toolCalls().get(0).name());
        assertEquals("{\"city\":\"Oslo\"}", r.toolCalls().get(0).arguments());
        assertEquals("", s.unsentContent(r));
        // <tool_call> without the bar is Hermes', not Gemma's: it is words
        ToolReplyStream words = new ToolReplyStream(ToolCallFormat.GEMMA4, false);
        assertEquals("a <tool_call> b", feed(words, List.of("a <tool_call>", " b")));
        assertEquals("", words.unsentContent(words.reply()));
    }

    @Test
    void aLessThanThatOpensNoCallIsLetOutAtTheEnd() {
        ToolReplyStream s = new ToolReplyStream(ToolCallFormat.HERMES, false);
        assertEquals("a <b", feed(s, List.of("a <", "b")));
        ToolReplyStream t = new ToolReplyStream(ToolCallFormat.HERMES, false);
        String sent = feed(t, List.of("x <to"));
        assertEquals("x ", sent);
        assertEquals("<to", t.unsentContent(t.reply()));
    }

    @Test
    void llamaRepliesThatOpenWithABraceAreHeldWordsAreNot() {
        ToolReplyStream call = new ToolReplyStream(ToolCallFormat.LLAMA_3, false);
        assertEquals("", feed(call, List.of(" ", "{\"name\": \"f\", ", "\"parameters\": {\"a\": 1}}")));
        assertEquals("{\"a\":1}", call.reply().toolCalls().get(0).arguments());
        ToolReplyStream words = new ToolReplyStream(ToolCallFormat.LLAMA_3, false);
        assertEquals("Hi {there}", feed(words, List.of("Hi", " {there}")));
        assertEquals("", words.unsentContent(words.reply()));
    }

    @Test
    void aReplyThatMustCallOrAGenericOneIsAllHeld() {
        ToolReplyStream must = new ToolReplyStream(ToolCallFormat.HERMES, true);
        assertEquals("", feed(must, List.of("<tool_call>\n{\"name\": \"f\", \"arguments\": {}}</tool_call>")));
        ToolReplyStream generic = new ToolReplyStream(ToolCallFormat.GENERIC, false);
        assertEquals("", feed(generic, List.of("{\"response\": ", "\"Hello.\"}")));
        assertEquals("Hello.", generic.unsentContent(generic.reply()));
    }
}
