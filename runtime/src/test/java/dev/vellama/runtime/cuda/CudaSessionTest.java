package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import dev.vellama.runtime.CacheType;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.testdata.TestData;

/**
 * Sessions on the GPU through the public API: a session saved from the GPU and loaded into another GPU session
 * goes on with the tokens of never stopping; a GPU session's file also loads into a CPU session (whose tokens may
 * part from the GPU's by rounding, so only that it goes on is checked); with F16, Q8_0 and Q4_0 caches (a file
 * loads into a session of the same cache types). Skipped where there is no CUDA device.
 */
class CudaSessionTest {
    @TempDir
    Path tmp;

    private static Session session(Model model, SessionOptions.Device device, CacheType cache) {
        SessionOptions o = SessionOptions.defaults().withContextSize(256).withBatchSize(32).withThreads(2)
                .withKvCache(cache);
        return model.newSession(device == SessionOptions.Device.CUDA ? o.withDevice(device, SessionOptions.ALL_LAYERS) : o);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @ParameterizedTest
    @EnumSource(value = CacheType.class, names = {"F16", "Q8_0", "Q4_0"})
    void aSavedGpuSessionGoesOnAsIfItHadNeverStopped(CacheType cache) throws IOException {
        Assumptions.assumeTrue(CudaDriver.tryLoad().isPresent(), "CUDA test skipped: no driver");
        try (Model model = Model.load(TestData.model("stories-llama2-q8_0.gguf"))) {
            int[] prompt = model.tokenizer().encode("Once upon a time there was a little dog named Max.", true, true);
            GenerationParams p = GenerationParams.greedy();
            Path file = tmp.resolve("gpu.session");
            try (Session straight = session(model, SessionOptions.Device.CUDA, cache);
                 Session first = session(model, SessionOptions.Device.CUDA, cache);
                 Session second = session(model, SessionOptions.Device.CUDA, cache);
                 Session cpu = session(model, SessionOptions.Device.CPU, cache)) {
                GenerationResult all = straight.generate(prompt, p.withMaxTokens(20), null);
                GenerationResult half = first.generate(prompt, p.withMaxTokens(10), null);
                first.save(file);
                second.load(file);
                assertEquals(first.position(), second.position());
                GenerationResult rest = second.generate(concat(prompt, half.tokenIds()), p.withMaxTokens(10), null);
                assertArrayEquals(all.tokenIds(), concat(half.tokenIds(), rest.tokenIds()));
                cpu.load(file);
                assertEquals(first.position(), cpu.position());
                GenerationResult onCpu = cpu.generate(concat(prompt, half.tokenIds()), p.withMaxTokens(2), null);
                assertEquals(2, onCpu.tokenIds().length, "the CPU session goes on from the GPU's cache");
            }
        }
    }

    /** Hooks on a GPU session (public API) see, layer by layer and token by token, what a CPU session's see. */
    @org.junit.jupiter.api.Test
    void hooksOnAGpuSessionSeeWhatACpuSessionSees() throws IOException {
        Assumptions.assumeTrue(CudaDriver.tryLoad().isPresent(), "CUDA test skipped: no driver");
        try (Model model = Model.load(TestData.model("stories-llama2-q8_0.gguf"))) {
            int[] prompt = model.tokenizer().encode("Once upon a time", true, true);
            java.util.Map<String, float[]> onGpu = new java.util.LinkedHashMap<>();
            java.util.Map<String, float[]> onCpu = new java.util.LinkedHashMap<>();
            try (Session gpu = session(model, SessionOptions.Device.CUDA, CacheType.F16);
                 Session cpu = session(model, SessionOptions.Device.CPU, CacheType.F16)) {
                gpu.observe(dev.vellama.runtime.ActivationPoint.RESIDUAL, (l, p, pos, v, off, len) ->
                        onGpu.put(l + "@" + pos, Arrays.copyOfRange(v, off, off + len)));
                cpu.observe(dev.vellama.runtime.ActivationPoint.RESIDUAL, (l, p, pos, v, off, len) ->
                        onCpu.put(l + "@" + pos, Arrays.copyOfRange(v, off, off + len)));
                gpu.generate(prompt, GenerationParams.greedy().withMaxTokens(3), null);
                cpu.generate(prompt, GenerationParams.greedy().withMaxTokens(3), null);
                assertEquals(onCpu.keySet(), onGpu.keySet());
                org.junit.jupiter.api.Assertions.assertTrue(onGpu.size() >= model.config().layerCount() * prompt.length,
                        "every layer at every prompt position");
                for (String key : onCpu.keySet()) {
                    double e = CudaTestSupport.nmse(onCpu.get(key), onGpu.get(key));
                    org.junit.jupiter.api.Assertions.assertTrue(e < 1e-3, key + ": NMSE " + e);
                }
            }
        }
    }
}
