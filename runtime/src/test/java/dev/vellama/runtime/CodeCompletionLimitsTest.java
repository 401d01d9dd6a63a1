package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;

import dev.vellama.quant.Kernels;
import dev.vellama.runtime.tokenizer.Tokenizer;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * llama-server's two code-completion limits, {@code n_indent} ({@link GenerationParams#minIndent()}) and
 * {@code t_max_predict_ms} ({@link GenerationParams#maxPredictMillis()}), on a continuation fed chosen tokens.
 */
class CodeCompletionLimitsTest {
    private static Model qwen;
    private static Tokenizer tok;
    private static Kernels kernels;

    @BeforeAll
    static void load() throws IOException {
        qwen = Model.load(TestData.model("tiny-qwen2-q4_0.gguf"));
        tok = qwen.tokenizer();
        kernels = Kernels.scalar(1);
    }

    @AfterAll
    static void close() {
        if (kernels != null) {
            kernels.close();
        }
        if (qwen != null) {
            qwen.close();
        }
    }

    /** Feeds each piece (one token each) as the only likely token; returns the text released when it ended. */
    private static Continuation feed(GenerationParams params, String... pieces) throws InterruptedException {
        int vocab = qwen.config().vocabSize();
        Continuation c = new Continuation(tok, vocab, params, kernels);
        int[] history = new int[pieces.length];
        for (int i = 0; i < pieces.length && !c.ended(); i++) {
            int[] ids = tok.encode(pieces[i], false, false);
            assertEquals(1, ids.length, "'" + pieces[i] + "' is one token");
            float[] logits = new float[vocab];
            Arrays.fill(logits, -10f);
            logits[ids[0]] = 10f;
            c.next(logits, history, i);
            history[i] = ids[0];
            if (params.maxPredictMillis() > 0) {
                Thread.sleep(3);
            }
        }
        return c;
    }

    @Test
    void aLineIndentedLessThanAskedEndsTheReplyAfterItsIndentation() throws InterruptedException {
        GenerationParams p = GenerationParams.greedy().withMinIndent(4);
        Continuation c = feed(p, "x", " =", "\n", "    ", "y", "\n", "  ", "z", "\n", "    ", "w");
        assertEquals("x =\n    y\n  ", c.text(), "the third line is cut after its two spaces, as llama-server cuts it");
        assertEquals(StopReason.LENGTH, c.stopReason());
        // an empty line counts as unindented too
        Continuation blank = feed(p, "x", "\n", "    ", "y", "\n", "\n", "z");
        assertEquals("x\n    y\n", blank.text());
        // the first line is never held to it, and without the limit nothing stops
        Continuation first = feed(p, "x", " =", " y");
        assertFalse(first.ended());
        Continuation off = feed(GenerationParams.greedy(), "x", "\n", "z");
        assertEquals("x\nz", off.text());
        assertNull(off.stopReason());
    }

    @Test
    void theTimeLimitEndsTheReplyOnceALineIsComplete() throws InterruptedException {
        GenerationParams p = GenerationParams.greedy().toBuilder().maxPredictMillis(1).build();
        Continuation noNewline = feed(p, "x", " =", " y", " +", " z");
        assertFalse(noNewline.ended(), "no newline yet: the limit waits");
        Continuation c = feed(p, "x", "\n", "y", " +", " z");
        assertTrue(c.ended());
        assertEquals(StopReason.LENGTH, c.stopReason());
        assertEquals("x\ny", c.text(), "the token after the newline is the last, as in llama-server");
    }
}
