package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama-server's {@code GET /slots} and {@code POST /slots/{id}?action=save|restore|erase}, through plain HTTP as a
 * client of llama-server sends them: a saved slot restored into another slot answers the same request the same
 * way with one prompt token evaluated; bad ids, actions, names and files get their 4xx; the routes can be off.
 */
class SlotRoutesTest {
    private static final String PROMPT = "Once upon a time, there was a little girl named";
    private static ServerFixture fixture;
    private static Http http;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture(2, 1024, 8, ServerFixture.KEY);
        fixture.server.slotSavePath(dir);
        http = new Http(fixture.baseUrl(), ServerFixture.KEY);
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private static JsonNode complete(int tokens) throws Exception {
        Http.Answer a = http.post("/completion", "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": " + tokens
                + ", \"temperature\": 0, \"cache_prompt\": true}");
        assertEquals(200, a.status(), a.body());
        return a.json();
    }

    private static void eraseAll() throws Exception {
        for (int i = 0; i < 2; i++) {
            assertEquals(200, http.post("/slots/" + i + "?action=erase", "{}").status());
        }
    }

    /** The slot whose cache holds something (the other one is empty in these tests). */
    private static JsonNode holder() throws Exception {
        for (JsonNode s : http.get("/slots").json()) {
            if (s.path("n_cached").asInt() > 0) {
                return s;
            }
        }
        throw new AssertionError("no slot holds anything: " + http.get("/slots").body());
    }

    @Test
    void aSavedSlotRestoredIntoAnotherAnswersTheSameWithOnePromptTokenEvaluated() throws Exception {
        eraseAll();
        JsonNode first = complete(10);
        JsonNode held = holder();
        int slot = held.path("id").asInt();
        assertFalse(held.path("is_processing").asBoolean());
        assertEquals(fixture.engine.slotContext(), held.path("n_ctx").asInt());
        assertEquals(10, held.path("params").path("n_predict").asInt());
        assertEquals(10, held.path("next_token").path("n_decoded").asInt());

        Http.Answer saved = http.post("/slots/" + slot + "?action=save", "{\"filename\": \"story.bin\"}");
        assertEquals(200, saved.status(), saved.body());
        assertEquals(slot, saved.json().path("id_slot").asInt());
        assertEquals("story.bin", saved.json().path("filename").asText());
        int n = saved.json().path("n_saved").asInt();
        assertEquals(held.path("n_cached").asInt(), n);
        assertEquals(Files.size(dir.resolve("story.bin")), saved.json().path("n_written").asLong());
        assertTrue(saved.json().path("timings").path("save_ms").isNumber(), saved.body());

        Http.Answer erased = http.post("/slots/" + slot + "?action=erase", "");
        assertEquals(200, erased.status(), erased.body());
        assertEquals(n, erased.json().path("n_erased").asInt());
        int other = 1 - slot;
        Http.Answer restored = http.post("/slots/" + other + "?action=restore", "{\"filename\": \"story.bin\"}");
        assertEquals(200, restored.status(), restored.body());
        assertEquals(n, restored.json().path("n_restored").asInt());
        assertEquals(saved.json().path("n_written").asLong(), restored.json().path("n_read").asLong());

        JsonNode again = complete(10);
        assertEquals(first.path("content").asText(), again.path("content").asText());
        assertEquals(1, again.path("timings").path("prompt_n").asInt(), again.toString());
        assertEquals(other, again.path("id_slot").asInt());
        assertEquals(other, holder().path("id").asInt());

        // id_slot sends a request to a slot of the client's choosing: the empty one evaluates the whole prompt
        Http.Answer pinned = http.post("/completion", "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 10, "
                + "\"temperature\": 0, \"id_slot\": " + slot + "}");
        assertEquals(200, pinned.status(), pinned.body());
        assertEquals(slot, pinned.json().path("id_slot").asInt());
        assertEquals(first.path("timings").path("prompt_n").asInt(), pinned.json().path("timings").path("prompt_n").asInt());
        assertEquals(first.path("content").asText(), pinned.json().path("content").asText());
    }

    @Test
    void aRunningRequestShowsInItsSlotAndFailOnNoSlotAnswers503WhenAllAreBusy() throws Exception {
        eraseAll();
        String body = "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 400, \"ignore_eos\": true, \"stream\": true}";
        HttpResponse<java.io.InputStream> a = http.open("/completion", body);
        HttpResponse<java.io.InputStream> b = http.open("/completion", body);
        try (BufferedReader ra = new BufferedReader(new InputStreamReader(a.body(), StandardCharsets.UTF_8));
             BufferedReader rb = new BufferedReader(new InputStreamReader(b.body(), StandardCharsets.UTF_8))) {
            assertTrue(ra.readLine().startsWith("data:"));
            assertTrue(rb.readLine().startsWith("data:"));
            JsonNode slots = http.get("/slots").json();
            assertEquals(2, slots.size());
            for (JsonNode s : slots) {
                assertTrue(s.path("is_processing").asBoolean(), slots.toString());
                assertTrue(s.path("next_token").path("has_next_token").asBoolean());
                assertEquals(400 - s.path("next_token").path("n_decoded").asInt(), s.path("next_token").path("n_remain").asInt());
            }
            assertFalse(slots.get(0).path("id_task").asLong() == slots.get(1).path("id_task").asLong());
            Http.Answer busy = http.get("/slots?fail_on_no_slot=1");
            assertEquals(503, busy.status(), busy.body());
            assertEquals("unavailable_error", busy.error("type"));
        } // both clients leave: their generations are cancelled
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (http.get("/slots?fail_on_no_slot=1").status() != 200) {
            assertTrue(System.nanoTime() < deadline, "the slots stayed busy after their clients left");
            Thread.sleep(50);
        }
    }

    @Test
    void badIdsActionsNamesAndFilesGetTheir4xx() throws Exception {
        eraseAll();
        Http.Answer empty = http.post("/slots/0?action=save", "{\"filename\": \"empty.bin\"}");
        assertEquals(400, empty.status(), empty.body());
        assertTrue(empty.error("message").contains("holds no tokens"), empty.body());
        assertEquals(400, http.post("/slots/2?action=erase", "{}").status());
        assertEquals(400, http.post("/slots/x?action=erase", "{}").status());
        assertEquals(400, http.post("/slots/-1?action=erase", "{}").status());
        Http.Answer action = http.post("/slots/0?action=frobnicate", "{}");
        assertEquals(400, action.status());
        assertEquals("action", action.error("param"));
        assertEquals(400, http.post("/slots/0", "{}").status());
        for (String id : new String[] {"2", "-2", "\"0\"", "0.5"}) {
            Http.Answer a = http.post("/completion", "{\"prompt\": \"x\", \"n_predict\": 1, \"id_slot\": " + id + "}");
            assertEquals(400, a.status(), id + ": " + a.body());
            assertEquals("id_slot", a.error("param"), a.body());
        }
        for (String name : new String[] {"../escape.bin", "/etc/passwd", "a/b", "..", "", "a\\u0001b"}) {
            Http.Answer a = http.post("/slots/0?action=save", "{\"filename\": \"" + name + "\"}");
            assertEquals(400, a.status(), name + ": " + a.body());
            assertEquals("filename", a.error("param"), a.body());
        }
        assertEquals(400, http.post("/slots/0?action=restore", "{}").status());
        assertEquals(400, http.post("/slots/0?action=restore", "{\"filename\": 7}").status());
        assertEquals(400, http.post("/slots/0?action=restore", "{bad").status());
        Http.Answer missing = http.post("/slots/0?action=restore", "{\"filename\": \"none.bin\"}");
        assertEquals(404, missing.status(), missing.body());
        assertFalse(missing.error("message").contains(dir.toString()), "the server's directory stays private: " + missing.body());

        complete(4);
        int slot = holder().path("id").asInt();
        assertEquals(200, http.post("/slots/" + slot + "?action=save", "{\"filename\": \"good.bin\"}").status());
        byte[] bytes = Files.readAllBytes(dir.resolve("good.bin"));
        Files.write(dir.resolve("cut.bin"), java.util.Arrays.copyOf(bytes, bytes.length - 9));
        Files.writeString(dir.resolve("text.bin"), "not a session");
        for (String name : new String[] {"cut.bin", "text.bin"}) {
            Http.Answer a = http.post("/slots/" + slot + "?action=restore", "{\"filename\": \"" + name + "\"}");
            assertEquals(400, a.status(), a.body());
            assertTrue(a.error("message").startsWith(name), a.body());
        }
        assertEquals(0, http.get("/slots").json().get(slot).path("n_cached").asInt());
        assertEquals(401, new Http(fixture.baseUrl(), null).get("/slots").status());
        // the server still serves
        assertEquals(4, complete(4).path("tokens_predicted").asInt());
    }

    @Test
    void withoutASavePathOrWithSlotsOffTheRoutesAnswer501() throws Exception {
        fixture.server.slotSavePath(null);
        fixture.server.slotsEndpoint(false);
        try {
            Http.Answer save = http.post("/slots/0?action=save", "{\"filename\": \"x.bin\"}");
            assertEquals(501, save.status(), save.body());
            assertTrue(save.error("message").contains("--slot-save-path"), save.body());
            Http.Answer list = http.get("/slots");
            assertEquals(501, list.status(), list.body());
            assertEquals("not_supported_error", list.error("type"));
            assertEquals(200, http.post("/slots/0?action=erase", "{}").status());
        } finally {
            fixture.server.slotSavePath(dir);
            fixture.server.slotsEndpoint(true);
        }
    }
}
