package dev.vellama.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ReasoningSplitterTest {
    /** Harmony's control tokens by made-up ids; 0 is a plain text token. */
    private static final Map<Integer, String> MARKERS = Map.of(1, "<|start|>", 2, "<|channel|>", 3, "<|message|>",
            4, "<|end|>", 5, "<|return|>", 6, "<|constrain|>", 7, "<|call|>");

    private static ReasoningSplitter think(String prompt) {
        return ReasoningFormat.THINK_TAGS.splitter(prompt, id -> null);
    }

    /** Feeds the pieces one by one and returns {reasoning deltas joined, content deltas joined}. */
    private static String[] feed(ReasoningSplitter s, String... pieces) {
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

    @Test
    void thinkTagsSplitEvenWhenATagIsCutAcrossTokens() {
        String[] out = feed(think("<|im_start|>assistant\n"), "<th", "ink>\nLet me", " see.</th", "ink>\n\nIt is ", "4.");
        assertEquals("\nLet me see.", out[0]);
        assertEquals("It is 4.", out[1]);
    }

    @Test
    void aReplyWithoutThinkIsAllAnswerAndAPartialTagIsNotLost() {
        assertEquals("[, <thin]", List.of(feed(think(""), "<thin")).toString(), "a reply that ends in what looked like a tag");
        String[] out = feed(think(""), "Hello", " <think> is a tag");
        assertEquals("", out[0]);
        assertEquals("Hello <think> is a tag", out[1]);
    }

    @Test
    void aPromptThatOpensThinkStartsTheReplyInItsReasoning() {
        assertEquals(true, ReasoningSplitter.endsInsideThink("<|im_start|>assistant\n<think>\n"));
        assertEquals(false, ReasoningSplitter.endsInsideThink("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
        String[] out = feed(think("<|im_start|>assistant\n<think>\n"), "hmm", "</think>", "yes");
        assertEquals("hmm", out[0]);
        assertEquals("yes", out[1]);
    }

    @Test
    void harmonyAnalysisIsReasoningAndFinalIsTheAnswer() {
        ReasoningSplitter s = ReasoningFormat.HARMONY.splitter("<|start|>assistant", MARKERS::get);
        // <|channel|>analysis<|message|>User greets.<|end|><|start|>assistant<|channel|>final<|message|>Hi!<|return|>
        Object[][] tokens = {{2, ""}, {0, "analysis"}, {3, ""}, {0, "User"}, {0, " greets."}, {4, ""}, {1, ""},
                {0, "assistant"}, {2, ""}, {0, "final"}, {3, ""}, {0, "Hi"}, {0, "!"}, {5, ""}};
        StringBuilder r = new StringBuilder();
        StringBuilder c = new StringBuilder();
        for (Object[] t : tokens) {
            ReasoningSplitter.Delta d = s.accept((Integer) t[0], (String) t[1]);
            r.append(d.reasoning());
            c.append(d.content());
        }
        assertEquals("User greets.", r.toString());
        assertEquals("Hi!", c.toString());
        assertEquals("User greets.", s.reasoning());
        assertEquals("Hi!", s.content());
    }

    @Test
    void harmonyMessagesToAFunctionAreToolCallsAndPlainTextIsAllAnswer() {
        ReasoningSplitter s = ReasoningFormat.HARMONY.splitter("", MARKERS::get);
        // <|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant to=functions.get_weather<|channel|>
        // commentary <|constrain|>json<|message|>{"city":"Oslo"}<|call|>
        Object[][] tokens = {{2, ""}, {0, "analysis"}, {3, ""}, {0, "Need weather."}, {4, ""}, {1, ""},
                {0, "assistant to=functions.get_weather"}, {2, ""}, {0, "commentary "}, {6, ""}, {0, "json"}, {3, ""},
                {0, "{\"city\":"}, {0, "\"Oslo\"}"}, {7, ""}};
        for (Object[] t : tokens) {
            s.accept((Integer) t[0], (String) t[1]);
        }
        s.finish();
        assertEquals("Need weather.", s.reasoning());
        assertEquals("", s.content());
        assertEquals(1, s.toolCalls().size());
        assertEquals("get_weather", s.toolCalls().get(0).name());
        assertEquals("{\"city\":\"Oslo\"}", s.toolCalls().get(0).arguments());
        assertEquals(29, s.toolCalls().get(0).id().length(), "call_ and 24 letters and digits");

        // the recipient may follow the channel instead, and a reply cut short still keeps its call
        ReasoningSplitter t = ReasoningFormat.HARMONY.splitter("", MARKERS::get);
        for (Object[] tok : new Object[][] {{2, ""}, {0, "commentary to=functions.now"}, {3, ""}, {0, "{}"}}) {
            t.accept((Integer) tok[0], (String) tok[1]);
        }
        t.finish();
        assertEquals("now", t.toolCalls().get(0).name());

        ReasoningSplitter plain = ReasoningFormat.HARMONY.splitter("", MARKERS::get);
        plain.accept(0, "Just");
        plain.accept(0, " text");
        assertEquals("Just text", plain.content());
    }

    @Test
    void theFormatFollowsTheTemplate() {
        assertEquals(ReasoningFormat.HARMONY, ReasoningFormat.of(RealTemplatesTest.load("gpt-oss", "<|startoftext|>", "<|return|>")));
        assertEquals(ReasoningFormat.THINK_TAGS, ReasoningFormat.of(RealTemplatesTest.load("qwen3", "<|endoftext|>", "<|im_end|>")));
        assertEquals(ReasoningFormat.NONE, ReasoningFormat.of(RealTemplatesTest.load("llama3.2", "<|begin_of_text|>", "<|eot_id|>")));
    }
}
