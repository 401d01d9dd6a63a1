package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.vellama.testdata.TestData;

/** Models by name against a stand-in for the Hugging Face Hub on loopback: pull, cache, -hf, list, rm, and failures. */
class PullCommandTest {
    @TempDir
    Path cache;
    FakeHub hub;

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private CliRunner vellama(Map<String, String> extraEnv, String... args) {
        Map<String, String> env = new HashMap<>(Map.of("VELLAMA_CACHE", cache.toString(), "HF_ENDPOINT", hub.endpoint()));
        env.putAll(extraEnv);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new java.io.ByteArrayInputStream(new byte[0]), new PrintWriter(out), new PrintWriter(err), env);
        return new CliRunner(code, out.toString(), err.toString());
    }

    private CliRunner vellama(String... args) {
        return vellama(Map.of(), args);
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private Path cached(String repo, String file) {
        return cache.resolve("hf").resolve(repo).resolve(file);
    }

    @Test
    void pullCachesAModelThatRunAndServeFindByNameThenListAndRm() throws IOException {
        byte[] model = Files.readAllBytes(TestData.model("stories-llama2-q8_0.gguf"));
        hub.repo("test-org/stories-GGUF", "stories-Q8_0.gguf", model).repo("test-org/stories-GGUF", "stories-F16.gguf", random(1000, 1));
        CliRunner pull = vellama("pull", "hf:test-org/stories-GGUF:Q8_0");
        assertEquals(0, pull.exitCode(), pull.err());
        assertTrue(pull.err().contains("SHA-256 checked"), pull.err());
        assertEquals(FakeHub.sha256(model), FakeHub.sha256(Files.readAllBytes(cached("test-org/stories-GGUF", "stories-Q8_0.gguf"))));
        long downloads = hub.log.stream().filter(l -> l.contains("/cdn/")).count();

        // by name from the cache: no transfer, and no question to the hub
        int asked = hub.log.size();
        CliRunner run = vellama("run", "-hf", "test-org/stories-GGUF:Q8_0", "-p", "Once upon a time", "-n", "4", "--temp", "0");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().startsWith("Once upon a time"), run.out());
        assertEquals(asked, hub.log.size(), "a cached model is used without asking the hub");
        // pulling again asks the hub which file, but does not transfer it
        CliRunner again = vellama("pull", "hf:test-org/stories-GGUF:Q8_0");
        assertEquals(0, again.exitCode(), again.err());
        assertTrue(again.err().contains("is in the cache"), again.err());
        assertEquals(downloads, hub.log.stream().filter(l -> l.contains("/cdn/")).count());

        CliRunner list = vellama("list");
        assertEquals(0, list.exitCode(), list.err());
        assertTrue(list.out().contains("hf:test-org/stories-GGUF") && list.out().contains("stories-Q8_0.gguf"), list.out());
        CliRunner rm = vellama("rm", "hf:test-org/stories-GGUF:Q8_0");
        assertEquals(0, rm.exitCode(), rm.err());
        assertFalse(Files.exists(cached("test-org/stories-GGUF", "stories-Q8_0.gguf")));
        assertFalse(Files.exists(cache.resolve("hf").resolve("test-org")), "empty folders go too");
        assertTrue(vellama("list").err().startsWith("no models"));
        CliRunner rmAgain = vellama("rm", "hf:test-org/stories-GGUF:Q8_0");
        assertEquals(1, rmAgain.exitCode());
        assertTrue(rmAgain.err().contains("is not in the cache"), rmAgain.err());
    }

    @Test
    void aCutDownloadResumesWhereItStopped() throws IOException {
        byte[] content = random(3_000_000, 2);
        hub.repo("org/model-GGUF", "model-Q4_K_M.gguf", content);
        hub.cutNextTransfer("model-Q4_K_M.gguf");
        CliRunner pull = vellama("pull", "hf:org/model-GGUF");
        assertEquals(0, pull.exitCode(), pull.err());
        assertEquals(FakeHub.sha256(content), FakeHub.sha256(Files.readAllBytes(cached("org/model-GGUF", "model-Q4_K_M.gguf"))));
        String resumed = hub.log.stream().filter(l -> l.contains("/cdn/") && l.contains("bytes=")).findFirst().orElse("");
        // it resumes from what arrived before the cut: at most the half the stand-in sent, and more than nothing
        long from = resumed.contains("bytes=") ? Long.parseLong(resumed.replaceAll(".*bytes=(\\d+)-$", "$1")) : 0;
        assertTrue(from > 0 && from <= 1_500_000, hub.log.toString());
        assertFalse(Files.exists(cached("org/model-GGUF", "model-Q4_K_M.gguf.part")));
    }

    @Test
    void aPartLeftByAnEarlierRunIsResumed() throws IOException {
        byte[] content = random(1_000_000, 3);
        hub.repo("org/model-GGUF", "model-Q8_0.gguf", content);
        Path part = cached("org/model-GGUF", "model-Q8_0.gguf.part");
        Files.createDirectories(part.getParent());
        Files.write(part, java.util.Arrays.copyOf(content, 400_000));
        CliRunner pull = vellama("pull", "hf:org/model-GGUF:Q8_0");
        assertEquals(0, pull.exitCode(), pull.err());
        assertTrue(hub.log.stream().anyMatch(l -> l.endsWith("bytes=400000-")), hub.log.toString());
        assertEquals(FakeHub.sha256(content), FakeHub.sha256(Files.readAllBytes(cached("org/model-GGUF", "model-Q8_0.gguf"))));
    }

    @Test
    void aWrongHashIsRefusedAndNothingIsKept() {
        hub.repo("org/model-GGUF", "model-Q4_K_M.gguf", random(200_000, 4));
        hub.listWrongHash("model-Q4_K_M.gguf");
        CliRunner pull = vellama("pull", "hf:org/model-GGUF:Q4_K_M");
        assertEquals(1, pull.exitCode());
        String last = pull.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("vellama: SHA-256 of model-Q4_K_M.gguf is "), pull.err());
        assertFalse(Files.exists(cached("org/model-GGUF", "model-Q4_K_M.gguf")));
        assertFalse(Files.exists(cached("org/model-GGUF", "model-Q4_K_M.gguf.part")));
    }

    @Test
    void privateUnknownAndUnreachableRepositoriesAreExplained() {
        hub.repo("org/secret-GGUF", "secret-Q4_K_M.gguf", random(1000, 5));
        hub.makePrivate("org/secret-GGUF");
        CliRunner denied = vellama("pull", "hf:org/secret-GGUF");
        assertEquals(1, denied.exitCode());
        assertEquals(1, denied.err().lines().count(), denied.err());
        assertTrue(denied.err().contains("(401)") && denied.err().contains("set HF_TOKEN"), denied.err());
        CliRunner wrongToken = vellama(Map.of("HF_TOKEN", "hf_bad"), "pull", "hf:org/secret-GGUF");
        assertTrue(wrongToken.err().contains("HF_TOKEN is not accepted"), wrongToken.err());
        CliRunner granted = vellama(Map.of("HF_TOKEN", FakeHub.TOKEN), "pull", "hf:org/secret-GGUF");
        assertEquals(0, granted.exitCode(), granted.err());

        CliRunner unknown = vellama("pull", "hf:org/no-such-GGUF");
        assertEquals(1, unknown.exitCode());
        assertEquals("vellama: org/no-such-GGUF was not found on " + hub.endpoint() + "/ (404): check the name",
                unknown.err().strip());
        CliRunner bad = vellama("pull", "not a name");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("is not a model name"), bad.err());
        CliRunner offline = vellama(Map.of("HF_ENDPOINT", "http://127.0.0.1:9"), "pull", "hf:org/x");
        assertEquals(1, offline.exitCode());
        assertTrue(offline.err().contains("cannot reach"), offline.err());
    }

    @Test
    void theQuantPicksTheFileAndAMissingOneListsWhatThereIs() {
        hub.repo("org/m-GGUF", "m-Q4_K_M.gguf", random(1000, 6)).repo("org/m-GGUF", "m-IQ4_K_M.gguf", random(1000, 7))
                .repo("org/m-GGUF", "m-Q8_0.gguf", random(1000, 8)).repo("org/m-GGUF", "mmproj-m-F16.gguf", random(1000, 9));
        assertEquals(0, vellama("pull", "hf:org/m-GGUF").exitCode());
        assertTrue(Files.exists(cached("org/m-GGUF", "m-Q4_K_M.gguf")), "Q4_K_M by default");
        assertFalse(Files.exists(cached("org/m-GGUF", "m-IQ4_K_M.gguf")));
        CliRunner missing = vellama("pull", "hf:org/m-GGUF:Q5_K_M");
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("has no Q5_K_M file; it has: ") && missing.err().contains("m-Q8_0.gguf")
                && !missing.err().contains("mmproj"), missing.err());
    }

    @Test
    void theCacheFollowsTheEnvironment() {
        Map<String, String> env = new HashMap<>();
        env.put("XDG_CACHE_HOME", "/tmp/xdg");
        assertEquals(Path.of("/tmp/xdg", "vellama"), dev.vellama.cli.hub.ModelCache.fromEnvironment(env::get).root());
        env.put("VELLAMA_CACHE", "/tmp/own");
        assertEquals(Path.of("/tmp/own"), dev.vellama.cli.hub.ModelCache.fromEnvironment(env::get).root());
    }
}
