package dev.vellama.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.ResultFuture;
import dev.vellama.runtime.GeneratedToken;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelQuantizer;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Continuous batching of a mixture-of-experts model: requests that run together, all their rows (decode steps
 * and prompt chunks alike) sharing each expert's multiplication when they chose the same one, must give every token
 * and every logprob as each request alone. Quantized files too, since their shared multiplications
 * take other kernels (Q4_0's four-token one among them) than F32's.
 */
class MixtureOfExpertsBatchTest {
    private static final List<String> PROMPTS = List.of("Once upon a time", "The PostgreSQL server listens",
            "In Python, a list", "The little dog ran to the", "To create a table");

    @TempDir
    static Path dir;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"qwen2moe, F32", "qwen2moe, Q8_0", "qwen3moe, F32", "qwen3moe, Q4_0"})
    void batchedRequestsAreBitForBitTheLoneSessions(String family, String type) throws IOException, Exception {
        TinySpec spec = family.equals("qwen2moe") ? TinyModels.qwen2moe() : TinyModels.qwen3moe();
        Path file = TinyModels.write(spec, dir);
        if (!type.equals("F32")) {
            Path quantized = dir.resolve(family + "-" + type + ".gguf");
            ModelQuantizer.quantize(file, quantized, ModelQuantizer.Options.of(ModelQuantizer.FileType.parse(type))
                    .withPure(true), c -> { });
            file = quantized;
        }
        GenerationParams params = GenerationParams.greedy().withMaxTokens(10).withTopLogprobs(3);
        try (Model model = Model.load(file)) {
            List<GenerationResult> alone = new ArrayList<>();
            // a first round warms the JIT: an interpreted Vector API exp (SiLU's) can differ in its last bit from the
            // compiled one, which would make the lone runs differ from themselves
            for (int round = 0; round < 2; round++) {
                alone.clear();
                for (String prompt : PROMPTS) {
                    try (Session s = model.newSession(SessionOptions.defaults().withContextSize(128).withThreads(2))) {
                        alone.add(s.generate(prompt, params, null));
                    }
                }
            }
            try (BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(3, 384).withThreads(2))) {
                List<ResultFuture> got = new ArrayList<>();
                for (String prompt : PROMPTS) { // five requests over three slots: prompts join running decodes
                    ResultFuture c = new ResultFuture();
                    engine.submit(model.tokenizer().encode(prompt, true, true), params, c);
                    got.add(c);
                }
                for (int i = 0; i < PROMPTS.size(); i++) {
                    List<GeneratedToken> want = alone.get(i).tokens();
                    List<GeneratedToken> have = got.get(i).await().tokens();
                    assertEquals(want.size(), have.size(), PROMPTS.get(i));
                    for (int t = 0; t < want.size(); t++) {
                        String where = family + " " + type + ", \"" + PROMPTS.get(i) + "\", token " + t;
                        assertEquals(want.get(t).id(), have.get(t).id(), where);
                        assertUlps(want.get(t).logprob(), have.get(t).logprob(), where);
                        for (int j = 0; j < want.get(t).topLogprobs().size(); j++) {
                            assertEquals(want.get(t).topLogprobs().get(j).id(), have.get(t).topLogprobs().get(j).id(), where);
                            assertUlps(want.get(t).topLogprobs().get(j).logprob(), have.get(t).topLogprobs().get(j).logprob(), where);
                        }
                    }
                }
            }
        }
    }

    /**
     * Equal within {@link #MAX_ULPS} units in the last place. Every multiplication gives each row what its own
     * matvec gives (the quantized cases passed with 0 ulps when this was written), but SiLU's Vector API exp, interpreted or compiled, can differ
     * in its last bit, and the tiny F32 models run too little to have every kernel compiled by the time the lone
     * runs end: a JIT effect, not a batching one. A token of another request or another expert would be far off.
     */
    private static void assertUlps(float want, float have, String where) {
        int apart = Math.abs(Float.floatToIntBits(want) - Float.floatToIntBits(have));
        assertTrue(apart <= MAX_ULPS, where + ": " + want + " alone, " + have + " batched (" + apart + " ulps apart)");
    }

    private static final int MAX_ULPS = 4;
}
