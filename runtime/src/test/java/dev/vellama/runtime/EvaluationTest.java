package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.vellama.testdata.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Multiple-choice scoring against llama-perplexity --hellaswag, and classification by prompting. */
class EvaluationTest {
    private static final Path TASKS = Path.of("../docs/examples/docs-choices.hellaswag.txt");

    /**
     * The right answers of llama-perplexity (c392e5094, 2026-12-06) on the 24 tasks of docs-choices.hellaswag.txt:
     * {@code llama-perplexity -m MODEL -f docs/examples/docs-choices.hellaswag.txt --hellaswag -t 2 -c 512}, whose
     * last line gave 95.83333333 (23 of 24), 95.83333333 and 41.66666667 (10 of 24).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"stories-llama2-q8_0.gguf, 23", "stories-llama2-q4_0.gguf, 23", "tiny-llama3-q8_0.gguf, 10"})
    void accuracyIsLlamaPerplexitysHellaswag(String file, int right) throws IOException {
        List<MultipleChoice.Task> tasks = MultipleChoice.parseHellaswag(Files.readString(TASKS));
        assertEquals(24, tasks.size());
        try (Model m = Model.load(TestData.model(file));
             Session s = m.newSession(SessionOptions.defaults().withContextSize(256).withThreads(2))) {
            int got = 0;
            for (MultipleChoice.Task t : tasks) {
                MultipleChoice.Scores scores = MultipleChoice.score(s, t);
                assertEquals(4, scores.scores().length);
                for (double v : scores.scores()) {
                    assertTrue(v < 0, "a mean log-probability");
                }
                got += scores.best() == t.label() ? 1 : 0;
            }
            assertEquals(right, got);
        }
    }

    /** The score is the mean log-probability of the ending's own tokens, read here from evaluateAll's logits. */
    @Test
    void aScoreIsTheMeanLogProbabilityOfTheEndingsTokens() throws IOException {
        try (Model m = Model.load(TestData.model("stories-llama2-q8_0.gguf"));
             Session s = m.newSession(SessionOptions.defaults().withContextSize(128).withThreads(2))) {
            MultipleChoice.Task t = new MultipleChoice.Task("The table has", List.of("three columns.", "many rows and columns."), 0);
            MultipleChoice.Scores scores = MultipleChoice.score(s, t);
            int[] prompt = m.tokenizer().encode("The table has", true, false);
            int[] seq = m.tokenizer().encode("The table has many rows and columns.", true, false);
            float[] logits = s.evaluateAll(seq);
            int v = m.config().vocabSize();
            double sum = 0;
            for (int j = prompt.length - 1; j < seq.length - 1; j++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < v; i++) {
                    max = Math.max(max, logits[j * v + i]);
                }
                double z = 0;
                for (int i = 0; i < v; i++) {
                    z += Math.exp(logits[j * v + i] - max);
                }
                sum += logits[j * v + seq[j + 1]] - max - Math.log(z);
            }
            assertEquals(sum / (seq.length - prompt.length), scores.scores()[1], 1e-4);
        }
    }

    @Test
    void badTasksAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> MultipleChoice.parseHellaswag("a\n0\nb\nc\nd\n"));
        assertThrows(IllegalArgumentException.class, () -> MultipleChoice.parseHellaswag("a\nx\nb\nc\nd\ne\n"));
        assertThrows(IllegalArgumentException.class, () -> new MultipleChoice.Task("a", List.of("b"), 0));
        assertThrows(IllegalArgumentException.class, () -> new MultipleChoice.Task("a", List.of("b", "c"), 2));
        assertThrows(IllegalArgumentException.class, () -> new PromptClassification("no slot", List.of("a", "b")));
    }

    /** Wilson intervals, checked against values computed by hand from the formula. */
    @Test
    void accuracyHasAWilsonInterval() {
        Accuracy a = new Accuracy(23, 24);
        assertEquals(0.958333, a.value(), 1e-6);
        assertEquals(0.797582, a.low(), 1e-6);
        assertEquals(0.992607, a.high(), 1e-6);
        Accuracy none = new Accuracy(0, 10);
        assertEquals(0, none.low(), 1e-12);
        assertTrue(none.high() > 0.2 && none.high() < 0.35);
    }

    /** A k-shot prompt holds k other items with their labels, then the item; the same seed draws the same ones. */
    @Test
    void aKShotPromptHoldsKOtherLabelledItems() {
        PromptClassification c = new PromptClassification("Review: {text}\nSentiment:", List.of("positive", "negative"));
        List<PromptClassification.Item> items = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            items.add(new PromptClassification.Item("text " + i, i % 2 == 0 ? "positive" : "negative"));
        }
        MultipleChoice.Task t = c.task(items, 3, 4, new Random(7));
        assertEquals(List.of("positive", "negative"), t.endings());
        assertEquals(1, t.label());
        assertTrue(t.context().endsWith("Review: text 3\nSentiment:"), t.context());
        assertEquals(5, t.context().split("Review: ").length - 1, t.context());
        assertEquals(1, t.context().split("text 3").length - 1, "the item is not its own example");
        for (String block : t.context().split("\n\n")) {
            if (!block.contains("text 3")) {
                int i = Integer.parseInt(block.replaceAll("(?s).*text (\\d).*", "$1"));
                assertTrue(block.endsWith(" " + items.get(i).label()), block);
            }
        }
        assertEquals(t, c.task(items, 3, 4, new Random(7)));
        boolean another = false;
        for (int seed = 8; seed < 20; seed++) {
            another |= !t.context().equals(c.task(items, 3, 4, new Random(seed)).context());
        }
        assertTrue(another, "other seeds draw other examples");
        assertThrows(IllegalArgumentException.class, () -> c.task(items, 0, 6, new Random(1)));
        assertThrows(IllegalArgumentException.class, () -> c.task(List.of(items.get(0), new PromptClassification.Item("t", "neutral")), 1, 0, new Random(1)));
    }
}
