package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.vellama.testdata.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Perplexity of the trained stories models on llama.cpp's text, against llama-perplexity's own numbers. */
class PerplexityTest {

    @ParameterizedTest
    @ValueSource(strings = {"stories-llama2-q8_0.gguf", "stories-llama2-q4_0.gguf", "stories-llama2-q4_k_m.gguf"})
    void matchesLlamaPerplexity(String modelFile) throws IOException {
        JsonNode ref = new ObjectMapper().readTree(TestData.resolve("golden/perplexity.json").toFile());
        int ctx = ref.get("n_ctx").asInt();
        double expected = ref.get("results").get(modelFile).get("ppl").asDouble();
        String text = Files.readString(TestData.resolve("golden/perplexity.txt"));
        try (Model model = Model.load(TestData.model(modelFile));
             Session session = model.newSession(SessionOptions.defaults().withContextSize(ctx).withBatchSize(ctx))) {
            int[] tokens = model.tokenizer().encode(text, true, false);
            Perplexity.Result r = Perplexity.compute(session, tokens, ctx);
            System.out.printf("%s: PPL %.4f ± %.4f over %d chunks (llama.cpp %.4f)%n", modelFile, r.ppl(), r.stderr(), r.chunks(), expected);
            assertEquals(ref.get("chunks").asInt(), r.chunks());
            // llama.cpp quantizes activations; 0.5% of PPL is far inside its own spread between releases
            assertEquals(expected, r.ppl(), expected * 0.005);
        }
    }
}
