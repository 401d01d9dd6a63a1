package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.chat.ChatMessage;
import org.junit.jupiter.api.Test;

/**
 * A bounded loopback load: 16 clients at once over 4 slots, half of them streaming, a quarter each through OpenAI's
 * chat completions, ollama's chat (newline-delimited streams), Anthropic's Messages and OpenAI's Responses, with
 * malformed and oversize requests, clients that leave mid-stream (through each API), and slots looked at, saved and
 * restored into other slots ({@code /slots}) mixed in. Every good request completes with exactly the text it gives
 * alone (no tokens mixed between slots), every bad one gets its 4xx, and the leavers' slots come free. It stops by
 * itself: fixed request counts, and every wait has a deadline.
 */
class ServerLoadTest {
    private static final int CLIENTS = 16;
    private static final int MAX_TOKENS = 24;
    private static final String[] TOPICS = {"tables", "indexes", "the little dog", "a red ball", "the sea", "Python lists",
            "a quiet town", "the moon", "cats", "a long road", "trees", "the server", "rain", "a small boat", "bread",
            "the library"};

    private static String user(int i) {
        return "Tell me about " + TOPICS[i] + ".";
    }

    @Test
    void sixteenClientsOverFourSlotsEachGetTheirOwnText(@org.junit.jupiter.api.io.TempDir java.nio.file.Path slotDir)
            throws Exception {
        try (ServerFixture fixture = new ServerFixture(4, 4 * 256, 64, null)) {
            fixture.server.slotSavePath(slotDir);
            Http http = new Http(fixture.baseUrl(), null);
            String[] expected = new String[CLIENTS];
            for (int i = 0; i < CLIENTS; i++) {
                expected[i] = fixture.alone(fixture.model.chatPrompt(List.of(ChatMessage.user(user(i)))), MAX_TOKENS);
            }
            ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
            try {
                List<Future<String>> good = new ArrayList<>();
                List<Future<Integer>> bad = new ArrayList<>();
                List<Future<Integer>> leavers = new ArrayList<>();
                List<Future<String>> slotWork = new ArrayList<>();
                for (int i = 0; i < CLIENTS; i++) {
                    int n = i;
                    boolean stream = i % 2 == 1;
                    int api = i % 8 / 2;
                    good.add(pool.submit(() -> switch (api) {
                        case 0 -> stream ? streamed(http, user(n)) : whole(http, user(n));
                        case 1 -> ollama(http, user(n), stream);
                        case 2 -> anthropic(http, user(n), stream);
                        default -> responses(http, user(n), stream);
                    }));
                    if (i % 4 == 0) {
                        bad.add(pool.submit(() -> http.post("/v1/chat/completions", "{\"messages\": [{\"role\": ").status()));
                        bad.add(pool.submit(() -> http.post("/v1/chat/completions",
                                Http.chatBody("word ".repeat(400), 8, n % 8 == 0)).status()));
                    }
                    if (i % 4 == 2) { // slots looked at, saved and restored while they serve: nobody's text changes
                        slotWork.add(pool.submit(() -> {
                            Http.Answer list = http.get("/slots");
                            String name = "load-" + n + ".bin";
                            Http.Answer save = http.post("/slots/" + n % 4 + "?action=save", "{\"filename\": \"" + name + "\"}");
                            Http.Answer restore = save.status() == 200
                                    ? http.post("/slots/" + (n + 1) % 4 + "?action=restore", "{\"filename\": \"" + name + "\"}")
                                    : save; // an empty slot has nothing to save: a 400
                            return list.status() + " " + list.json().size() + " " + save.status() + " " + restore.status();
                        }));
                    }
                    if (i % 5 == 0) {
                        leavers.add(pool.submit(() -> switch (n) {
                            case 5 -> leaveOllama(http);
                            case 10 -> leave(http, "/v1/messages", "{\"max_tokens\": 400, \"stream\": true, \"messages\": "
                                    + "[{\"role\": \"user\", \"content\": \"Tell me a long story.\"}]}");
                            case 15 -> leave(http, "/v1/responses", "{\"max_output_tokens\": 400, \"stream\": true, "
                                    + "\"input\": \"Tell me a long story.\"}");
                            default -> leave(http, "/v1/chat/completions", Http.chatBody("Tell me a long story.", 400, true));
                        }));
                    }
                }
                for (int i = 0; i < CLIENTS; i++) {
                    assertEquals(expected[i], good.get(i).get(120, TimeUnit.SECONDS), "client " + i + ": " + user(i));
                }
                for (Future<Integer> b : bad) {
                    assertEquals(400, b.get(120, TimeUnit.SECONDS));
                }
                for (Future<Integer> l : leavers) {
                    assertTrue(l.get(120, TimeUnit.SECONDS) >= 2);
                }
                for (Future<String> w : slotWork) {
                    String got = w.get(120, TimeUnit.SECONDS);
                    assertTrue(got.equals("200 4 200 200") || got.equals("200 4 400 400"), got);
                }
            } finally {
                pool.shutdownNow();
                assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
            }
            // the leavers' slots are free: nothing runs once every request has returned
            long deadline = System.nanoTime() + 10_000_000_000L;
            BatchEngine.Stats st;
            do {
                Thread.sleep(50);
                st = fixture.engine.stats();
            } while (st.busySlots() > 0 && System.nanoTime() < deadline);
            assertEquals(0, st.busySlots());
            assertEquals(0, st.queued());
            // the leavers asked for 400 tokens each and were cut off within a few tokens of leaving
            long leaverTokens = st.generatedTokens() - (long) CLIENTS * MAX_TOKENS;
            assertTrue(leaverTokens < 4L * 100, "tokens generated for clients that left: " + leaverTokens);
            assertEquals(4, fixture.log.stream().filter(l -> l.contains("client disconnected")).count(), fixture.log.toString());
        }
    }

    private static String whole(Http http, String user) throws Exception {
        Http.Answer a = http.post("/v1/chat/completions", Http.chatBody(user, MAX_TOKENS, false));
        assertEquals(200, a.status(), a.body());
        return a.json().path("choices").path(0).path("message").path("content").asText();
    }

    private static String streamed(Http http, String user) throws Exception {
        HttpResponse<InputStream> r = http.open("/v1/chat/completions", Http.chatBody(user, MAX_TOKENS, true));
        assertEquals(200, r.statusCode());
        StringBuilder text = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.startsWith("data:")) {
                    continue;
                }
                String data = line.substring(5).strip();
                if (data.equals("[DONE]")) {
                    break;
                }
                JsonNode content = Http.JSON.readTree(data).path("choices").path(0).path("delta").path("content");
                if (content.isTextual()) {
                    text.append(content.asText());
                }
            }
        }
        return text.toString();
    }

    /** The reply through ollama's {@code /api/chat}, whole or gathered from its newline-delimited stream. */
    private static String ollama(Http http, String user, boolean stream) throws Exception {
        String body = "{\"messages\": [{\"role\": \"user\", \"content\": " + Http.JSON.writeValueAsString(user)
                + "}], \"stream\": " + stream + ", \"options\": {\"temperature\": 0, \"num_predict\": " + MAX_TOKENS + "}}";
        if (!stream) {
            Http.Answer a = http.post("/api/chat", body);
            assertEquals(200, a.status(), a.body());
            return a.json().path("message").path("content").asText();
        }
        HttpResponse<InputStream> r = http.open("/api/chat", body);
        assertEquals(200, r.statusCode());
        StringBuilder text = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode o = Http.JSON.readTree(line);
                text.append(o.path("message").path("content").asText());
                if (o.path("done").asBoolean()) {
                    break;
                }
            }
        }
        return text.toString();
    }

    /** {@link #leave} through ollama's stream: a few lines read, then the connection closed. */
    private static int leaveOllama(Http http) throws Exception {
        HttpResponse<InputStream> r = http.open("/api/generate", "{\"prompt\": \"Tell me a long story.\", "
                + "\"options\": {\"num_predict\": 400}}");
        int lines = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            while (lines < 3 && in.readLine() != null) {
                lines++;
            }
        }
        return lines;
    }

    /** The reply through Anthropic's {@code /v1/messages}, whole or gathered from its text deltas. */
    private static String anthropic(Http http, String user, boolean stream) throws Exception {
        String body = "{\"max_tokens\": " + MAX_TOKENS + ", \"temperature\": 0, \"stream\": " + stream
                + ", \"messages\": [{\"role\": \"user\", \"content\": " + Http.JSON.writeValueAsString(user) + "}]}";
        return namedEventsReply(http, "/v1/messages", body, stream, o -> joined(o.path("content")),
                "content_block_delta", "message_stop");
    }

    /** The reply through OpenAI's {@code /v1/responses}, whole or gathered from its text deltas. */
    private static String responses(Http http, String user, boolean stream) throws Exception {
        String body = "{\"max_output_tokens\": " + MAX_TOKENS + ", \"temperature\": 0, \"stream\": " + stream
                + ", \"input\": " + Http.JSON.writeValueAsString(user) + "}";
        return namedEventsReply(http, "/v1/responses", body, stream, o -> {
            StringBuilder text = new StringBuilder();
            o.path("output").forEach(item -> text.append(joined(item.path("content"))));
            return text.toString();
        }, "response.output_text.delta", "response.incomplete");
    }

    /**
     * The reply of an API that streams named events: {@code whole}'s text of the answer, or with {@code stream} the
     * text deltas of its {@code delta} events until {@code end}.
     */
    private static String namedEventsReply(Http http, String path, String body, boolean stream,
            java.util.function.Function<JsonNode, String> whole, String delta, String end) throws Exception {
        if (!stream) {
            Http.Answer a = http.post(path, body);
            assertEquals(200, a.status(), a.body());
            return whole.apply(a.json());
        }
        return sseText(http.open(path, body), delta, end);
    }

    /** The {@code text} of each part of a list of content parts, joined. */
    private static String joined(JsonNode parts) {
        StringBuilder text = new StringBuilder();
        parts.forEach(part -> text.append(part.path("text").asText()));
        return text.toString();
    }

    /** The text of a stream of named events: the text deltas of events of type {@code delta}, until {@code end}. */
    private static String sseText(HttpResponse<InputStream> r, String delta, String end) throws Exception {
        assertEquals(200, r.statusCode());
        StringBuilder text = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.startsWith("data:")) {
                    continue;
                }
                JsonNode o = Http.JSON.readTree(line.substring(5));
                String type = o.path("type").asText();
                if (type.equals(delta)) {
                    text.append(o.path("delta").path("text").isTextual() ? o.path("delta").path("text").asText()
                            : o.path("delta").asText());
                } else if (type.equals(end)) {
                    break;
                }
            }
        }
        return text.toString();
    }

    /** Starts a long stream, reads a few events, and closes the connection; returns the events read. */
    private static int leave(Http http, String path, String body) throws Exception {
        HttpResponse<InputStream> r = http.open(path, body);
        int events = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while (events < 3 && (line = in.readLine()) != null) {
                events += line.startsWith("data:") ? 1 : 0;
            }
        }
        return events;
    }
}
