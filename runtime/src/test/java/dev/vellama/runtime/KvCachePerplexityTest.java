package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.vellama.testdata.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Perplexity with each KV cache type next to llama-perplexity's for the same type ({@code -ctk T -ctv T}; numbers in
 * kv-cache-perplexity.json with the command that made them). llama.cpp's flash-attention path, the only one that
 * takes a quantized V cache, also rounds the query to the key type's 8-bit dot type and sums values in F16, where
 * Vellama keeps both in F32; so a type lands within 0.3% of llama.cpp's number (seen: 0.01–0.26%), while a wrong
 * block layout or rounding would be off by far more. IQ4_NL has no llama.cpp number in the file yet (no llama.cpp
 * build was at hand when it was added): it is held to within 1% of Vellama's own F16 perplexity, as the other 4-bit
 * types are (0.1–0.3%).
 */
class KvCachePerplexityTest {
    @ParameterizedTest
    @ValueSource(strings = {"stories-llama2-q8_0.gguf", "stories-llama2-q4_0.gguf"})
    void eachCacheTypeMatchesLlamaPerplexity(String modelFile) throws IOException {
        JsonNode ref;
        try (InputStream in = KvCachePerplexityTest.class.getResourceAsStream("/kv-cache-perplexity.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        int ctx = ref.get("n_ctx").asInt();
        String text = Files.readString(TestData.resolve("golden/perplexity.txt"));
        try (Model model = Model.load(TestData.model(modelFile))) {
            int[] tokens = model.tokenizer().encode(text, true, false);
            StringBuilder report = new StringBuilder();
            double f16 = Double.NaN;
            for (CacheType type : CacheType.values()) {
                JsonNode expected = ref.get("results").get(modelFile).get(type.llamaName());
                if (expected == null && type != CacheType.IQ4_NL) {
                    continue; // f32: llama.cpp's own reference is the F16 golden run
                }
                try (Session session = model.newSession(SessionOptions.defaults().withContextSize(ctx).withBatchSize(ctx)
                        .withThreads(2).withKvCache(type))) {
                    double ppl = Perplexity.compute(session, tokens, ctx).ppl();
                    if (type == CacheType.F16) {
                        f16 = ppl;
                    }
                    if (expected == null) {
                        report.append(String.format("%s %s: %.4f (Vellama's f16 %.4f)%n", modelFile, type.llamaName(), ppl, f16));
                        assertEquals(f16, ppl, f16 * 0.01, report.toString());
                        continue;
                    }
                    report.append(String.format("%s %s: %.4f (llama.cpp %.4f)%n", modelFile, type.llamaName(), ppl, expected.asDouble()));
                    assertEquals(expected.asDouble(), ppl, expected.asDouble() * 0.003, report.toString());
                }
            }
            System.out.print(report);
        }
    }
}
