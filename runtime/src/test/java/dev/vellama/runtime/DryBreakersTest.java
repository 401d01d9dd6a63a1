package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.vellama.testdata.TestData;

/** DRY's breaker strings turned into tokens with a real vocabulary. */
class DryBreakersTest {

    @Test
    void tokensHoldingABreakerBreakAloneAndOthersDoNot() throws IOException {
        try (Model model = Model.load(TestData.model("stories-llama2-q8_0.gguf"))) {
            var t = model.tokenizer();
            DryBreakers b = DryBreakers.of(t, GenerationParams.Dry.OFF.sequenceBreakers());
            int newline = single(t.encode("\n", false, false));
            int colon = single(t.encode(":", false, false));
            int word = single(t.encode("time", false, false));
            assertTrue(b.breaksAlone(newline), "newline");
            assertTrue(b.breaksAlone(colon), "colon");
            assertFalse(b.breaksAlone(word), "a plain word");
            assertSame(b, DryBreakers.of(t, List.copyOf(GenerationParams.Dry.OFF.sequenceBreakers())), "derived once");
            // a breaker of two tokens: its first token is a head whose tail is the rest
            DryBreakers two = DryBreakers.of(t, List.of("time:"));
            assertTrue(two.tails(word) != null && !two.breaksAlone(word), "'time' starts 'time:'");
        }
    }

    private static int single(int[] ids) {
        // SentencePiece may put a word-start piece first; the text's own token is the last
        return ids[ids.length - 1];
    }
}
