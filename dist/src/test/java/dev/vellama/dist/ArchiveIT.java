package dev.vellama.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.vellama.testdata.TestData;

/**
 * The self-contained archive as a user meets it: unpacked with tar into a fresh directory, run with JAVA_HOME unset
 * and a PATH that holds the few tools a shell script needs but no {@code java}. Runs after {@code package} (failsafe).
 */
class ArchiveIT {
    private static final String VERSION = System.getProperty("vellama.version");

    @TempDir
    static Path tmp;
    static Path home;          // the unpacked vellama-VERSION directory
    static Map<String, String> env;

    record Result(int exitCode, String out, String err) {
        void assertClean() {
            assertEquals(0, exitCode, "exit code; stdout:\n" + out + "\nstderr:\n" + err);
            assertFalse(err.contains("Exception") || err.contains("\tat ") || err.contains("Error:"),
                    "a stack trace or JVM error on stderr:\n" + err);
        }
    }

    @BeforeAll
    static void unpack() throws Exception {
        Path dir = Path.of(System.getProperty("vellama.archive.dir"));
        Path archive;
        try (Stream<Path> files = Files.list(dir)) {
            archive = files.filter(p -> p.getFileName().toString().matches("vellama-" + Pattern.quote(VERSION)
                    + "-linux-[a-z0-9_]+\\.tar\\.gz")).findFirst().orElseThrow(() -> new AssertionError(
                    "no vellama-" + VERSION + "-linux-*.tar.gz in " + dir));
        }
        Path unpacked = Files.createDirectories(tmp.resolve("fresh dir"));  // a space, as in a user's home
        Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", unpacked.toString()).inheritIO().start();
        assertEquals(0, tar.waitFor());
        home = unpacked.resolve("vellama-" + VERSION);
        assertTrue(Files.isExecutable(home.resolve("bin/vellama")));

        // PATH: links to the tools the launcher uses (its #!/usr/bin/env bash, sed for stderr), and nothing else
        Path tools = Files.createDirectories(tmp.resolve("tools"));
        for (String tool : List.of("bash", "sh", "env", "sed", "dirname", "readlink")) {
            Path found = Stream.of("/usr/bin", "/bin").map(d -> Path.of(d, tool)).filter(Files::isExecutable)
                    .findFirst().orElseThrow(() -> new AssertionError("no " + tool + " in /usr/bin or /bin"));
            Files.createSymbolicLink(tools.resolve(tool), found);
        }
        env = new HashMap<>(System.getenv());
        for (String name : List.of("JAVA_HOME", "JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "VELLAMA_JAVA_OPTS")) {
            env.remove(name);
        }
        env.put("PATH", tools.toString());
    }

    @AfterAll
    static void removeToolLinks() throws IOException {
        // the links point outside the temporary directory, which JUnit's clean-up would warn about
        try (Stream<Path> links = Files.list(tmp.resolve("tools"))) {
            for (Path link : links.toList()) {
                Files.delete(link);
            }
        }
    }

    static Result run(Map<String, String> extraEnv, String stdin, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.environment().putAll(extraEnv);
        pb.directory(tmp.toFile());
        Process p = pb.start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String err = read(p.getErrorStream());  // to its end: the launcher's stderr filter has exited too
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running: " + String.join(" ", command));
        return new Result(p.exitValue(), out.get(), err);
    }

    static Result vellama(String... args) throws Exception {
        return vellama(Map.of(), args);
    }

    static Result vellama(Map<String, String> extraEnv, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/vellama").toString()));
        command.addAll(List.of(args));
        return run(extraEnv, "", command.toArray(String[]::new));
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theEnvironmentHasNoJava() throws Exception {
        Result r = run(Map.of(), "", tmp.resolve("tools/bash").toString(), "-c",
                "command -v java && exit 3; echo \"JAVA_HOME=${JAVA_HOME-unset}\"");
        assertEquals(0, r.exitCode(), "java was found on PATH: " + r.out());
        assertEquals("JAVA_HOME=unset", r.out().strip());
    }

    @Test
    void versionComesFromTheArchivesOwnRuntime() throws Exception {
        Result r = vellama("--version");
        r.assertClean();
        assertEquals("", r.err());
        String[] lines = r.out().strip().split("\\R");
        assertTrue(lines[0].matches("vellama " + Pattern.quote(VERSION) + " \\(commit ([0-9a-f]{12}(-dirty)?|unknown)\\)"), r.out());
        assertTrue(lines[1].startsWith("Java 25"), r.out());
        assertTrue(lines[1].endsWith(" in " + home.toRealPath().resolve("runtime")), r.out());
    }

    @Test
    void shortRunGenerates() throws Exception {
        Path model = TestData.model("tiny-llama3-q8_0.gguf");
        Result r = vellama("run", "-m", model.toString(), "-p", "Hello", "-n", "4", "--temp", "0");
        r.assertClean();
        assertTrue(r.out().startsWith("Hello"), r.out());
        assertTrue(r.err().contains("generation: 4 tokens"), r.err());
        assertFalse(r.err().contains("WARNING"), r.err());
    }

    @Test
    void aotCacheRecordedByTheBuildIsValidWhereUnpacked() throws Exception {
        TestData.root();  // the build records the cache with a shared model: without the data there is none
        assertTrue(Files.isRegularFile(home.resolve("lib/vellama.aot")), "the archive has no AOT cache");
        // AOTMode=on: the JVM refuses to start unless it can use the cache (runtime and jar match, here)
        vellama(Map.of("VELLAMA_JAVA_OPTS", "-XX:AOTMode=on"), "--version").assertClean();
    }

    @Test
    void chatReadsPipedInput() throws Exception {
        Path model = TestData.model("tiny-llama3-q8_0.gguf");
        Result r = run(Map.of(), "Hi\n", home.resolve("bin/vellama").toString(),
                "chat", "-m", model.toString(), "-n", "4", "--temp", "0");
        r.assertClean();
    }

    @Test
    void serveAnswersOverHttp() throws Exception {
        Path model = TestData.model("tiny-llama3-q8_0.gguf");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/vellama").toString(), "serve", "-m", model.toString(),
                "--host", "127.0.0.1", "--port", Integer.toString(port), "-c", "256");
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.redirectErrorStream(true).redirectOutput(tmp.resolve("serve.log").toFile());
        Process server = pb.start();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            URI base = URI.create("http://127.0.0.1:" + port);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int health = 0;
            while (health != 200 && System.nanoTime() < deadline && server.isAlive()) {
                try {
                    health = http.send(HttpRequest.newBuilder(base.resolve("/health")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                } catch (IOException notYet) {
                    Thread.sleep(200);
                }
            }
            assertEquals(200, health, Files.readString(tmp.resolve("serve.log")));
            HttpResponse<String> reply = http.send(HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4}"))
                            .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, reply.statusCode(), reply.body());
            assertTrue(reply.body().contains("\"choices\""), reply.body());
        } finally {
            server.destroy();  // SIGTERM, as a service manager stops it
            assertTrue(server.waitFor(30, TimeUnit.SECONDS), "serve did not stop on SIGTERM");
        }
        String log = Files.readString(tmp.resolve("serve.log"));
        assertFalse(log.contains("Exception") || log.contains("\tat "), log);
    }
}
