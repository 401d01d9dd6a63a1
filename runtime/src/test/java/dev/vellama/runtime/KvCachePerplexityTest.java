package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

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
 * block layout or rounding would be off by far more. IQ4_NL's number comes from a later llama.cpp build (the file
 * says which); that build's f16 and q8_0 numbers lie within 0.015% of the first's.
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
            for (CacheType type : CacheType.values()) {
                if (type == CacheType.F32) {
                    continue; // llama.cpp's own reference for it is the F16 golden run
                }
                JsonNode expected = ref.get("results").get(modelFile).get(type.llamaName());
                assertNotNull(expected, "no llama.cpp number for " + type.llamaName());
                try (Session session = model.newSession(SessionOptions.defaults().withContextSize(ctx).withBatchSize(ctx)
                        .withThreads(2).withKvCache(type))) {
                    double ppl = Perplexity.compute(session, tokens, ctx).ppl();
                    report.append(String.format("%s %s: %.4f (llama.cpp %.4f)%n", modelFile, type.llamaName(), ppl, expected.asDouble()));
                    assertEquals(expected.asDouble(), ppl, expected.asDouble() * 0.003, report.toString());
                }
            }
            System.out.print(report);
        }
    }
}
