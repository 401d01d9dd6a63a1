package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vellama.runtime.InfillPrompt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** llama-server's {@code /infill} (code infill) on a model whose vocabulary has fill-in-the-middle tokens. */
class InfillRouteTest {
    private static ServerFixture fixture;
    private static Http http;

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture("tiny-qwen2-q4_0.gguf", 2, 1024, 8, null);
        http = new Http(fixture.baseUrl(), null);
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void infillGeneratesFromThePromptLaidOutAsLlamaServerLaysItOut() throws Exception {
        Http.Answer a = http.post("/infill", "{\"input_prefix\": \"def add(a, b):\\n    \", \"input_suffix\": \"\\n\\nprint(add(1, 2))\\n\", "
                + "\"input_extra\": [{\"filename\": \"util.py\", \"text\": \"X = 1\\n\"}], \"prompt\": \"return\", "
                + "\"n_predict\": 8, \"temperature\": 0}");
        assertEquals(200, a.status(), a.body());
        int[] ids = new InfillPrompt("def add(a, b):\n    ", "\n\nprint(add(1, 2))\n",
                List.of(new InfillPrompt.ExtraFile("util.py", "X = 1\n")), "return")
                .tokens(fixture.model.tokenizer(), InfillPrompt.Limits.of(fixture.engine.batchSize(), -1, fixture.engine.slotContext()));
        JsonNode o = a.json();
        assertEquals(ids.length, o.path("tokens_evaluated").asInt());
        assertEquals(fixture.alone(ids, 8), o.path("content").asText());
        assertTrue(o.path("prompt").asText().endsWith("print(add(1, 2))\n"), o.path("prompt").asText());
        assertTrue(o.path("stop").asBoolean());
    }

    @Test
    void suffixFirstPutsTheSuffixBeforeThePrefix() throws Exception {
        fixture.server.suffixFirstInfill(true);
        try {
            Http.Answer a = http.post("/infill", "{\"input_prefix\": \"PREFIX\", \"input_suffix\": \"SUFFIX\", \"n_predict\": 1}");
            assertEquals(200, a.status(), a.body());
            String prompt = a.json().path("prompt").asText(); // control tokens spell nothing
            assertTrue(prompt.indexOf("SUFFIX") < prompt.indexOf("PREFIX"), prompt);
        } finally {
            fixture.server.suffixFirstInfill(false);
        }
        String prompt = http.post("/infill", "{\"input_prefix\": \"PREFIX\", \"input_suffix\": \"SUFFIX\", \"n_predict\": 1}")
                .json().path("prompt").asText();
        assertTrue(prompt.indexOf("PREFIX") < prompt.indexOf("SUFFIX"), prompt);
    }

    @Test
    void streamedInfillEndsWithTheStopEvent() throws Exception {
        Http.Answer a = http.post("/infill", "{\"input_prefix\": \"x = \", \"input_suffix\": \"\", \"n_predict\": 4, "
                + "\"temperature\": 0, \"stream\": true}");
        assertEquals(200, a.status(), a.body());
        String[] events = a.body().split("\n\n");
        assertTrue(events[events.length - 1].contains("\"stop\":true"), a.body());
    }

    @Test
    void ollamasSuffixFillsInTheMiddleInItsTemplatesLayout() throws Exception {
        Http.Answer a = http.post("/api/generate", "{\"prompt\": \"def add(a, b):\\n    \", \"suffix\": \"\\nprint(add(1, 2))\\n\", "
                + "\"stream\": false, \"options\": {\"num_predict\": 6, \"temperature\": 0}}");
        assertEquals(200, a.status(), a.body());
        int[] ids = new InfillPrompt("def add(a, b):\n    ", "\nprint(add(1, 2))\n", List.of(), "")
                .tokens(fixture.model.tokenizer(), new InfillPrompt.Limits(fixture.engine.batchSize(), -1, fixture.engine.slotContext(), false, false));
        assertEquals("<|fim_prefix|>", fixture.model.tokenizer().tokenText(ids[0]), "no repository frame: ollama's layout");
        assertEquals(fixture.alone(ids, 6), a.json().path("response").asText());
        assertEquals(ids.length, a.json().path("prompt_eval_count").asInt());
        Http.Answer raw = http.post("/api/generate", "{\"prompt\": \"x\", \"suffix\": \"y\", \"raw\": true, \"stream\": false}");
        assertEquals(400, raw.status(), raw.body());
        // the OpenAI route's suffix, as ollama's OpenAI routes take it
        Http.Answer openai = http.post("/v1/completions", "{\"prompt\": \"def add(a, b):\\n    \", \"suffix\": "
                + "\"\\nprint(add(1, 2))\\n\", \"max_tokens\": 6, \"temperature\": 0}");
        assertEquals(200, openai.status(), openai.body());
        assertEquals(fixture.alone(ids, 6), openai.json().path("choices").get(0).path("text").asText());
        assertEquals(ids.length, openai.json().path("usage").path("prompt_tokens").asInt());
        assertEquals(400, http.post("/v1/completions", "{\"prompt\": [\"a\", \"b\"], \"suffix\": \"c\"}").status());
        assertEquals(400, http.post("/v1/completions", "{\"prompt\": \"a\", \"echo\": true}").status());
    }

    @Test
    void malformedFieldsAre400sNamingTheField() throws Exception {
        assertBad("{\"input_suffix\": \"\"}", "input_prefix");
        assertBad("{\"input_prefix\": \"\"}", "input_suffix");
        assertBad("{\"input_prefix\": 3, \"input_suffix\": \"\"}", "input_prefix");
        assertBad("{\"input_prefix\": \"\", \"input_suffix\": \"\", \"input_extra\": \"x\"}", "input_extra");
        assertBad("{\"input_prefix\": \"\", \"input_suffix\": \"\", \"input_extra\": [{\"filename\": \"a\"}]}", "input_extra[0].text");
        assertBad("{\"input_prefix\": \"\", \"input_suffix\": \"\", \"input_extra\": [{\"text\": \"a\", \"filename\": 1}]}",
                "input_extra[0].filename");
        assertBad("{\"input_prefix\": \"\", \"input_suffix\": \"\", \"prompt\": [1, 2]}", "prompt");
        assertBad("{\"input_prefix\": \"\", \"input_suffix\": \"\", \"n_indent\": -1}", "n_indent");
        assertBad("{\"input_prefix\": \"\", \"input_suffix\": \"\", \"t_max_predict_ms\": \"soon\"}", "t_max_predict_ms");
    }

    private static void assertBad(String body, String param) throws Exception {
        Http.Answer a = http.post("/infill", body);
        assertEquals(400, a.status(), body + " -> " + a.body());
        assertEquals(param, a.json().path("error").path("param").asText(), a.body());
    }
}
