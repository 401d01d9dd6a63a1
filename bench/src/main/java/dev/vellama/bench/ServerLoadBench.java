package dev.vellama.bench;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Aggregate generation speed of an OpenAI-compatible server (vellama serve, llama-server) under 1, 2, 4, 8
 * concurrent clients. Each client sends streaming {@code /v1/completions} requests one after another (greedy, a
 * fixed prompt with its own first word, so prompts differ but are the same length); a phase runs until every client
 * has sent its requests. Reports per phase: generated tokens per second over all clients, per-client speed, and
 * time to first token (median and worst). Not a test: run it by hand, against a server started with
 * {@code -np} equal to the largest client count.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.vellama.bench.ServerLoadBench --url http://127.0.0.1:8080 \
 *     --clients 1,2,4,8 --requests 3 --max-tokens 64
 * </pre>
 */
public final class ServerLoadBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Result(int tokens, double ttftMs, double seconds) {}

    public static void main(String[] args) throws Exception {
        String url = "http://127.0.0.1:8080";
        int[] clients = {1, 2, 4, 8};
        int requests = 3;
        int maxTokens = 64;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--url" -> url = args[++i];
                case "--clients" -> clients = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--requests" -> requests = Integer.parseInt(args[++i]);
                case "--max-tokens" -> maxTokens = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; use --url URL --clients 1,2,4,8 --requests N --max-tokens N");
            }
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        // one request to warm the server's JIT and caches; not counted
        run(http, url, 0, 0, maxTokens);
        System.out.printf(Locale.ROOT, "%8s %10s %14s %14s %12s %12s%n", "clients", "requests", "aggregate t/s",
                "per-client t/s", "ttft p50 ms", "ttft max ms");
        for (int c : clients) {
            phase(http, url, c, requests, maxTokens);
        }
    }

    private static void phase(HttpClient http, String url, int clients, int requests, int maxTokens) throws Exception {
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<List<Result>>> futures = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int client = c;
            futures.add(pool.submit(() -> {
                List<Result> rs = new ArrayList<>();
                for (int r = 0; r < requests; r++) {
                    rs.add(run(http, url, client, r, maxTokens));
                }
                return rs;
            }));
        }
        List<Result> all = new ArrayList<>();
        for (Future<List<Result>> f : futures) {
            all.addAll(f.get(30, TimeUnit.MINUTES));
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        int tokens = all.stream().mapToInt(Result::tokens).sum();
        double perClient = all.stream().mapToDouble(r -> r.tokens() / r.seconds()).average().orElse(0);
        double[] ttft = all.stream().mapToDouble(Result::ttftMs).sorted().toArray();
        System.out.printf(Locale.ROOT, "%8d %10d %14.1f %14.1f %12.0f %12.0f%n", clients, all.size(), tokens / wall,
                perClient, ttft[ttft.length / 2], ttft[ttft.length - 1]);
    }

    /** One streaming request; counts content chunks (or takes the usage chunk's count when the server sends one). */
    private static Result run(HttpClient http, String url, int client, int request, int maxTokens) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.put("prompt", "Story " + client + "-" + request + ": Once upon a time, in a small village by the sea, there lived");
        body.put("max_tokens", maxTokens);
        body.put("temperature", 0);
        body.put("stream", true);
        body.put("cache_prompt", false);
        body.putObject("stream_options").put("include_usage", true);
        HttpRequest req = HttpRequest.newBuilder(URI.create(url + "/v1/completions")).timeout(Duration.ofMinutes(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        long t0 = System.nanoTime();
        HttpResponse<InputStream> res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (res.statusCode() != 200) {
            throw new IllegalStateException("status " + res.statusCode() + " from " + url);
        }
        long first = 0;
        int chunks = 0;
        int usage = -1;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.startsWith("data:")) {
                    continue;
                }
                String data = line.substring(5).strip();
                if (data.equals("[DONE]")) {
                    break;
                }
                JsonNode j = JSON.readTree(data);
                if (j.path("usage").has("completion_tokens")) {
                    usage = j.path("usage").path("completion_tokens").asInt();
                }
                JsonNode text = j.path("choices").path(0).path("text");
                if (text.isTextual() && !text.asText().isEmpty()) {
                    if (first == 0) {
                        first = System.nanoTime();
                    }
                    chunks++;
                }
            }
        }
        long end = System.nanoTime();
        int tokens = usage >= 0 ? usage : chunks;
        return new Result(tokens, ((first == 0 ? end : first) - t0) / 1e6, (end - t0) / 1e9);
    }
}
