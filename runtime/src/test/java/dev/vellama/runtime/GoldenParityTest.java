package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import dev.vellama.runtime.model.KvCache;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The acceptance test of the engine: for every shared model, the same prompt tokens as llama.cpp, the same top-1
 * token wherever llama.cpp's margin is clear, the top-5 logits within a tolerance for the weight type, and the same
 * greedy continuation while its margins stay clear. Tolerances are about twice the spread between two llama.cpp
 * releases on these files (llama.cpp quantizes activations, so it moves by up to 0.12 on 4-bit files itself).
 */
public class GoldenParityTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            // model file, top-1 margin threshold, top-5 logit tolerance
            "stories-llama2-q8_0.gguf, 0.1, 0.1",
            "stories-llama2-q4_0.gguf, 0.25, 0.2",
            "stories-llama2-q4_k_m.gguf, 0.1, 0.1",
            "tiny-llama3-q8_0.gguf, 0.1, 0.1",
            "tiny-qwen2-q4_0.gguf, 0.25, 0.2",
            "tiny-qwen3-q8_0.gguf, 0.1, 0.1",
    })
    void matchesLlamaCpp(String modelFile, float marginThreshold, float logitTolerance) throws IOException {
        check(modelFile, marginThreshold, logitTolerance, CacheType.F16);
    }

    /** An F32 cache skips the rounding of keys and values; the results stay as close to llama.cpp's. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "stories-llama2-q8_0.gguf, 0.1, 0.1",
            "tiny-qwen3-q8_0.gguf, 0.1, 0.1",
    })
    void matchesLlamaCppWithAnF32Cache(String modelFile, float marginThreshold, float logitTolerance) throws IOException {
        check(modelFile, marginThreshold, logitTolerance, CacheType.F32);
    }

    private static void check(String modelFile, float marginThreshold, float logitTolerance, CacheType cache) throws IOException {
        check(modelFile, marginThreshold, logitTolerance,
                SessionOptions.defaults().withContextSize(256).withBatchSize(16).withKvCache(cache));
    }

    /**
     * Runs every golden case of {@code modelFile} through a session made with {@code options} (public so the CUDA
     * tests hold the GPU to the same bounds) and returns the worst top-5 logit difference.
     */
    public static float check(String modelFile, float marginThreshold, float logitTolerance, SessionOptions options) throws IOException {
        return check(Golden.modelPath(modelFile), Golden.load(modelFile), marginThreshold, logitTolerance, options);
    }

    /** As above for a model file and golden data found elsewhere (tiny models the tests write). */
    public static float check(Path modelPath, Golden golden, float marginThreshold, float logitTolerance,
                              SessionOptions options) throws IOException {
        String modelFile = modelPath.getFileName().toString();
        try (Model model = Model.load(modelPath);
             Session session = model.newSession(options)) {
            int vocab = model.config().vocabSize();
            float worst = 0;
            for (Golden.Case c : golden.cases()) {
                assertArrayEquals(c.tokens(), session.tokenize(c.prompt()), "prompt tokens of \"" + c.prompt() + "\"");

                float[] logits = session.evaluateAll(c.tokens());
                for (int p = 0; p < c.tokens().length; p++) {
                    Golden.Position ref = c.positions().get(p);
                    int row = p * vocab;
                    float margin = ref.topLogits()[0] - ref.topLogits()[1];
                    if (margin > marginThreshold) {
                        assertEquals(ref.topIds()[0], argmax(logits, row, vocab), "top-1 at position " + p + " of \"" + c.prompt() + "\"");
                    }
                    for (int i = 0; i < 5; i++) {
                        float diff = Math.abs(logits[row + ref.topIds()[i]] - ref.topLogits()[i]);
                        worst = Math.max(worst, diff);
                        assertTrue(diff <= logitTolerance, "logit of token " + ref.topIds()[i] + " at position " + p
                                + " of \"" + c.prompt() + "\" differs by " + diff);
                    }
                }

                session.reset();
                GenerationResult r = session.generate(c.tokens(),
                        GenerationParams.greedy().withMaxTokens(c.greedy().length), null);
                int[] ours = r.tokenIds();
                for (int i = 0; i < c.greedy().length && c.greedyMargins()[i] > marginThreshold; i++) {
                    // past a near-tie the two runs may legitimately part, so only clear steps are compared
                    if (i >= ours.length) {
                        assertTrue(r.stopReason() == StopReason.EOS && model.tokenizer().isEndOfGeneration(c.greedy()[i]),
                                "continuation of \"" + c.prompt() + "\" ended early at step " + i);
                        break;
                    }
                    assertEquals(c.greedy()[i], ours[i], "greedy step " + i + " of \"" + c.prompt() + "\"");
                }
                session.reset();
            }
            System.out.printf("%s, %s cache, %s: worst top-5 logit difference %.4f%n", modelFile, options.cacheTypeK(),
                    options.device(), worst);
            return worst;
        }
    }

    static int argmax(float[] a, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (a[from + i] > a[from + best]) {
                best = i;
            }
        }
        return best;
    }
}
