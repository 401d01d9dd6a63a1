package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@code vellama serve} processes behind HAProxy with the repository's {@code deploy/haproxy.cfg} (its ports
 * moved to free ones), on loopback: a mixed load of plain and streamed greedy completions, one replica killed
 * with SIGKILL during it (the one that served the most conversations) and started again. Every request completes
 * (a client retries once what the killed replica had in flight), every text equals a single session's, each
 * conversation's key is echoed, and the restarted replica gets its conversations back. Bounded: 54 requests, two
 * minutes. Skipped where HAProxy is not installed (.ci/run installs it).
 */
class ReplicasBehindHaproxyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = TestData.model("stories-llama2-q8_0.gguf").toString();
    private static final String[] PROMPTS = {"Once upon a time", "The function returns", "To create a table",
            "The server started", "An index is", "Python is a"};
    private static final int MAX_TOKENS = 12;

    private final List<Process> processes = new ArrayList<>();

    @Test
    void replicasBehindHaproxyLoseNoRequestWhenOneIsKilled(@TempDir Path tmp) throws Exception {
        Path haproxy = findHaproxy();
        Assumptions.assumeTrue(haproxy != null, "HAProxy is not installed (apt-get install haproxy); .ci/run installs it");
        String[] expected = expectedTexts();
        int[] ports = freePorts(4);
        try {
            for (int i = 0; i < 3; i++) {
                startReplica(ports[i], tmp.resolve("replica" + i + ".log"));
            }
            for (int i = 0; i < 3; i++) {
                awaitHealthy(ports[i]);
                // healthy only after its warm-up, which leaves no request in the counters
                assertTrue(Files.readString(tmp.resolve("replica" + i + ".log")).contains("vellama: warmed up in "));
            }
            String cfg = Files.readString(Path.of("../deploy/haproxy.cfg"))
                    .replace("bind 127.0.0.1:8080", "bind 127.0.0.1:" + ports[3])
                    .replace("127.0.0.1:8081", "127.0.0.1:" + ports[0])
                    .replace("127.0.0.1:8082", "127.0.0.1:" + ports[1])
                    .replace("127.0.0.1:8083", "127.0.0.1:" + ports[2]);
            Path cfgFile = Files.writeString(tmp.resolve("haproxy.cfg"), cfg);
            processes.add(new ProcessBuilder(haproxy.toString(), "-db", "-f", cfgFile.toString())
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("haproxy.log").toFile()).start());
            awaitHealthy(ports[3]);

            String front = "http://127.0.0.1:" + ports[3];
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            // warm-up: every conversation once, then the replica that serves the most of them is the one to kill
            for (int p = 0; p < PROMPTS.length; p++) {
                assertEquals(expected[p], complete(client, front, "conversation-" + p, PROMPTS[p], p % 2 == 0), PROMPTS[p]);
            }
            int victim = 0;
            for (int i = 1; i < 3; i++) {
                victim = posts(tmp.resolve("replica" + i + ".log")) > posts(tmp.resolve("replica" + victim + ".log")) ? i : victim;
            }
            assertTrue(posts(tmp.resolve("replica" + victim + ".log")) > 0);
            AtomicInteger retried = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            Path again = tmp.resolve("replica" + victim + "-again.log");
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int r = 0; r < 48; r++) {
                    int req = r;
                    done.add(pool.submit(() -> {
                        int p = req % PROMPTS.length;
                        String key = "conversation-" + p;
                        String text = complete(client, front, key, PROMPTS[p], req % 2 == 0);
                        if (text == null) { // what the killed replica had in flight: one retry, as a client does
                            retried.incrementAndGet();
                            text = complete(client, front, key, PROMPTS[p], req % 2 == 0);
                        }
                        assertEquals(expected[p], text, "request " + req + " (" + PROMPTS[p] + ")");
                        return null;
                    }));
                    if (r == 8) {
                        processes.get(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                    if (r == 32) {
                        startReplica(ports[victim], again);
                        awaitHealthy(ports[victim]);
                        // HAProxy's checks see it again (rise 2 at 1 s) and its weight comes back (slowstart 5 s): its
                        // conversations return to it
                        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                        for (int p = 0; posts(again) == 0 && System.nanoTime() < until; p = (p + 1) % PROMPTS.length) {
                            assertEquals(expected[p], complete(client, front, "conversation-" + p, PROMPTS[p], false), PROMPTS[p]);
                            Thread.sleep(100);
                        }
                    }
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                for (Future<?> f : done) {
                    f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            System.out.printf("replicas behind HAProxy: killed replica %d, %d requests retried, %d served by it after its restart%n",
                    victim, retried.get(), posts(again));
            assertTrue(posts(again) > 0, "the restarted replica takes its conversations back");
            assertTrue(retried.get() <= 4, "only what was in flight on the killed replica failed: " + retried.get());
        } finally {
            for (Process p : processes) {
                p.destroyForcibly();
            }
        }
    }

    /** The greedy text of each prompt from a session of its own. */
    private static String[] expectedTexts() throws IOException {
        String[] out = new String[PROMPTS.length];
        try (Model m = Model.load(Path.of(MODEL));
             Session s = m.newSession(SessionOptions.defaults().withContextSize(256).withThreads(2))) {
            for (int i = 0; i < PROMPTS.length; i++) {
                out[i] = s.generate(s.tokenize(PROMPTS[i]), GenerationParams.greedy().withMaxTokens(MAX_TOKENS), null).text();
            }
        }
        return out;
    }

    /** One completion through the balancer; null when the replica went away under it (an error status or a cut stream). */
    private static String complete(HttpClient client, String base, String key, String prompt, boolean stream) throws Exception {
        String body = JSON.createObjectNode().put("prompt", prompt).put("max_tokens", MAX_TOKENS).put("temperature", 0)
                .put("stream", stream).toString();
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/completions")).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").header("X-Session-Id", key)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<java.io.InputStream> r;
        try {
            r = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            return null;
        }
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            if (r.statusCode() != 200) {
                return null;
            }
            assertEquals(key, r.headers().firstValue("X-Session-Id").orElse(null), "the routing key comes back");
            if (!stream) {
                return JSON.readTree(in.lines().reduce("", String::concat)).path("choices").path(0).path("text").asText();
            }
            StringBuilder text = new StringBuilder();
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith("data:")) {
                    continue;
                }
                String data = line.substring(5).strip();
                if (data.equals("[DONE]")) {
                    return text.toString();
                }
                JsonNode chunk = JSON.readTree(data);
                text.append(chunk.path("choices").path(0).path("text").asText(""));
            }
            return null; // cut before [DONE]
        } catch (IOException e) {
            return null;
        }
    }

    /** Completions a replica's request log shows. */
    private static long posts(Path log) throws IOException {
        return Files.readAllLines(log).stream().filter(l -> l.startsWith("POST /v1/completions 200")).count();
    }

    private void startReplica(int port, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        processes.add(new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), "dev.vellama.cli.Main",
                "serve", "-m", MODEL, "--port", Integer.toString(port), "-np", "2", "-c", "512", "-t", "1")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start());
    }

    private static void awaitHealthy(int port) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until) {
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("nothing healthy on port " + port + " within 60 s");
    }

    private static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        return ports;
    }

    private static Path findHaproxy() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, "haproxy");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        Path sbin = Path.of("/usr/sbin/haproxy");
        return Files.isExecutable(sbin) ? sbin : null;
    }
}
