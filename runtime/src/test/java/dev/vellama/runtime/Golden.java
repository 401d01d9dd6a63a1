package dev.vellama.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.vellama.testdata.TestData;

/** llama.cpp's results on a shared model ({@code golden/<model>.json}). */
public record Golden(String model, List<Case> cases) {

    /** One prompt: its tokens, the top logits at every position, the greedy continuation with margins. */
    public record Case(String prompt, int[] tokens, List<Position> positions, int[] greedy, float[] greedyMargins) {}

    /** {@code top} holds [id, logit] pairs, highest first. */
    public record Position(double logSumExp, int[] topIds, float[] topLogits) {}

    static Golden load(String modelFile) throws IOException {
        return load(TestData.resolve("golden/" + modelFile.replace(".gguf", ".json")));
    }

    /** Reads golden data in the shared format from {@code json}. */
    public static Golden load(Path json) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            List<Position> positions = new ArrayList<>();
            for (JsonNode p : c.get("positions")) {
                JsonNode top = p.get("top");
                int[] ids = new int[top.size()];
                float[] logits = new float[top.size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = top.get(i).get(0).asInt();
                    logits[i] = (float) top.get(i).get(1).asDouble();
                }
                positions.add(new Position(p.get("lse").asDouble(), ids, logits));
            }
            JsonNode g = c.get("greedy");
            int[] greedy = new int[g.size()];
            float[] margins = new float[g.size()];
            for (int i = 0; i < greedy.length; i++) {
                greedy[i] = g.get(i).get(0).asInt();
                margins[i] = (float) g.get(i).get(1).asDouble();
            }
            int[] tokens = new int[c.get("tokens").size()];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = c.get("tokens").get(i).asInt();
            }
            cases.add(new Case(c.get("prompt").asText(), tokens, positions, greedy, margins));
        }
        return new Golden(root.get("model").asText(), cases);
    }

    static Path modelPath(String modelFile) {
        return TestData.model(modelFile);
    }
}
