package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;

class RunAndChatCommandTest {
    private static String model(String name) {
        return TestData.model(name).toString();
    }

    @Test
    void runStreamsTextAndReportsSpeed() {
        CliRunner r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "Once upon a time", "-n", "12", "--temp", "0", "-t", "2");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().strip().length() > 5, r.out());
        assertTrue(r.err().contains("prompt: 5 tokens"), r.err());
        assertTrue(r.err().contains("generation: 12 tokens"), r.err());
    }

    @Test
    void jsonHasTheDocumentedShape() throws IOException {
        CliRunner r = CliRunner.run("run", "-m", model("stories-llama2-q4_0.gguf"), "-p", "The PostgreSQL server", "-n", "6",
                "--seed", "5", "--json", "--top-logprobs", "3");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals(1, doc.get("prompt_tokens").get(0).asInt(), "BOS first");
        assertEquals(6, doc.get("tokens").size());
        assertEquals(6, doc.get("logprobs").size());
        assertEquals("length", doc.get("stop_reason").asText());
        JsonNode first = doc.get("logprobs").get(0);
        assertEquals(doc.get("tokens").get(0).asInt(), first.get("id").asInt());
        assertTrue(first.get("logprob").asDouble() <= 0);
        assertEquals(3, first.get("top_logprobs").size());
        assertTrue(doc.get("timings").get("prompt_tokens_per_second").asDouble() > 0);
        assertTrue(doc.get("timings").get("generation_tokens_per_second").asDouble() > 0);
        assertTrue(doc.get("text").isTextual());
        // the same seed gives the same tokens
        CliRunner again = CliRunner.run("run", "-m", model("stories-llama2-q4_0.gguf"), "-p", "The PostgreSQL server", "-n", "6",
                "--seed", "5", "--json");
        assertEquals(doc.get("tokens"), new ObjectMapper().readTree(again.out()).get("tokens"));
    }

    /**
     * A control vector steers greedy text exactly as llama.cpp's: {@code llama-cli -m stories-llama2-q8_0.gguf -p
     * "Once upon a time" -n 30 --temp 0 --control-vector-scaled stories-mean.gguf 2 -no-cnv} (c392e5094) printed this
     * continuation; a clamp or a layer range changes the text, and bad values get one line and exit code 1.
     */
    @Test
    void controlVectorsAndClampsSteerTheRun() throws IOException {
        String cv = "../runtime/src/test/resources/controlvector/stories-mean.gguf";
        String[] base = {"run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "Once upon a time", "-n", "30", "--temp", "0", "--json", "-t", "2"};
        CliRunner plain = CliRunner.run(base);
        CliRunner steered = CliRunner.runWith(base, "--control-vector-scaled", cv + ":2");
        assertEquals(0, steered.exitCode(), steered.err());
        assertEquals(" not have been used to be used to be\n   used to be used to be used to be used to be used to be\n   used to",
                new ObjectMapper().readTree(steered.out()).get("text").asText());
        CliRunner twice = CliRunner.runWith(base, "--control-vector", cv, "--control-vector", cv);
        assertEquals(new ObjectMapper().readTree(steered.out()).get("text"), new ObjectMapper().readTree(twice.out()).get("text"),
                "two files add up to the vector at scale 2");
        CliRunner ranged = CliRunner.runWith(base, "--control-vector-scaled", cv + ":2", "--control-vector-layer-range", "5", "5");
        assertTrue(!new ObjectMapper().readTree(ranged.out()).get("text").equals(new ObjectMapper().readTree(steered.out()).get("text")));
        CliRunner clamped = CliRunner.runWith(base, "--clamp", "2:100=8", "--clamp", "3:7=-6");
        assertEquals(0, clamped.exitCode(), clamped.err());
        assertTrue(!new ObjectMapper().readTree(clamped.out()).get("text").equals(new ObjectMapper().readTree(plain.out()).get("text")));
        for (String[] bad : new String[][] {{"--clamp", "2:100"}, {"--clamp", "9:1=1"}, {"--control-vector-scaled", cv},
                {"--control-vector", "pom.xml"}, {"--control-vector-layer-range", "1", "3"}}) {
            CliRunner r = CliRunner.runWith(base, bad);
            assertEquals(1, r.exitCode(), String.join(" ", bad));
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }

    @Test
    void stopStringEndsTheRun() throws IOException {
        CliRunner free = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "Once upon a time", "-n", "30", "--temp", "0", "--json");
        String text = new ObjectMapper().readTree(free.out()).get("text").asText();
        String stop = text.substring(10, 13);
        CliRunner r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "Once upon a time", "-n", "30", "--temp", "0", "--json", "--stop", stop);
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals("stop", doc.get("stop_reason").asText());
        assertEquals(text.substring(0, text.indexOf(stop)), doc.get("text").asText());
    }

    @Test
    void chatReadsPipedInputAndUsesTheTemplate() {
        CliRunner r = CliRunner.runWithInput("Hello\n/stats\n/reset\nAnd again\n/exit\nnot read\n",
                "chat", "-m", model("tiny-qwen2-q4_0.gguf"), "-n", "4", "--seed", "1", "--ctx", "256");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("context: "), r.err());
        assertTrue(r.err().contains("(conversation cleared)"), r.err());
        assertTrue(r.err().contains("last reply: prompt"), "stats after the first reply: " + r.err());
    }

    /** Qwen 3's template writes {@code <think>}: the reasoning shows as ollama shows it, apart from the answer. */
    @Test
    void chatShowsReasoningApartFromTheAnswer() {
        CliRunner r = CliRunner.runWithInput("Think first.\n/exit\n", "chat", "-m", model("tiny-qwen3-q8_0.gguf"), "-n", "40",
                "--temp", "0", "--ctx", "512", "--grammar", "root ::= \"<think>\\nplan it\\n</think>\\n\\nthe answer\"");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("Thinking...\n\nplan it\n\n...done thinking.\n\nthe answer"), r.out());
    }

    /** llama.cpp's --chat-template-kwargs: Qwen 3 without thinking gets a closed, empty reasoning in its prompt. */
    @Test
    void chatTemplateKwargsReachTheTemplate() {
        CliRunner plain = CliRunner.runWithInput("Hi\n/stats\n/exit\n", "chat", "-m", model("tiny-qwen3-q8_0.gguf"), "-n", "1",
                "--temp", "0", "--ctx", "256");
        CliRunner closed = CliRunner.runWithInput("Hi\n/stats\n/exit\n", "chat", "-m", model("tiny-qwen3-q8_0.gguf"), "-n", "1",
                "--temp", "0", "--ctx", "256", "--chat-template-kwargs", "{\"enable_thinking\": false}");
        assertEquals(0, closed.exitCode(), closed.err());
        java.util.function.ToIntFunction<String> promptTokens = err -> Integer.parseInt(
                err.lines().filter(l -> l.startsWith("last reply: prompt ")).findFirst().orElseThrow().split(" ")[3]);
        assertTrue(promptTokens.applyAsInt(closed.err()) > promptTokens.applyAsInt(plain.err()), plain.err() + closed.err());
        CliRunner bad = CliRunner.run("chat", "-m", model("tiny-qwen3-q8_0.gguf"), "--chat-template-kwargs", "enable_thinking");
        assertEquals(1, bad.exitCode());
        assertEquals("vellama: --chat-template-kwargs takes a JSON object, such as '{\"enable_thinking\": false}'", bad.err().strip());
    }

    @Test
    void badInputIsOneLine() {
        CliRunner r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "word ".repeat(100), "--ctx", "32");
        assertEquals(1, r.exitCode());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("the context holds 32"), r.err());

        r = CliRunner.run("run", "-m", TestData.followLink(TestData.resolve("tokenizer-tests/ggml-vocab-bert-bge.gguf")).toString(), "-p", "hi");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("vellama: architecture 'bert' is not supported"), r.err());

        r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "hi", "--top-p", "0");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--top-p"), r.err());
    }

    @Test
    void deviceOptionsAreCheckedAndAMissingDriverIsOneLine() {
        CliRunner r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "hi", "-n", "2", "--device", "tpu");
        assertEquals(1, r.exitCode());
        assertEquals("vellama: --device must be cpu or cuda, not 'tpu'", r.err().strip());
        r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "hi", "-n", "2", "-ngl", "-3");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--gpu-layers"), r.err());
        boolean driver = java.nio.file.Files.exists(java.nio.file.Path.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
        org.junit.jupiter.api.Assumptions.assumeFalse(driver, "an NVIDIA driver is installed: the CUDA tests cover this machine");
        r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "hi", "-n", "2", "--device", "cuda");
        assertEquals(1, r.exitCode());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("vellama: --device cuda: "), r.err());
    }

    /**
     * llama.cpp's cache types: iq4_nl keys with q8_0 values run; an unknown type is one line naming the types; a type
     * the GPU does not keep is refused in one line naming those it does, before any device is looked for.
     */
    @Test
    void cacheTypesAreLlamaCppsAndTheGpuSaysWhichItKeeps() {
        CliRunner r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "Once upon a time", "-n", "6",
                "--temp", "0", "-t", "2", "-ctk", "iq4_nl", "-ctv", "q8_0");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().startsWith("Once upon a time") && r.out().length() > "Once upon a time".length(), r.out());
        r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "hi", "-n", "2", "-ctk", "q9_0");
        assertEquals(1, r.exitCode());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("q5_1, iq4_nl"), r.err());
        r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "hi", "-n", "2", "--device", "cuda",
                "-ctk", "q5_1");
        assertEquals(1, r.exitCode());
        assertEquals("vellama: --device cuda keeps the KV cache in f16, q8_0 or q4_0; q5_1 is for CPU sessions",
                r.err().strip());
    }

    /** llama.cpp's --prompt-cache: the second run with the same prompt reads only its last token, and says the same. */
    @Test
    void aPromptCacheSkipsTheReadPromptOnTheNextRun(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws IOException {
        String cache = tmp.resolve("prompt.session").toString();
        String[] args = {"run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "Once upon a time there was a big red ball",
                "-n", "8", "--temp", "0", "-t", "2", "--json", "--prompt-cache", cache};
        CliRunner first = CliRunner.run(args);
        assertEquals(0, first.exitCode(), first.err());
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(first.out());
        assertTrue(a.get("timings").get("prompt_tokens").asInt() > 5);
        assertTrue(java.nio.file.Files.size(java.nio.file.Path.of(cache)) > 1000);
        CliRunner second = CliRunner.run(args);
        assertEquals(0, second.exitCode(), second.err());
        JsonNode b = json.readTree(second.out());
        assertEquals(1, b.get("timings").get("prompt_tokens").asInt(), "only the last prompt token is evaluated again");
        assertEquals(a.get("tokens"), b.get("tokens"));
        assertTrue(second.err().contains("prompt cache: "), second.err());
        // a cache from another model is one line and exit 1, not a stack trace
        CliRunner other = CliRunner.run("run", "-m", model("stories-llama2-q4_0.gguf"), "-p", "Once", "-n", "2",
                "--prompt-cache", cache);
        assertEquals(1, other.exitCode());
        assertTrue(other.err().contains("was saved with the model") && !other.err().contains("\tat "), other.err());
        assertEquals(1, CliRunner.run("run", "-m", model("stories-llama2-q4_0.gguf"), "-p", "Once", "--prompt-cache-ro").exitCode());
    }

    /** llama.cpp's --grammar and --grammar-file: the output follows the grammar; a bad one is one line, exit 1. */
    @Test
    void runFollowsAGrammar(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws IOException {
        CliRunner r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "The answer is", "-n", "20", "-s", "4",
                "--no-display-prompt", "--grammar", "root ::= (\"yes\" | \"no\") \".\"");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().strip().matches("(yes|no)\\."), r.out());
        assertTrue(r.err().contains("stop: eos"), r.err());
        java.nio.file.Path file = tmp.resolve("digits.gbnf");
        java.nio.file.Files.writeString(file, "# three digits\nroot ::= [0-9]{3}\n");
        CliRunner f = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "Numbers:", "-n", "20",
                "--no-display-prompt", "--grammar-file", file.toString());
        assertTrue(f.out().strip().matches("[0-9]{3}"), f.out());
        CliRunner bad = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "x", "--grammar", "root ::= [a-");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("grammar line 1") && !bad.err().contains("\tat "), bad.err());
    }

    @Test
    void runFollowsAJsonSchema(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws IOException {
        String schema = "{\"type\": \"object\", \"properties\": {\"answer\": {\"enum\": [\"yes\", \"no\"]},"
                + " \"n\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 9}}, \"required\": [\"answer\", \"n\"]}";
        CliRunner r = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "JSON:", "-n", "200", "-s", "2",
                "--no-display-prompt", "-j", schema);
        assertEquals(0, r.exitCode(), r.err());
        var doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertTrue(doc.get("answer").asText().matches("yes|no") && doc.get("n").asInt() >= 1 && doc.get("n").asInt() <= 9, r.out());
        java.nio.file.Path file = tmp.resolve("schema.json");
        java.nio.file.Files.writeString(file, "{}");
        CliRunner any = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "JSON:", "-n", "200", "-s", "3",
                "--no-display-prompt", "-jf", file.toString());
        assertEquals(0, any.exitCode(), any.err());
        assertTrue(any.out().strip().startsWith("{"), any.out());
        CliRunner bad = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "x", "-j",
                "{\"type\": \"string\", \"format\": \"email\"}");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("format 'email'") && !bad.err().contains("\tat "), bad.err());
        CliRunner both = CliRunner.run("run", "-m", model("stories-llama2-q8_0.gguf"), "-p", "x", "-j", "{}", "--grammar", "root ::= \"a\"");
        assertEquals(1, both.exitCode());
        assertTrue(both.err().contains("give one of"), both.err());
    }
}
