package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufWriter;
import dev.vellama.quant.Dequantizer;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA adapters in llama.cpp's GGUF form, on the tiny Llama 3 model: a base model with an adapter at scale s gives
 * the logits of the model whose adapted weights were merged, W + s·(alpha/r)·B·A, written out as a file of its
 * own; scale 0 gives the base model's logits bit for bit; the batch engine applies them as a session does; and
 * files that cannot serve the model are refused with a clear error.
 */
class LoraAdapterTest {
    private static final List<String> ADAPTED = List.of("blk.0.attn_q.weight", "blk.0.attn_v.weight",
            "blk.1.ffn_down.weight", "blk.1.attn_output.weight");
    private static final int RANK = 4;
    private static final float ALPHA = 8;
    @TempDir
    static Path dir;
    private static Path base;
    private static Path adapter;
    private static Map<String, float[][]> a = new java.util.HashMap<>(); // per weight: [r][in]
    private static Map<String, float[][]> b = new java.util.HashMap<>(); // per weight: [out][r]

    /**
     * The tiny model with the adapted weights in F32 (dequantized exactly from Q8_0), so that a merged copy of the
     * same weights compares product for product; and a random adapter for them.
     */
    @BeforeAll
    static void write() throws IOException {
        base = dir.resolve("base.gguf");
        adapter = dir.resolve("adapter.gguf");
        Random random = new Random(7);
        try (GgufFile f = GgufFile.open(TestData.model("tiny-llama3-q8_0.gguf"))) {
            rewrite(f, base, 0f);
            GgufWriter w = new GgufWriter().put("general.architecture", GgufValue.string("llama"))
                    .put("general.type", GgufValue.string("adapter")).put("adapter.type", GgufValue.string("lora"))
                    .put("adapter.lora.alpha", GgufValue.float32(ALPHA));
            for (String name : ADAPTED) {
                GgufTensor t = f.tensor(name);
                int in = (int) t.columns();
                int out = (int) t.rows();
                float[][] down = new float[RANK][in];
                float[][] upw = new float[out][RANK];
                for (float[] row : down) {
                    for (int i = 0; i < in; i++) {
                        row[i] = (float) random.nextGaussian() * 0.2f;
                    }
                }
                for (float[] row : upw) {
                    for (int i = 0; i < RANK; i++) {
                        row[i] = (float) random.nextGaussian() * 0.2f;
                    }
                }
                a.put(name, down);
                b.put(name, upw);
                w.addTensor(name + ".lora_a", GgmlType.F32, new long[] {in, RANK}, f32(down));
                w.addTensor(name + ".lora_b", GgmlType.F32, new long[] {RANK, out}, f32(upw));
            }
            w.write(adapter);
        }
    }

    /** The model with the adapted weights in F32, each plus factor·B·A (0: the weights as they are). */
    private static void rewrite(GgufFile f, Path to, float factor) throws IOException {
        GgufWriter w = new GgufWriter().putAll(f.metadata());
        for (GgufTensor t : f.tensors()) {
            if (!ADAPTED.contains(t.name())) {
                w.addTensor(t.name(), t.type(), t.shape(), t.data());
                continue;
            }
            int in = (int) t.columns();
            int out = (int) t.rows();
            float[][] m = new float[out][in];
            for (int r = 0; r < out; r++) {
                Dequantizer.dequantize(t.type(), t.data(), (long) r * t.type().byteSize(in), m[r], 0, in);
                if (factor != 0) {
                    float[][] down = a.get(t.name());
                    float[][] upw = b.get(t.name());
                    for (int c = 0; c < in; c++) {
                        double delta = 0;
                        for (int k = 0; k < RANK; k++) {
                            delta += (double) upw[r][k] * down[k][c];
                        }
                        m[r][c] += (float) (factor * delta);
                    }
                }
            }
            w.addTensor(t.name(), GgmlType.F32, new long[] {in, out}, f32(m));
        }
        w.write(to);
    }

    private static byte[] f32(float[][] rows) {
        MemorySegment s = MemorySegment.ofArray(new byte[rows.length * rows[0].length * 4]);
        long at = 0;
        for (float[] row : rows) {
            for (float v : row) {
                s.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), at, v);
                at += 4;
            }
        }
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    private static float[] logits(Model m, int[] tokens, List<LoraAdapter.Applied> adapters) {
        try (Session s = m.newSession(SessionOptions.defaults().withContextSize(64).withThreads(2))) {
            if (adapters != null) {
                s.useAdapters(adapters);
            }
            return s.evaluateAll(tokens);
        }
    }

    @Test
    void anAdapterGivesTheLogitsOfTheMergedWeights() throws IOException {
        float scale = 0.75f;
        Path merged = dir.resolve("merged.gguf");
        try (GgufFile f = GgufFile.open(TestData.model("tiny-llama3-q8_0.gguf"))) {
            rewrite(f, merged, scale * ALPHA / RANK);
        }
        try (Model m = Model.load(base); Model mergedModel = Model.load(merged)) {
            LoraAdapter lora = LoraAdapter.load(m, adapter);
            assertEquals(ALPHA, lora.alpha());
            assertEquals(new java.util.HashSet<>(ADAPTED), lora.weights());
            int[] tokens = m.tokenizer().encode("Hello world, this is a test of adapters", true, true);
            float[] plain = logits(m, tokens, null);
            float[] adapted = logits(m, tokens, List.of(new LoraAdapter.Applied(lora, scale)));
            float[] expected = logits(mergedModel, tokens, null);
            double maxDiff = 0;
            double maxChange = 0;
            for (int i = 0; i < expected.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(adapted[i] - expected[i]));
                maxChange = Math.max(maxChange, Math.abs(adapted[i] - plain[i]));
            }
            assertTrue(maxChange > 0.05, "the adapter changes the logits: " + maxChange);
            assertTrue(maxDiff < 1e-3, "adapter against merged weights: " + maxDiff + " (the adapter moved them by " + maxChange + ")");
            // scale 0 and no adapter are the base model bit for bit; two halves are the whole
            assertArrayEquals(plain, logits(m, tokens, List.of(new LoraAdapter.Applied(lora, 0f))));
            assertArrayEquals(plain, logits(m, tokens, List.of()));
            float[] halves = logits(m, tokens, List.of(new LoraAdapter.Applied(lora, scale / 2), new LoraAdapter.Applied(lora, scale / 2)));
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], halves[i], 1e-3);
            }
        }
    }

    @Test
    void theBatchEngineAppliesAdaptersAsASessionDoes() throws Exception {
        try (Model m = Model.load(base)) {
            LoraAdapter lora = LoraAdapter.load(m, adapter);
            int[] prompt = m.tokenizer().encode("Once upon a time", true, true);
            List<LoraAdapter.Applied> applied = List.of(new LoraAdapter.Applied(lora, 1f));
            String alone;
            String plainAlone;
            try (Session s = m.newSession(SessionOptions.defaults().withContextSize(128).withThreads(2))) {
                plainAlone = s.generate(prompt, GenerationParams.greedy().withMaxTokens(12), null).text();
                s.useAdapters(applied);
                assertEquals(0, s.position(), "the session forgot what it held");
                alone = s.generate(prompt, GenerationParams.greedy().withMaxTokens(12), null).text();
            }
            assertNotEquals(plainAlone, alone, "the adapter changes the greedy text");
            try (BatchEngine engine = new BatchEngine(m, BatchEngine.Options.of(2, 256).withThreads(2))) {
                ResultFuture plain = new ResultFuture();
                engine.submit(prompt, GenerationParams.greedy().withMaxTokens(12), plain);
                assertEquals(plainAlone, plain.await().text());
                engine.useAdapters(applied);
                assertEquals(applied, engine.adapters());
                assertTrue(engine.slotStates().stream().allMatch(st -> st.cachedTokens() == 0), "the slots forgot their cells");
                ResultFuture[] two = {new ResultFuture(), new ResultFuture()};
                for (ResultFuture f : two) {
                    engine.submit(prompt, GenerationParams.greedy().withMaxTokens(12), f);
                }
                for (ResultFuture f : two) {
                    assertEquals(alone, f.await().text());
                }
                engine.useAdapters(List.of());
                ResultFuture off = new ResultFuture();
                engine.submit(prompt, GenerationParams.greedy().withMaxTokens(12), off);
                assertEquals(plainAlone, off.await().text());
            }
        }
    }

    @Test
    void requestsWithScalesOfTheirOwnRunBesideOthersInOneBatch() throws Exception {
        try (Model m = Model.load(base)) {
            LoraAdapter lora = LoraAdapter.load(m, adapter);
            int[] prompt = m.tokenizer().encode("Once upon a time", true, true);
            GenerationParams greedy = GenerationParams.greedy().withMaxTokens(12);
            String plain;
            String adapted;
            try (Session s = m.newSession(SessionOptions.defaults().withContextSize(128).withThreads(2))) {
                plain = s.generate(prompt, greedy, null).text();
                s.useAdapters(List.of(new LoraAdapter.Applied(lora, 1f)));
                adapted = s.generate(prompt, greedy, null).text();
            }
            try (BatchEngine engine = new BatchEngine(m, BatchEngine.Options.of(2, 256).withThreads(2))) {
                engine.useAdapters(List.of(new LoraAdapter.Applied(lora, 0f))); // loaded, off by default
                ResultFuture own = new ResultFuture();
                ResultFuture others = new ResultFuture();
                engine.submit(prompt, greedy, own, -1, new float[] {1f});
                engine.submit(prompt, greedy, others);
                assertEquals(adapted, own.await().text());
                assertEquals(plain, others.await().text());
                // a slot's cells serve only requests with the scales they were computed with
                ResultFuture again = new ResultFuture();
                engine.submit(prompt, greedy, again, -1, new float[] {1f});
                GenerationResult r = again.await();
                assertEquals(adapted, r.text());
                assertEquals(1, r.timings().promptTokens(), "it went to the slot whose cells had its scales");
                assertThrows(IllegalArgumentException.class, () -> engine.submit(prompt, greedy, new ResultFuture(), -1, new float[] {1f, 1f}));
                assertThrows(IllegalArgumentException.class, () -> engine.submit(prompt, greedy, new ResultFuture(), -1, new float[] {Float.NaN}));
            }
        }
    }

    @Test
    void filesThatCannotServeTheModelAreRefused() throws IOException {
        try (Model m = Model.load(base)) {
            UnsupportedModelException asModel = assertThrows(UnsupportedModelException.class, () -> Model.load(adapter));
            assertTrue(asModel.getMessage().contains("is a lora adapter, not a model"), asModel.getMessage());
            AdapterException notAdapter = assertThrows(AdapterException.class, () -> LoraAdapter.load(m, base));
            assertTrue(notAdapter.getMessage().contains("is not a LoRA adapter"), notAdapter.getMessage());
            Path text = dir.resolve("text.gguf");
            java.nio.file.Files.writeString(text, "not a gguf");
            assertTrue(assertThrows(AdapterException.class, () -> LoraAdapter.load(m, text)).getMessage().contains("not a GGUF file"));
            byte[] whole = java.nio.file.Files.readAllBytes(adapter);
            Path cut = dir.resolve("cut.gguf");
            java.nio.file.Files.write(cut, java.util.Arrays.copyOf(whole, whole.length - 100));
            AdapterException shortFile = assertThrows(AdapterException.class, () -> LoraAdapter.load(m, cut));
            assertTrue(shortFile.getMessage().contains("not a GGUF file"), shortFile.getMessage());
            assertMessage(m, "other-arch", "is an adapter for qwen2 models", w -> w.put("general.architecture", GgufValue.string("qwen2")));
            assertMessage(m, "missing-weight", "which this model does not have", w -> pair(w, "blk.9.attn_q.weight", 64, 64));
            assertMessage(m, "embeddings", "token embeddings", w -> pair(w, "token_embd.weight", 64, 128256));
            assertMessage(m, "bad-shape", "the pair for blk.0.attn_q.weight has shapes", w -> pair(w, "blk.0.attn_q.weight", 64, 32));
            assertMessage(m, "half-pair", "but no blk.0.attn_q.weight.lora_b", w -> w.addTensor("blk.0.attn_q.weight.lora_a",
                    GgmlType.F32, new long[] {64, RANK}, new byte[64 * RANK * 4]));
            assertMessage(m, "stray", "neither a .lora_a nor a .lora_b", w -> w.addTensor("blk.0.attn_q.weight",
                    GgmlType.F32, new long[] {64, 64}, new byte[64 * 64 * 4]));
            assertMessage(m, "empty", "adapts no weight", w -> { });
        }
    }

    private static void pair(GgufWriter w, String name, int in, int out) {
        w.addTensor(name + ".lora_a", GgmlType.F32, new long[] {in, RANK}, new byte[in * RANK * 4]);
        w.addTensor(name + ".lora_b", GgmlType.F32, new long[] {RANK, out}, new byte[RANK * out * 4]);
    }

    private static void assertMessage(Model m, String file, String expected, java.util.function.Consumer<GgufWriter> tensors)
            throws IOException {
        GgufWriter w = new GgufWriter().put("general.architecture", GgufValue.string("llama"))
                .put("general.type", GgufValue.string("adapter")).put("adapter.type", GgufValue.string("lora"));
        tensors.accept(w);
        Path p = dir.resolve(file + ".gguf");
        w.write(p);
        AdapterException e = assertThrows(AdapterException.class, () -> LoraAdapter.load(m, p), file);
        assertTrue(e.getMessage().contains(expected), file + ": " + e.getMessage());
    }
}
