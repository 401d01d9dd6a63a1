package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** What a load balancer relies on: a routing key echoed, and a drain that finishes streams while refusing new work. */
class DrainTest {
    @Test
    void aDrainingServerFinishesItsStreamsAndRefusesNewRequests() throws Exception {
        try (ServerFixture f = new ServerFixture(2, 512, 8, null)) {
            Http http = new Http(f.baseUrl(), null);
            HttpResponse<java.io.InputStream> stream = http.open("/v1/chat/completions", Http.chatBody("Tell me a story.", 120, true));
            assertEquals(200, stream.statusCode());
            BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
            assertTrue(lines.readLine().startsWith("data:"), "the stream has started");
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
                try {
                    return f.server.drain(Duration.ofSeconds(60));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            // the health check says so at once, and new work is refused with an OpenAI error
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            Http.Answer health = http.get("/health");
            while (health.status() != 503 && System.nanoTime() < until) {
                Thread.sleep(10);
                health = http.get("/health");
            }
            assertEquals(503, health.status());
            assertEquals("shutting_down", health.error("code"));
            Http.Answer refused = http.post("/v1/chat/completions", Http.chatBody("Hello", 2, false));
            assertEquals(503, refused.status());
            assertEquals("shutting_down", refused.error("code"));
            assertFalse(drained.isDone(), "the drain waits for the stream");
            String last = null;
            for (String line; (line = lines.readLine()) != null; ) {
                if (!line.isBlank()) {
                    last = line;
                }
            }
            assertTrue(last.startsWith("data:") && last.endsWith("[DONE]"), "the running stream finished: " + last);
            assertTrue(drained.get(30, TimeUnit.SECONDS), "the drain ends when the stream has");
        }
    }

    @Test
    void theRoutingKeyIsEchoed() throws Exception {
        try (ServerFixture f = new ServerFixture(1, 256, 8, null)) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(f.baseUrl() + "/v1/completions"))
                    .header(VellamaServer.SESSION_ID_HEADER, "conversation-42").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Once\",\"max_tokens\":2}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("conversation-42", r.headers().firstValue(VellamaServer.SESSION_ID_HEADER).orElse(null));
        }
    }
}
