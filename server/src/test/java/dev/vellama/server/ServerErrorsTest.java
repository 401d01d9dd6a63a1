package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad requests get OpenAI's error object with the right status, and the server goes on serving. */
class ServerErrorsTest {
    private static ServerFixture fixture;
    private static Http http;

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture(1, 512, 0, ServerFixture.KEY); // one slot, no queue: a second request gets 503
        http = new Http(fixture.baseUrl(), ServerFixture.KEY);
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void malformedBodiesAndFieldsAre400sThatNameTheField() throws Exception {
        Http.Answer a = http.post("/v1/chat/completions", "{not json");
        assertEquals(400, a.status());
        assertEquals("invalid_request_error", a.error("type"));
        a = http.post("/v1/chat/completions", "[1, 2]");
        assertEquals(400, a.status());
        a = http.post("/v1/chat/completions", "{\"max_tokens\": 4}");
        assertEquals(400, a.status());
        assertEquals("messages", a.error("param"));
        a = http.post("/v1/chat/completions", "{\"messages\": [{\"content\": \"hi\"}]}");
        assertEquals("messages[0].role", a.error("param"));
        a = http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": \"many\"}");
        assertEquals(400, a.status());
        assertEquals("max_tokens", a.error("param"));
        a = http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": 5}");
        assertEquals("stop", a.error("param"));
        a = http.post("/v1/completions", "{\"prompt\": [1, 99999999]}");
        assertEquals(400, a.status());
        assertTrue(a.error("message").contains("vocabulary"), a.body());
        a = http.post("/v1/completions", "{\"prompt\": \"" + "word ".repeat(700) + "\"}");
        assertEquals(400, a.status());
        assertEquals("context_length_exceeded", a.error("code"));
        assertEquals(200, http.post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 2}").status());
    }

    /** A POST without a body (curl -X POST) is a client's mistake on every route, never the server's failure. */
    @Test
    void emptyBodiesAre400sOnEveryRoute() throws Exception {
        for (String route : new String[] {"/v1/chat/completions", "/v1/completions", "/completion",
                "/v1/embeddings", "/tokenize", "/detokenize", "/apply-template", "/v1/responses", "/v1/messages",
                "/v1/messages/count_tokens", "/api/chat", "/api/generate", "/api/embed", "/api/embeddings", "/api/show",
                "/lora-adapters"}) {
            java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(http.request(route)
                    .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(400, r.statusCode(), route + ": " + r.statusCode() + " " + r.body());
            assertTrue(r.body().contains("body"), route + ": " + r.body());
        }
    }

    @Test
    void aGenerativeModelDoesNotRerank() throws Exception {
        Http.Answer a = http.post("/v1/rerank", "{\"query\": \"q\", \"documents\": [\"a\"]}");
        assertEquals(501, a.status(), a.body());
        assertEquals("not_supported_error", a.error("type"));
    }

    @Test
    void logitBiasAndIgnoreEosAreHonoured() throws Exception {
        String base = "{\"prompt\": \"Once\", \"max_tokens\": 5, \"temperature\": 0, \"logit_bias\": {\"2\": 100}";
        Http.Answer ends = http.post("/v1/completions", base + "}");
        assertEquals(200, ends.status(), ends.body());
        assertEquals("stop", ends.json().path("choices").path(0).path("finish_reason").asText());
        assertEquals(0, ends.json().path("usage").path("completion_tokens").asInt());
        Http.Answer goes = http.post("/v1/completions", base + ", \"ignore_eos\": true}");
        assertEquals("length", goes.json().path("choices").path(0).path("finish_reason").asText());
        assertEquals(5, goes.json().path("usage").path("completion_tokens").asInt());
        Http.Answer bad = http.post("/v1/completions", "{\"prompt\": \"Once\", \"logit_bias\": {\"99999999\": 1}}");
        assertEquals(400, bad.status());
        assertEquals("logit_bias", bad.error("param"));
    }

    /** llama-server's sampler fields: taken and checked, a bad one named. */
    @Test
    void llamaServerSamplerFieldsAreTakenAndChecked() throws Exception {
        Http.Answer ok = http.post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 3, \"seed\": 1,"
                + " \"typical_p\": 0.9, \"mirostat\": 2, \"mirostat_tau\": 4, \"mirostat_eta\": 0.2, \"dry_multiplier\": 0.8,"
                + " \"dry_base\": 1.75, \"dry_allowed_length\": 2, \"dry_penalty_last_n\": -1,"
                + " \"dry_sequence_breakers\": [\"\\n\"], \"xtc_probability\": 0.5, \"xtc_threshold\": 0.1, \"n_keep\": 4}");
        assertEquals(200, ok.status(), ok.body());
        assertEquals(3, ok.json().path("usage").path("completion_tokens").asInt());
        for (String field : new String[] {"\"mirostat\": 3", "\"typical_p\": 0", "\"dry_multiplier\": -1",
                "\"xtc_probability\": 2", "\"dry_sequence_breakers\": 5", "\"n_keep\": -2"}) {
            Http.Answer bad = http.post("/v1/completions", "{\"prompt\": \"Once\", " + field + "}");
            assertEquals(400, bad.status(), field);
            assertEquals(field.substring(1, field.indexOf('"', 1)), bad.error("param"), field);
        }
    }

    @Test
    void unknownRoutesAre404AndKeysAreChecked() throws Exception {
        Http.Answer a = http.get("/v1/nothing");
        assertEquals(404, a.status());
        assertEquals("not_found", a.error("code"));
        Http anonymous = new Http(fixture.baseUrl(), null);
        assertEquals(401, anonymous.get("/v1/models").status());
        assertEquals("invalid_api_key", anonymous.get("/v1/models").error("code"));
        assertEquals(401, new Http(fixture.baseUrl(), "wrong").post("/v1/completions", "{\"prompt\": \"x\"}").status());
        assertEquals(200, anonymous.get("/health").status(), "health needs no key");
    }

    @Test
    void aFullServerSays503AndServesAgainOnceFree() throws Exception {
        HttpResponse<InputStream> first = http.open("/v1/chat/completions", Http.chatBody("Tell me a story.", 300, true));
        try (BufferedReader r = new BufferedReader(new InputStreamReader(first.body(), StandardCharsets.UTF_8))) {
            String line;
            int data = 0;
            while ((line = r.readLine()) != null && data < 3) { // the request holds the one slot
                data += line.startsWith("data:") ? 1 : 0;
            }
            Http.Answer busy = http.post("/v1/chat/completions", Http.chatBody("Hello", 2, false));
            assertEquals(503, busy.status());
            assertEquals("queue_full", busy.error("code"));
        } // the first client leaves: its slot frees within a token or two
        long deadline = System.nanoTime() + 10_000_000_000L;
        Http.Answer again;
        do {
            Thread.sleep(50);
            again = http.post("/v1/chat/completions", Http.chatBody("Hello", 2, false));
        } while (again.status() == 503 && System.nanoTime() < deadline);
        assertEquals(200, again.status());
        assertTrue(fixture.log.stream().anyMatch(l -> l.contains("client disconnected")), fixture.log.toString());
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() throws Exception {
        Http.Answer t = http.post("/tokenize", "{\"content\": \"Hello world\"}");
        assertEquals(200, t.status());
        int[] ids = Http.JSON.convertValue(t.json().get("tokens"), int[].class);
        assertTrue(ids.length >= 2);
        Http.Answer d = http.post("/detokenize", Http.JSON.createObjectNode().set("tokens", t.json().get("tokens")).toString());
        assertEquals("Hello world", d.json().get("content").asText().strip());
        assertEquals(400, http.post("/detokenize", "{\"tokens\": [-1]}").status());
    }

    @Test
    void metricsAreInPrometheusTextFormat() throws Exception {
        http.post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 3}");
        Http.Answer m = http.get("/metrics");
        assertEquals(200, m.status());
        assertTrue(m.body().contains("# TYPE vellama_generated_tokens_total counter"), m.body());
        assertTrue(m.body().contains("\nvellama_slots_total 1\n"), m.body());
        assertTrue(m.body().matches("(?s).*vellama_http_requests_total\\{status=\"200\"} \\d+.*"), m.body());
        // llama-server's names for the same counters, which its dashboards read
        java.util.Map<String, Double> llama = new java.util.HashMap<>();
        for (String line : m.body().split("\n")) {
            if (line.startsWith("llamacpp:")) {
                String[] nameValue = line.split(" ");
                llama.put(nameValue[0], Double.parseDouble(nameValue[1]));
            }
        }
        for (String name : new String[] {"prompt_tokens_total", "prompt_seconds_total", "tokens_predicted_total",
                "tokens_predicted_seconds_total", "n_decode_total", "n_tokens_max", "n_busy_slots_per_decode",
                "prompt_tokens_seconds", "predicted_tokens_seconds", "requests_processing", "requests_deferred"}) {
            assertTrue(llama.containsKey("llamacpp:" + name), name + " in " + m.body());
        }
        assertTrue(m.body().contains("# TYPE llamacpp:tokens_predicted_total counter"), m.body());
        assertTrue(llama.get("llamacpp:tokens_predicted_total") >= 3, m.body());
        // one slot: a step holds at most one busy slot, and each token generated took a step
        assertTrue(llama.get("llamacpp:n_decode_total") >= llama.get("llamacpp:tokens_predicted_total"), m.body());
        assertEquals(1.0, llama.get("llamacpp:n_busy_slots_per_decode"), 1e-9, m.body());
        assertTrue(llama.get("llamacpp:n_tokens_max") >= 3, m.body());
    }

    @Test
    void healthIs503WhileTheModelLoads() throws Exception {
        try (VellamaServer loading = VellamaServer.start(VellamaServer.ServerOptions.defaults().withPort(0).withLog(l -> { }))) {
            Http h = new Http("http://127.0.0.1:" + loading.port(), null);
            assertEquals(503, h.get("/health").status());
            assertEquals(503, h.post("/v1/completions", "{\"prompt\": \"x\"}").status());
        }
    }

    /**
     * A body declared larger than the limit is refused from its headers alone. The request goes over a bare socket
     * that sends no body: a client still uploading 17 MiB when the server answers and closes may see a reset
     * instead of the 413, which would make this test depend on timing.
     */
    @Test
    void oversizeBodiesAreRefused() throws Exception {
        java.net.URI base = java.net.URI.create(fixture.baseUrl());
        try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(10_000);
            String head = "POST /v1/completions HTTP/1.1\r\nHost: " + base.getHost() + "\r\n"
                    + "Authorization: Bearer " + ServerFixture.KEY + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + (17 << 20) + "\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String status = in.readLine();
            assertTrue(status != null && status.startsWith("HTTP/1.1 413"), String.valueOf(status));
        }
        assertEquals(200, http.post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 2}").status());
    }
}
