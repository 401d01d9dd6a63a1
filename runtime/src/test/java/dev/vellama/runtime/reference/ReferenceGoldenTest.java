package dev.vellama.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Validates the reference itself against llama.cpp, without the engine in between: on the shared llama (with
 * Llama 3 rope_freqs), qwen2 and qwen3 models, the reference's logits of every golden prompt must give llama.cpp's
 * top-1 token wherever llama.cpp's margin is clear and its top-5 logits within the tolerance of the weight type
 * (llama.cpp quantizes activations for quantized weights; the reference does not).
 */
class ReferenceGoldenTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            // model file, top-1 margin threshold, top-5 logit tolerance
            "tiny-llama3-q8_0.gguf, 0.1, 0.1",
            "tiny-qwen2-q4_0.gguf, 0.25, 0.2",
            "tiny-qwen3-q8_0.gguf, 0.1, 0.1",
    })
    void referenceMatchesLlamaCpp(String modelFile, double marginThreshold, double logitTolerance) throws IOException {
        JsonNode golden = new ObjectMapper().readTree(
                TestData.resolve("golden/" + modelFile.replace(".gguf", ".json")).toFile());
        ReferenceTransformer reference = new ReferenceTransformer(TestData.model(modelFile), 256);
        double worst = 0;
        for (JsonNode c : golden.get("cases")) {
            int[] tokens = new int[c.get("tokens").size()];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = c.get("tokens").get(i).asInt();
            }
            double[][] logits = reference.logits(tokens);
            String prompt = c.get("prompt").asText();
            for (int p = 0; p < tokens.length; p++) {
                JsonNode top = c.get("positions").get(p).get("top");
                double margin = top.get(0).get(1).asDouble() - top.get(1).get(1).asDouble();
                if (margin > marginThreshold) {
                    assertEquals(top.get(0).get(0).asInt(), argmax(logits[p]), "top-1 at position " + p + " of \"" + prompt + "\"");
                }
                for (int i = 0; i < 5; i++) {
                    int id = top.get(i).get(0).asInt();
                    double diff = Math.abs(logits[p][id] - top.get(i).get(1).asDouble());
                    worst = Math.max(worst, diff);
                    assertTrue(diff <= logitTolerance, modelFile + ": logit of token " + id + " at position " + p
                            + " of \"" + prompt + "\" differs from llama.cpp's by " + diff);
                }
            }
        }
        System.out.printf("%s: reference's worst top-5 logit difference from llama.cpp %.4f%n", modelFile, worst);
    }

    private static int argmax(double[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[best]) {
                best = i;
            }
        }
        return best;
    }
}
