package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import dev.vellama.testdata.TestData;
import dev.vellama.runtime.model.KvCache;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Session.save and Session.load: a saved conversation goes on exactly as if it had never stopped. */
class SavedSessionTest {
    private static Model model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws IOException {
        model = Model.load(TestData.model("stories-llama2-q8_0.gguf"));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    private static Session session(int ctx) {
        return model.newSession(SessionOptions.defaults().withContextSize(ctx).withBatchSize(32).withThreads(2));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void saveLoadAndContinueGivesTheTokensOfNeverStopping() {
        int[] prompt = model.tokenizer().encode("Once upon a time there was a little dog named Max.", true, true);
        GenerationParams p = GenerationParams.greedy().withTopLogprobs(3);
        Path file = tmp.resolve("story.session");
        try (Session straight = session(256); Session first = session(256); Session second = session(128)) {
            GenerationResult all = straight.generate(prompt, p.withMaxTokens(20), null);
            GenerationResult half = first.generate(prompt, p.withMaxTokens(10), null);
            first.save(file);
            second.load(file);
            assertEquals(first.position(), second.position());
            GenerationResult rest = second.generate(concat(prompt, half.tokenIds()), p.withMaxTokens(10), null);
            assertEquals(1, second.lastPrefillEvaluated(), "only the token sampled last is new to the model");
            int[] joined = concat(half.tokenIds(), rest.tokenIds());
            assertArrayEquals(all.tokenIds(), joined);
            for (int i = 0; i < 10; i++) { // bit for bit: the logprobs of the continued half equal never stopping's
                assertEquals(all.tokens().get(10 + i).topLogprobs(), rest.tokens().get(i).topLogprobs());
            }
        }
    }

    /** A block-type cache is saved as its blocks, so a loaded one continues bit for bit. */
    @Test
    void aQuantizedCacheIsSavedAsItsBlocks() {
        Path file = tmp.resolve("q8.session");
        int[] prompt = model.tokenizer().encode("Once upon a time there was a cat.", true, true);
        GenerationParams p = GenerationParams.greedy().withTopLogprobs(2);
        SessionOptions q8 = SessionOptions.defaults().withContextSize(128).withThreads(2).withCacheTypes(CacheType.Q8_0, CacheType.Q4_1);
        try (Session straight = model.newSession(q8); Session first = model.newSession(q8); Session second = model.newSession(q8)) {
            GenerationResult all = straight.generate(prompt, p.withMaxTokens(12), null);
            GenerationResult half = first.generate(prompt, p.withMaxTokens(6), null);
            first.save(file);
            second.load(file);
            GenerationResult rest = second.generate(concat(prompt, half.tokenIds()), p.withMaxTokens(6), null);
            assertArrayEquals(all.tokenIds(), concat(half.tokenIds(), rest.tokenIds()));
            assertEquals(all.tokens().get(11).topLogprobs(), rest.tokens().get(5).topLogprobs());
        }
        try (Session f16 = session(128)) {
            assertTrue(assertThrows(SessionFileException.class, () -> f16.load(file)).getMessage().contains("Q8_0/Q4_1"));
        }
    }

    /** A shifted session saves its history and kept prefix too, and goes on from them. */
    @Test
    void aShiftedSessionIsSavedWithWhatItForgot() {
        GenerationParams p = GenerationParams.defaults().withSeed(9L).withMaxTokens(70).withIgnoreEos(true)
                .withContextShift(ContextShift.SHIFT);
        Path file = tmp.resolve("shifted.session");
        try (Session a = session(48); Session b = session(48)) {
            GenerationResult r = a.generate("Once upon a time", p, null);
            assertTrue(r.forgottenTokens() > 0);
            a.save(file);
            b.load(file);
            assertEquals(a.forgottenTokens(), b.forgottenTokens());
            assertArrayEquals(Arrays.copyOf(a.cachedTokens(), a.position()), Arrays.copyOf(b.cachedTokens(), b.position()));
            int[] more = concat(concat(a.tokenize("Once upon a time"), r.tokenIds()), new int[0]);
            GenerationResult ra = a.generate(more, p.withMaxTokens(5), null);
            GenerationResult rb = b.generate(more, p.withMaxTokens(5), null);
            assertArrayEquals(ra.tokenIds(), rb.tokenIds());
            assertEquals(1, b.lastPrefillEvaluated());
        }
    }

    @Test
    void cutDamagedForeignAndOversizeFilesAreRefusedClearly() throws IOException {
        Path file = tmp.resolve("good.session");
        try (Session s = session(256)) {
            s.generate("Once upon a time", GenerationParams.greedy().withMaxTokens(8), null);
            s.save(file);
        }
        byte[] good = Files.readAllBytes(file);
        Path cut = tmp.resolve("cut.session");
        Files.write(cut, Arrays.copyOf(good, good.length - 100));
        Path damaged = tmp.resolve("damaged.session");
        byte[] flipped = good.clone();
        flipped[flipped.length / 2] ^= 0x40;
        Files.write(damaged, flipped);
        Path text = tmp.resolve("text.session");
        Files.writeString(text, "not a session at all");
        try (Session s = session(256)) {
            assertTrue(assertThrows(SessionFileException.class, () -> s.load(cut)).getMessage().contains("cut short"));
            assertTrue(assertThrows(SessionFileException.class, () -> s.load(damaged)).getMessage().contains("checksum"));
            assertTrue(assertThrows(SessionFileException.class, () -> s.load(text)).getMessage().contains("not a saved"));
            assertTrue(assertThrows(SessionFileException.class, () -> s.load(tmp.resolve("none"))).getMessage().contains("no saved"));
            assertEquals(0, s.position(), "a failed load leaves the session empty");
            s.load(file);
            assertTrue(s.position() > 0);
        }
        try (Session small = session(8)) {
            assertTrue(assertThrows(SessionFileException.class, () -> small.load(file)).getMessage().contains("larger context"));
        }
        try (Session f32 = model.newSession(SessionOptions.defaults().withContextSize(256).withThreads(2)
                .withKvCache(CacheType.F32))) {
            assertTrue(assertThrows(SessionFileException.class, () -> f32.load(file)).getMessage().contains("--cache-type"));
        }
        try (Model other = Model.load(TestData.model("stories-llama2-q4_0.gguf")); Session s = other.newSession(
                SessionOptions.defaults().withContextSize(256).withThreads(2))) {
            SessionFileException e = assertThrows(SessionFileException.class, () -> s.load(file));
            assertTrue(e.getMessage().contains("was saved with the model"), e.getMessage());
        }
    }
}
