package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.LoraAdapter;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.testdata.LoraFiles;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama-server's {@code /lora-adapters} over a server started with a LoRA adapter: its list and scale, greedy
 * text equal to a lone session's with the same adapter, the adapter turned off and on again by scale.
 */
class AdapterRoutesTest {
    private static final String PROMPT = "Once upon a time, there was a little girl named";
    @TempDir
    static Path dir;
    private static ServerFixture fixture;
    private static Http http;
    private static LoraAdapter adapter;

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture(2, 512, 8, null);
        Path file = LoraFiles.random(TestData.model(ServerFixture.MODEL_FILE), dir.resolve("adapter.gguf"),
                List.of("blk.0.attn_q.weight", "blk.2.ffn_down.weight", "blk.3.attn_output.weight"), 8, 16, 0.3f, 11);
        adapter = LoraAdapter.load(fixture.model, file);
        fixture.engine.useAdapters(List.of(new LoraAdapter.Applied(adapter, 1f)));
        http = new Http(fixture.baseUrl(), null);
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private static String complete() throws Exception {
        Http.Answer a = http.post("/completion", "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 16, \"temperature\": 0}");
        assertEquals(200, a.status(), a.body());
        return a.json().path("content").asText();
    }

    private static String alone(float scale) {
        try (Session s = fixture.model.newSession(SessionOptions.defaults().withContextSize(256).withThreads(2))) {
            s.useAdapters(List.of(new LoraAdapter.Applied(adapter, scale)));
            return s.generate(fixture.model.tokenizer().encode(PROMPT, true, true), GenerationParams.greedy().withMaxTokens(16), null).text();
        }
    }

    @Test
    void theAdapterIsListedAppliedAndScaledAsLlamaServerDoes() throws Exception {
        JsonNode list = http.get("/lora-adapters").json();
        assertEquals(1, list.size(), list.toString());
        assertEquals(0, list.get(0).path("id").asInt());
        assertTrue(list.get(0).path("path").asText().endsWith("adapter.gguf"), list.toString());
        assertEquals(1.0, list.get(0).path("scale").asDouble());
        String with = alone(1f);
        String without = alone(0f);
        assertNotEquals(with, without, "the adapter changes the greedy text");
        assertEquals(with, complete());

        Http.Answer off = http.post("/lora-adapters", "[{\"id\": 0, \"scale\": 0}]");
        assertEquals(200, off.status(), off.body());
        assertTrue(off.json().path("success").asBoolean());
        assertEquals(0.0, http.get("/lora-adapters").json().get(0).path("scale").asDouble());
        assertEquals(without, complete());
        assertEquals(200, http.post("/lora-adapters", "[]").status()); // left out: scale 0
        assertEquals(without, complete());

        assertEquals(200, http.post("/lora-adapters", "[{\"id\": 0, \"scale\": 0.5}]").status());
        assertEquals(alone(0.5f), complete());
        assertEquals(200, http.post("/lora-adapters", "[{\"id\": 0, \"scale\": 1.0}]").status());
        assertEquals(with, complete());
    }

    @Test
    void aRequestsOwnLoraScalesApplyToItAlone() throws Exception {
        String with = alone(1f);
        String without = alone(0f);
        String body = "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 16, \"temperature\": 0, \"lora\": ";
        assertEquals(without, http.post("/completion", body + "[{\"id\": 0, \"scale\": 0}]}").json().path("content").asText());
        assertEquals(without, http.post("/completion", body + "[]}").json().path("content").asText()); // left out: 0
        Http.Answer half = http.post("/completion", body + "[{\"id\": 0, \"scale\": 0.5}]}");
        assertEquals(alone(0.5f), half.json().path("content").asText());
        JsonNode slot = http.get("/slots").json().get(half.json().path("id_slot").asInt());
        assertEquals(0.5, slot.path("params").path("lora").get(0).path("scale").asDouble(), slot.toString());
        assertEquals(with, complete()); // the server's scale again
        Http.Answer text = http.post("/v1/completions", "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 16, \"temperature\": 0, "
                + "\"lora\": [{\"id\": 0, \"scale\": 0}]}");
        assertEquals(200, text.status(), text.body());
        assertEquals(without, text.json().path("choices").get(0).path("text").asText());
        for (String lora : new String[] {"[{\"id\": 1, \"scale\": 1}]", "{\"id\": 0}", "[{\"id\": 0, \"scale\": null}]", "7"}) {
            Http.Answer a = http.post("/completion", body + lora + "}");
            assertEquals(400, a.status(), lora + ": " + a.body());
            assertTrue(a.error("param").startsWith("lora"), a.body());
            Http.Answer chat = http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
                    + "\"max_tokens\": 2, \"lora\": " + lora + "}");
            assertEquals(400, chat.status(), lora + ": " + chat.body());
        }
    }

    @Test
    void badListsGet400AndChangeNothing() throws Exception {
        for (String body : new String[] {"{\"id\": 0, \"scale\": 1}", "[{\"id\": 1, \"scale\": 1}]", "[{\"id\": -1, \"scale\": 1}]",
                "[{\"scale\": 1}]", "[{\"id\": 0}]", "[{\"id\": 0, \"scale\": \"x\"}]", "[{\"id\": 0, \"scale\": 1e300}]",
                "[{\"id\": 0.5, \"scale\": 1}]", "[1]", "[", ""}) {
            Http.Answer a = http.post("/lora-adapters", body);
            assertEquals(400, a.status(), body + ": " + a.body());
            assertEquals("invalid_request_error", a.error("type"), a.body());
        }
        assertEquals(1.0, http.get("/lora-adapters").json().get(0).path("scale").asDouble());
    }
}
