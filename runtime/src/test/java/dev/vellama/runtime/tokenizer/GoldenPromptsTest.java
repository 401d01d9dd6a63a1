package dev.vellama.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.vellama.testdata.TestData;

/**
 * The shared models tokenize the golden prompts as llama.cpp did when it produced the golden logits (specials
 * added and parsed, as llama-cli does).
 */
class GoldenPromptsTest {
    private static final Pattern TOKENS = Pattern.compile("\"tokens\":\\[([0-9, ]*)\\]");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tiny-llama3-q8_0", "tiny-qwen2-q4_0", "tiny-qwen3-q8_0", "stories-llama2-q8_0",
            "stories-llama2-q4_0", "stories-llama2-q4_k_m"})
    void promptsTokenizeAsLlamaCppDid(String model) throws IOException {
        Tokenizer tokenizer = VocabFiles.model(model + ".gguf");
        List<String> prompts = prompts();
        List<int[]> expected = goldenTokens(model);
        assertEquals(prompts.size(), expected.size(), "prompts.txt and " + model + ".json disagree on the count");
        for (int i = 0; i < prompts.size(); i++) {
            String prompt = prompts.get(i);
            int[] got = tokenizer.encode(prompt, true, true);
            assertArrayEquals(expected.get(i), got, () -> "prompt " + LlamaCppVectorsTest.quote(prompt));
        }
    }

    /** One prompt per line, with only {@code \n} escaped. */
    static List<String> prompts() throws IOException {
        List<String> prompts = new ArrayList<>();
        for (String line : Files.readAllLines(TestData.resolve("golden/prompts.txt"))) {
            if (!line.isEmpty()) {
                prompts.add(line.replace("\\n", "\n"));
            }
        }
        return prompts;
    }

    private static List<int[]> goldenTokens(String model) throws IOException {
        String json = Files.readString(TestData.resolve("golden/" + model + ".json"));
        List<int[]> all = new ArrayList<>();
        Matcher m = TOKENS.matcher(json);
        while (m.find()) {
            all.add(Arrays.stream(m.group(1).split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray());
        }
        return all;
    }
}
