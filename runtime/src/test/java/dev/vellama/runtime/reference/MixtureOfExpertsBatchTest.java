package dev.vellama.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * Continuous batching of a mixture-of-experts model: requests that run together, all their rows (decode steps and
 * prompt chunks alike) sharing each expert's multiplication when they chose the same one, must give every token and
 * every logprob bit for bit as each request alone. No warm-up comes first: the exp of SiLU and softmax is a
 * polynomial of correctly rounded operations, so interpreted and compiled kernels agree too. Quantized files too,
 * since their shared multiplications take other kernels (Q4_0's four-token one among them) than F32's.
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
            for (String prompt : PROMPTS) {
                try (Session s = model.newSession(SessionOptions.defaults().withContextSize(128).withThreads(2))) {
                    alone.add(s.generate(prompt, params, null));
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
                        assertEquals(Float.floatToIntBits(want.get(t).logprob()), Float.floatToIntBits(have.get(t).logprob()), where);
                        assertEquals(want.get(t).topLogprobs(), have.get(t).topLogprobs(), where);
                    }
                }
            }
        }
    }
}
