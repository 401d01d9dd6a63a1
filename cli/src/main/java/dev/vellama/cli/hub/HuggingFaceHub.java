package dev.vellama.cli.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The Hugging Face Hub's HTTP API, as far as pulling a GGUF needs it: a repository's file list with sizes and
 * SHA-256 ({@code GET /api/models/ORG/REPO/tree/main?recursive=true}), and a file's bytes
 * ({@code GET /ORG/REPO/resolve/main/FILE}, redirects followed, a {@code Range} to resume). {@code HF_ENDPOINT}
 * replaces https://huggingface.co and {@code HF_TOKEN} is sent as a bearer token, as the Hub's own tools do.
 */
public final class HuggingFaceHub {
    /** Transfers a download retries after a broken connection, each resuming where the last stopped. */
    private static final int ATTEMPTS = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI endpoint;
    private final String token;
    private final HttpClient http;

    public HuggingFaceHub(URI endpoint, String token) {
        this.endpoint = URI.create(endpoint.toString().replaceAll("/+$", "") + "/");
        this.token = token == null || token.isBlank() ? null : token.strip();
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(15)).build();
    }

    /** The hub {@code HF_ENDPOINT} and {@code HF_TOKEN} name ({@code env} reads a variable, null when unset). */
    public static HuggingFaceHub fromEnvironment(UnaryOperator<String> env) {
        String e = env.apply("HF_ENDPOINT");
        return new HuggingFaceHub(URI.create(e == null || e.isBlank() ? "https://huggingface.co" : e), env.apply("HF_TOKEN"));
    }

    public URI endpoint() {
        return endpoint;
    }

    /** A file of a repository: its path there, size in bytes and SHA-256 (hex; null where the hub gives none). */
    public record RemoteFile(String path, long size, String sha256) {}

    /** The repository's GGUF files, split parts and multimodal projectors left out. */
    public List<RemoteFile> ggufFiles(HubReference ref) {
        URI uri = endpoint.resolve("api/models/" + path(ref.org()) + "/" + path(ref.repo()) + "/tree/main?recursive=true");
        HttpResponse<String> r = send(request(uri).build(), HttpResponse.BodyHandlers.ofString(), ref);
        check(r.statusCode(), ref, "list the files of");
        List<RemoteFile> out = new ArrayList<>();
        try {
            for (JsonNode e : JSON.readTree(r.body())) {
                String p = e.path("path").asText("");
                if (!"file".equals(e.path("type").asText("file")) || !p.toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")
                        || p.toLowerCase(java.util.Locale.ROOT).contains("mmproj") || Quants.split(p)) {
                    continue;
                }
                JsonNode lfs = e.path("lfs");
                String sha = lfs.isObject() ? lfs.path("oid").asText(null) : null;
                long size = lfs.isObject() ? lfs.path("size").asLong(e.path("size").asLong()) : e.path("size").asLong();
                out.add(new RemoteFile(p, size, sha));
            }
        } catch (IOException | RuntimeException e) {
            throw new HubException(endpoint + " sent a file list for " + ref.repository() + " that is not the Hub's JSON");
        }
        return out;
    }

    /**
     * The file the reference names among {@code files}: the one whose name carries its quant; without a quant,
     * Q4_K_M (llama.cpp's default) or the only file.
     */
    public static RemoteFile choose(HubReference ref, List<RemoteFile> files) {
        if (files.isEmpty()) {
            throw new HubException(ref.repository() + " has no GGUF file (split GGUF files are not supported)");
        }
        String want = ref.quant() != null ? ref.quant() : "Q4_K_M";
        List<RemoteFile> hits = files.stream().filter(f -> Quants.names(fileName(f.path()), want)).toList();
        if (hits.isEmpty() && ref.quant() == null && files.size() == 1) {
            return files.getFirst();
        }
        if (hits.isEmpty()) {
            throw new HubException(ref.repository() + " has no " + want + " file; it has: "
                    + String.join(", ", files.stream().map(f -> fileName(f.path())).toList())
                    + (ref.quant() == null ? " (name one as hf:" + ref.repository() + ":QUANT)" : ""));
        }
        // the shortest name: "x-Q8_0.gguf" before "x-Q8_0-imatrix-test.gguf"
        return hits.stream().min(java.util.Comparator.comparingInt((RemoteFile f) -> f.path().length())
                .thenComparing(RemoteFile::path)).orElseThrow();
    }

    /** What a download reports as it goes: bytes so far of the total. */
    public interface Progress {
        void update(long done, long total);
    }

    /**
     * Downloads {@code file} to {@code target}: into {@code target.part} first, resuming what an earlier attempt
     * left there, retrying a broken transfer from where it stopped, then checking the SHA-256 before the part
     * becomes the target. A wrong hash deletes the part.
     */
    public void download(HubReference ref, RemoteFile file, Path target, Progress progress) throws IOException {
        Files.createDirectories(target.getParent());
        Path part = target.resolveSibling(target.getFileName() + ".part");
        URI uri = endpoint.resolve(path(ref.org()) + "/" + path(ref.repo()) + "/resolve/main/" + path(file.path()));
        IOException last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            long have = Files.exists(part) ? Files.size(part) : 0;
            if (file.size() > 0 && have == file.size()) {
                break;
            }
            if (file.size() > 0 && have > file.size()) {
                Files.delete(part);
                have = 0;
            }
            HttpRequest.Builder b = request(uri);
            if (have > 0) {
                b.header("Range", "bytes=" + have + "-");
            }
            HttpResponse<InputStream> r = send(b.build(), HttpResponse.BodyHandlers.ofInputStream(), ref);
            try (InputStream in = r.body()) {
                if (r.statusCode() == 416 && have > 0) { // nothing left to send: the part is whole
                    break;
                }
                check(r.statusCode(), ref, "download " + file.path() + " of");
                boolean append = have > 0 && r.statusCode() == 206;
                long done = append ? have : 0;
                try (OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                    byte[] buf = new byte[1 << 16];
                    for (int n; (n = in.read(buf)) >= 0; ) {
                        out.write(buf, 0, n);
                        done += n;
                        progress.update(done, file.size());
                    }
                }
                last = null;
                if (file.size() <= 0 || done >= file.size()) {
                    break;
                }
                last = new IOException("the connection closed after " + done + " of " + file.size() + " bytes");
            } catch (IOException e) {
                last = e; // a cut connection: the next attempt resumes from what the part holds
            }
        }
        if (last != null) {
            throw new HubException("the download of " + file.path() + " broke off " + ATTEMPTS + " times (" + last.getMessage()
                    + "); run the command again to resume it", last);
        }
        if (file.sha256() != null) {
            String got = sha256(part);
            if (!got.equalsIgnoreCase(file.sha256())) {
                Files.deleteIfExists(part);
                throw new HubException("SHA-256 of " + file.path() + " is " + got + ", the hub lists " + file.sha256()
                        + ": the download was deleted; run the command again");
            }
        }
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("User-Agent", "vellama");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body, HubReference ref) {
        try {
            return http.send(request, body);
        } catch (ConnectException e) {
            throw new HubException("cannot reach " + endpoint + " (" + e.getClass().getSimpleName()
                    + "); check the network, or HF_ENDPOINT", e);
        } catch (IOException e) {
            throw new HubException("the connection to " + endpoint + " failed while asking for " + ref.repository() + ": "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted", e);
        }
    }

    /** The Hub's answers, said for people: 401 and 403 mean a token, 404 a wrong name. */
    private void check(int status, HubReference ref, String what) {
        if (status == 200 || status == 206) {
            return;
        }
        String msg = switch (status) {
            case 401 -> "the hub refused to let us " + what + " " + ref.repository() + " (401): it is private or gated;"
                    + (token == null ? " set HF_TOKEN to a token that may read it" : " HF_TOKEN is not accepted for it");
            case 403 -> "the hub refused to let us " + what + " " + ref.repository() + " (403): accept its terms on the"
                    + " model's page with the account of HF_TOKEN";
            case 404 -> ref.repository() + " was not found on " + endpoint + " (404): check the name";
            case 429 -> "the hub is rate-limiting requests (429): wait a moment, or set HF_TOKEN";
            default -> "the hub answered " + status + " when asked to " + what + " " + ref.repository();
        };
        throw new HubException(msg);
    }

    private static String path(String segment) {
        StringBuilder b = new StringBuilder();
        for (String s : segment.split("/", -1)) {
            if (!b.isEmpty()) {
                b.append('/');
            }
            b.append(URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return b.toString();
    }

    /** The last part of a repository path: the name a pulled file has in the cache. */
    public static String fileName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) >= 0; ) {
                d.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
