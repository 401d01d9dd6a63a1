package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.vellama.testdata.LoraFiles;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Perplexity with LoRA adapters next to llama-perplexity's with the same adapter files (numbers and command in
 * lora-perplexity.json): every projection kind a Llama layer has, and the output, each alone at scales 1 and 0.5,
 * and three together. Compared as mean log-likelihoods (ln PPL): the base model alone lands within 0.0003 of
 * llama.cpp's here; adapters that move the perplexity from 348 to thousands (or, on the output, to 10^6..10^15)
 * within 0.005 (seen: 0.0001–0.0036, the most on the output, whose logits they make huge); leaving out alpha/r
 * (a factor 2 here) moves the three-weight case by 1.1.
 */
class LoraPerplexityTest {
    @TempDir
    Path dir;

    @Test
    void adaptedPerplexityMatchesLlamaPerplexity() throws IOException {
        JsonNode ref;
        try (InputStream in = LoraPerplexityTest.class.getResourceAsStream("/lora-perplexity.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        int ctx = ref.get("n_ctx").asInt();
        Path file = TestData.model("stories-llama2-q8_0.gguf");
        String text = Files.readString(TestData.resolve("golden/perplexity.txt"));
        StringBuilder report = new StringBuilder();
        try (Model model = Model.load(file);
                Session session = model.newSession(SessionOptions.defaults().withContextSize(ctx).withBatchSize(ctx).withThreads(2))) {
            int[] tokens = model.tokenizer().encode(text, true, false);
            int n = 0;
            for (JsonNode c : ref.get("cases")) {
                List<String> weights = new ArrayList<>();
                c.get("weights").forEach(w -> weights.add(w.asText()));
                Path adapter = LoraFiles.random(file, dir.resolve("adapter" + n++ + ".gguf"), weights, 8, 16, 0.3f, 11);
                float scale = (float) c.get("scale").asDouble();
                session.useAdapters(List.of(new LoraAdapter.Applied(LoraAdapter.load(model, adapter), scale)));
                double ppl = Perplexity.compute(session, tokens, ctx, c.get("chunks").asInt(), null, null).ppl();
                double expected = c.get("ppl").asDouble();
                report.append(String.format("%s x %.1f: %.4f (llama.cpp %.4f)%n", weights, scale, ppl, expected));
                assertEquals(Math.log(expected), Math.log(ppl), 0.005, report.toString());
            }
        }
        System.out.print(report);
    }
}
