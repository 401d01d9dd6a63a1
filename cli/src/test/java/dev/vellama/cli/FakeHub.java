package dev.vellama.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A stand-in for the Hugging Face Hub on loopback, answering the two calls a pull makes as the Hub does: the file
 * tree with sizes and LFS SHA-256s, and {@code resolve/main/FILE}, which redirects to a second path that serves the
 * bytes with {@code Range} support. It can cut a transfer halfway, list a wrong hash, and require a token.
 */
final class FakeHub implements AutoCloseable {
    static final String TOKEN = "hf_good_token";

    private final HttpServer server;
    private final Map<String, Map<String, byte[]>> repos = new ConcurrentHashMap<>();
    private final Map<String, String> wrongHashes = new ConcurrentHashMap<>();
    private final Map<String, Boolean> cutOnce = new ConcurrentHashMap<>();
    private final java.util.Set<String> privateRepos = ConcurrentHashMap.newKeySet();
    final List<String> log = new CopyOnWriteArrayList<>();

    FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    FakeHub repo(String repo, String file, byte[] content) {
        repos.computeIfAbsent(repo, r -> new ConcurrentHashMap<>()).put(file, content);
        return this;
    }

    /** The tree lists another hash for this file than its bytes have. */
    void listWrongHash(String file) {
        wrongHashes.put(file, "0".repeat(64));
    }

    /** The next full transfer of this file stops halfway, the connection dropped. */
    void cutNextTransfer(String file) {
        cutOnce.put(file, true);
    }

    void makePrivate(String repo) {
        privateRepos.add(repo);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String range = ex.getRequestHeaders().getFirst("Range");
        log.add(ex.getRequestMethod() + " " + path + (range != null ? " " + range : ""));
        try (ex) {
            if (path.startsWith("/api/models/") && path.endsWith("/tree/main")) {
                String repo = path.substring("/api/models/".length(), path.length() - "/tree/main".length());
                if (!allowed(ex, repo)) {
                    return;
                }
                StringBuilder json = new StringBuilder("[");
                for (var f : repos.get(repo).entrySet()) {
                    if (json.length() > 1) {
                        json.append(',');
                    }
                    String sha = wrongHashes.getOrDefault(f.getKey(), sha256(f.getValue()));
                    json.append("{\"type\":\"file\",\"oid\":\"abc\",\"size\":").append(f.getValue().length)
                            .append(",\"path\":\"").append(f.getKey()).append("\",\"lfs\":{\"oid\":\"").append(sha)
                            .append("\",\"size\":").append(f.getValue().length).append(",\"pointerSize\":135}}");
                }
                json.append(",{\"type\":\"file\",\"oid\":\"def\",\"size\":1519,\"path\":\"README.md\"}]");
                send(ex, 200, json.toString());
            } else if (path.contains("/resolve/main/")) {
                String repo = path.substring(1, path.indexOf("/resolve/main/"));
                if (!allowed(ex, repo)) {
                    return;
                }
                ex.getResponseHeaders().add("Location", "/cdn/" + repo + "/" + path.substring(path.indexOf("/resolve/main/") + 14));
                ex.sendResponseHeaders(302, -1);
            } else if (path.startsWith("/cdn/")) {
                String rest = path.substring(5);
                int slash = rest.indexOf('/', rest.indexOf('/') + 1);
                String repo = rest.substring(0, slash);
                String file = rest.substring(slash + 1);
                byte[] content = repos.getOrDefault(repo, Map.of()).get(file);
                if (content == null) {
                    send(ex, 404, "{\"error\":\"Entry not found\"}");
                    return;
                }
                long from = 0;
                if (range != null && range.startsWith("bytes=")) {
                    from = Long.parseLong(range.substring(6, range.indexOf('-')));
                    if (from >= content.length) {
                        ex.sendResponseHeaders(416, -1);
                        return;
                    }
                    ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
                }
                int length = (int) (content.length - from);
                ex.sendResponseHeaders(range != null ? 206 : 200, length);
                OutputStream out = ex.getResponseBody();
                if (from == 0 && cutOnce.remove(file) != null) {
                    out.write(content, 0, length / 2);
                    out.flush();
                    // fewer bytes than announced: the server drops the connection
                    throw new IOException("cut on purpose");
                }
                out.write(content, (int) from, length);
            } else {
                send(ex, 404, "{\"error\":\"Repository not found\"}");
            }
        }
    }

    private boolean allowed(HttpExchange ex, String repo) throws IOException {
        if (privateRepos.contains(repo) && !("Bearer " + TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            send(ex, 401, "{\"error\":\"Invalid username or password.\"}");
            return false;
        }
        if (!repos.containsKey(repo)) {
            send(ex, 404, "{\"error\":\"Repository not found\"}");
            return false;
        }
        return true;
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
