package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Kernels;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.model.ModelWeights;

/**
 * {@link CudaForwardPass} end to end (bindings, uploads, launches, KV cache, partial offload) on the stand-in
 * driver whose kernels run in host emulation, against the CPU {@link ForwardPass}, on tiny random models of each
 * architecture: llama half offloaded (GPU layers, then CPU layers and output), qwen2 (biases, NEOX) on the GPU,
 * phi3 (fused projections, sliding window) half offloaded, gemma2 (soft-caps, post-norms, GELU, tied output) on
 * the GPU and gemma3 (q/k norms, second RoPE base) half offloaded. A prompt chunk then a decoded token, which reads
 * the cache the chunk wrote, then more tokens (where the whole model is on the GPU, these replay one captured CUDA
 * graph at moving positions). Skipped where nvcc is missing.
 */
class EmulatedForwardPassTest {

    @ParameterizedTest(name = "{0} with --gpu-layers {1}")
    @CsvSource({"llama, 1", "qwen2, 99", "phi3, 1", "gemma2, 99", "gemma3, 1"})
    void logitsMatchTheCpuForwardPass(String arch, int gpuLayers) throws Exception {
        TinyModel.with(arch, 42, (c, w, driver) -> {
            try (Kernels k = Kernels.create(1)) {
                ForwardPass cpu = new ForwardPass(c, w, k, new KvCache(c.layerCount(), 32, c.kvDim()), 8);
                List<String> notices = new ArrayList<>();
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8, gpuLayers,
                        1, notices::add)) {
                    int[] prompt = {3, 17, 95, 0, 42};
                    int v = TinyModel.VOCAB;
                    checkPrompt(c, w, cpu, gpu, prompt, arch, gpuLayers > 2);
                    int[] next = {7, 11, 2}; // with the whole model on the GPU: a graph captured, then replayed twice
                    for (int i = 0; i < next.length; i++) {
                        // one token goes through matrix-vector kernels, which on the CPU quantize activations to
                        // int8 (Q8_0, Q4_0, Q4_K, Q6_K) while the GPU's multiply in F32; over a whole pass that is
                        // held to the bound the real-GPU test uses for logits (CudaForwardPassTest)
                        check(cpu.forwardLast(next, i, 1, 5 + i), gpu.forwardLast(next, i, 1, 5 + i), v,
                                arch + " token " + i, 2e-3);
                    }
                    assertEquals(gpuLayers > 2, gpu.decodesWithGraph(), "decode through a CUDA graph");
                }
                assertEquals("CUDA: Host emulation, " + Math.min(gpuLayers, 2) + " of 2 layers on the GPU"
                        + (gpuLayers > 2 ? " with the output" : ""), notices.getFirst());
                // the Q5_0 gate projections of offloaded layers are the only tensors converted to F16 (phi3 has none)
                assertEquals(arch.equals("phi3") ? 0 : Math.min(gpuLayers, 2), notices.stream().filter(n -> n.contains("F16")).count(),
                        notices.toString());
            }
        });
    }

    /** Where the driver refuses to capture, decode launches each kernel and computes the same logits. */
    @org.junit.jupiter.api.Test
    void decodeWithoutGraphsWhereCaptureIsRefused() throws Exception {
        TinyModel.with("llama", 7, (c, w, driver) -> {
            try (Kernels k = Kernels.create(1)) {
                ForwardPass cpu = new ForwardPass(c, w, k, new KvCache(c.layerCount(), 32, c.kvDim()), 8);
                FakeDriver.refuseCaptures(1);
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8, 99, 1, s -> { })) {
                    int[] prompt = {3, 17, 95};
                    checkPrompt(c, w, cpu, gpu, prompt, "llama", true);
                    int[] next = {7, 11};
                    for (int i = 0; i < next.length; i++) {
                        check(cpu.forwardLast(next, i, 1, 3 + i), gpu.forwardLast(next, i, 1, 3 + i), TinyModel.VOCAB,
                                "token " + i, 2e-3);
                    }
                    assertEquals(false, gpu.decodesWithGraph(), "a refused capture leaves decode on direct launches");
                } finally {
                    FakeDriver.refuseCaptures(0);
                }
            }
        });
    }

    /**
     * Sliding-window layers keep a ring of window + chunk rows on the GPU (window 3, chunks of 8: 11 rows of the 32
     * positions): two prompt chunks, the second wrapping the ring, then eight decoded tokens give the CPU pass's
     * logits, and the pass says it can no longer go back to positions the rings have forgotten (a llama model, with
     * no window, can). gemma2 whole on the GPU, gemma3 and phi3 half offloaded.
     */
    @ParameterizedTest(name = "{0} with --gpu-layers {1}")
    @CsvSource({"gemma2, 99, true", "gemma3, 1, true", "phi3, 1, true", "llama, 99, false"})
    void slidingWindowLayersKeepARingOfTheirWindowAndAChunk(String arch, int gpuLayers, boolean ring) throws Exception {
        TinyModel.with(arch, 13, (c, w, driver) -> {
            // the scalar kernels multiply in F32 as the GPU does, so a whole-GPU pass is held to float rounding
            try (Kernels k = Kernels.scalar(1)) {
                ForwardPass cpu = new ForwardPass(c, w, k, new KvCache(c.layerCount(), 32, c.kvDim()), 8);
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8, gpuLayers,
                        1, s -> { })) {
                    int[] tokens = TinyModel.tokens(24, 37, 5);
                    for (int pos = 0; pos < 16; pos += 8) {
                        check(cpu.forwardAll(tokens, pos, 8, pos), gpu.forwardAll(tokens, pos, 8, pos),
                                8 * TinyModel.VOCAB,
                                arch + " chunk at " + pos, gpuLayers > 2 ? 1e-6 : 2e-3);
                    }
                    for (int pos = 16; pos < tokens.length; pos++) {
                        check(cpu.forwardLast(tokens, pos, 1, pos), gpu.forwardLast(tokens, pos, 1, pos),
                                TinyModel.VOCAB,
                                arch + " token at " + pos, gpuLayers > 2 ? 1e-6 : 2e-3);
                    }
                    assertEquals(!ring, gpu.canContinueAt(5), "going back to position 5");
                    assertTrue(gpu.canContinueAt(24) && gpu.canContinueAt(0));
                }
            }
        });
    }

    /**
     * A context shift on the device: 20 cached positions, 4 (or 2) kept, 8 (or 4, so the move goes in pieces)
     * forgotten, then tokens decoded at the shifted positions give the logits of the CPU pass shifted the same way;
     * llama whole on the GPU and half offloaded (the CPU layers shift as the CPU pass does); gemma2 and gemma3,
     * whose sliding layers keep rings of 11 rows on the GPU (keys turned in place, the ring's origin moved); smollm3,
     * whose fourth layer has no RoPE (its keys only move); mistral3, whose queries take a temperature that grows
     * with the position.
     */
    @ParameterizedTest(name = "{0} --gpu-layers {1}: keep {2}, forget {3}")
    @CsvSource({"llama, 99, 4, 8", "llama, 1, 2, 4", "gemma2, 99, 4, 8", "gemma3, 1, 2, 5", "smollm3, 99, 4, 8",
            "mistral3, 99, 4, 8"})
    void contextShiftOnTheDeviceMatchesTheCpuShift(String arch, int gpuLayers, int keep, int discard) throws Exception {
        TinyModel.with(arch, 17, (c, w, driver) -> {
            // the scalar kernels multiply in F32 as the GPU does, so a whole-GPU pass is held to float rounding
            try (Kernels k = Kernels.scalar(1)) {
                ForwardPass cpu = new ForwardPass(c, w, k, new KvCache(c.layerCount(), 32, c.kvDim()), 8);
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8, gpuLayers,
                        1, s -> { })) {
                    int[] tokens = TinyModel.tokens(24, 29, 3);
                    for (int pos = 0; pos < 20; pos += 8) {
                        int n = Math.min(8, 20 - pos);
                        cpu.forwardLast(tokens, pos, n, pos);
                        gpu.forwardLast(tokens, pos, n, pos);
                    }
                    assertTrue(gpu.shiftCache(keep, discard, 20), "shifted on the device");
                    cpu.shiftCache(keep, discard, 20);
                    for (int i = 20; i < tokens.length; i++) {
                        int pos = i - discard;
                        check(cpu.forwardLast(tokens, i, 1, pos), gpu.forwardLast(tokens, i, 1, pos), TinyModel.VOCAB,
                                arch + " token at " + pos + " after the shift", gpuLayers > 2 ? 1e-6 : 2e-3);
                    }
                }
            }
        });
    }

    /**
     * What saved sessions need on a GPU: the device cache of 20 positions (after a context shift, so rings have
     * moved their origin) copied into a heap cache, on which the CPU pass goes on as the GPU does; and a heap cache
     * the CPU filled copied into a fresh GPU pass, which then goes on as the CPU does. gemma2 (rings) whole on the
     * GPU, held to float rounding of the scalar CPU pass; llama half offloaded (the CPU layers' cache copied too).
     */
    @ParameterizedTest(name = "{0} with --gpu-layers {1}")
    @CsvSource({"gemma2, 99", "llama, 1"})
    void deviceCachesCopyToAndFromTheHeapForSavedSessions(String arch, int gpuLayers) throws Exception {
        TinyModel.with(arch, 23, (c, w, driver) -> {
            try (Kernels k = Kernels.scalar(1)) {
                double bound = gpuLayers > 2 ? 1e-6 : 2e-3;
                int[] tokens = TinyModel.tokens(30, 41, 7);
                dev.vellama.gguf.GgmlType f16 = dev.vellama.gguf.GgmlType.F16;
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8, gpuLayers, 1,
                        s -> { })) {
                    for (int pos = 0; pos < 24; pos += 8) {
                        gpu.forwardLast(tokens, pos, 8, pos);
                    }
                    assertTrue(gpu.shiftCache(2, 4, 24));
                    KvCache saved = KvCache.of(c, 0, 32, f16, f16, 8);
                    gpu.copyCacheTo(saved, 20);
                    ForwardPass cpu = new ForwardPass(c, w, k, saved, 8);
                    assertTrue(cpu.canContinueAt(20), "the heap cache goes on where the device's stands");
                    for (int i = 24; i < 28; i++) {
                        int pos = i - 4;
                        check(cpu.forwardLast(tokens, i, 1, pos), gpu.forwardLast(tokens, i, 1, pos), TinyModel.VOCAB,
                                arch + " after copying out, at " + pos, bound);
                    }
                }
                KvCache filled = KvCache.of(c, 0, 32, f16, f16, 8);
                ForwardPass cpu = new ForwardPass(c, w, k, filled, 8);
                for (int pos = 0; pos < 24; pos += 8) {
                    cpu.forwardLast(tokens, pos, 8, pos);
                }
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8, gpuLayers, 1,
                        s -> { })) {
                    gpu.copyCacheFrom(filled, 24);
                    assertTrue(gpu.canContinueAt(24));
                    for (int i = 24; i < 28; i++) {
                        check(cpu.forwardLast(tokens, i, 1, i), gpu.forwardLast(tokens, i, 1, i), TinyModel.VOCAB,
                                arch + " after copying in, at " + i, bound);
                    }
                }
            }
        });
    }

    /**
     * Q8_0 and Q4_0 caches on the GPU give the logits of the CPU pass with the same cache types: two prompt chunks,
     * decoded tokens, a context shift (keys decoded, turned and quantized again; values moved), tokens at the shifted
     * positions, then the device cache copied into a heap cache of the same types (a saved session) on which the CPU
     * pass goes on as the GPU does. llama whole on the GPU; gemma2 whole, whose sliding layers' rings turn their keys
     * in place; llama half offloaded, its CPU layers keeping the same types.
     */
    @ParameterizedTest(name = "{0} --gpu-layers {1}, keys {2}, values {3}")
    @CsvSource({"llama, 99, Q8_0, Q8_0", "gemma2, 99, Q4_0, Q8_0", "llama, 1, Q4_0, Q4_0"})
    void quantizedCachesGiveTheLogitsOfTheCpuPassWithTheSameTypes(String arch, int gpuLayers, GgmlType keys,
                                                                    GgmlType values) throws Exception {
        TinyModel.with(arch, 29, (c, w, driver) -> {
            try (Kernels k = Kernels.scalar(1)) {
                double bound = gpuLayers > 2 ? 1e-5 : 2e-3;
                int[] tokens = TinyModel.tokens(28, 43, 11);
                ForwardPass cpu = new ForwardPass(c, w, k, KvCache.of(c, 0, 32, keys, values, 8), 8);
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 1, 32, 8, gpuLayers,
                        1, keys, values, s -> { })) {
                    for (int pos = 0; pos < 16; pos += 8) {
                        check(cpu.forwardAll(tokens, pos, 8, pos), gpu.forwardAll(tokens, pos, 8, pos),
                                8 * TinyModel.VOCAB, arch + " chunk at " + pos, bound);
                    }
                    for (int pos = 16; pos < 20; pos++) {
                        check(cpu.forwardLast(tokens, pos, 1, pos), gpu.forwardLast(tokens, pos, 1, pos),
                                TinyModel.VOCAB, arch + " token at " + pos, bound);
                    }
                    assertTrue(gpu.shiftCache(2, 4, 20), "shifted on the device");
                    cpu.shiftCache(2, 4, 20);
                    for (int i = 20; i < 24; i++) {
                        check(cpu.forwardLast(tokens, i, 1, i - 4), gpu.forwardLast(tokens, i, 1, i - 4),
                                TinyModel.VOCAB, arch + " token at " + (i - 4) + " after the shift", bound);
                    }
                    KvCache saved = KvCache.of(c, 0, 32, keys, values, 8);
                    gpu.copyCacheTo(saved, 20);
                    ForwardPass resumed = new ForwardPass(c, w, k, saved, 8);
                    for (int i = 24; i < 27; i++) {
                        check(resumed.forwardLast(tokens, i, 1, i - 4), gpu.forwardLast(tokens, i, 1, i - 4),
                                TinyModel.VOCAB, arch + " after copying out, at " + (i - 4), bound);
                    }
                }
            }
        });
    }

    /**
     * Activation hooks on the GPU see what the CPU pass's see, at every point of every layer and at the same
     * positions (a prompt chunk, then decoded tokens), and their edits (a clamped neuron, a direction added to the
     * residual as a control vector adds it) change the logits as on the CPU: llama and gemma2 (post-norms) whole on
     * the GPU, phi3 (fused gate/up) half offloaded, its CPU layers hooked by the CPU pass.
     */
    @ParameterizedTest(name = "{0} with --gpu-layers {1}")
    @CsvSource({"llama, 99", "gemma2, 99", "phi3, 1"})
    void activationHooksSeeAndChangeWhatTheCpuPassDoes(String arch, int gpuLayers) throws Exception {
        TinyModel.with(arch, 31, (c, w, driver) -> {
            try (Kernels k = Kernels.scalar(1)) {
                double bound = gpuLayers > 2 ? 1e-6 : 2e-3;
                int[] tokens = {5, 17, 42, 8, 77, 3, 60, 21};
                java.util.Map<String, float[]> cpuSeen = new java.util.LinkedHashMap<>();
                java.util.Map<String, float[]> gpuSeen = new java.util.LinkedHashMap<>();
                ForwardPass cpu = new ForwardPass(c, w, k, new KvCache(c.layerCount(), 32, c.kvDim()), 8);
                cpu.hooks(hooks(c, cpuSeen));
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8, gpuLayers,
                        1, s -> { });
                     CudaForwardPass plain = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8, gpuLayers,
                             1, s -> { })) {
                    gpu.hooks(hooks(c, gpuSeen));
                    check(cpu.forwardAll(tokens, 0, 6, 0), gpu.forwardAll(tokens, 0, 6, 0), 6 * TinyModel.VOCAB,
                            arch + " hooked prompt", bound);
                    float[] unhooked = plain.forwardAll(tokens, 0, 6, 0);
                    double moved = CudaTestSupport.nmse(Arrays.copyOf(unhooked, 6 * TinyModel.VOCAB),
                            Arrays.copyOf(gpu.forwardAll(tokens, 0, 6, 0), 6 * TinyModel.VOCAB));
                    assertTrue(moved > 1e-4, "the hooks' edits change the logits: NMSE " + moved);
                    gpuSeen.clear(); // the prompt again, for the comparison above
                    cpuSeen.clear();
                    cpu.forwardAll(tokens, 0, 6, 0);
                    gpu.forwardAll(tokens, 0, 6, 0);
                    for (int pos = 6; pos < 8; pos++) {
                        check(cpu.forwardLast(tokens, pos, 1, pos), gpu.forwardLast(tokens, pos, 1, pos),
                                TinyModel.VOCAB, arch + " hooked token at " + pos, bound);
                    }
                    assertEquals(cpuSeen.keySet().stream().toList(), gpuSeen.keySet().stream().toList(),
                            "the same points, layers and positions, in the same order");
                    for (String key : cpuSeen.keySet()) {
                        double e = CudaTestSupport.nmse(cpuSeen.get(key), gpuSeen.get(key));
                        assertTrue(e < Math.max(bound, 1e-5), arch + " " + key + ": NMSE " + e);
                    }
                }
            }
        });
    }

    /**
     * Hooks that record every row at every point (copies, keyed by point, layer and position) and edit two: neuron
     * 5 of layer 1's gated activations clamped to 30, and layer 0's residual shifted by a fixed direction.
     */
    private static dev.vellama.runtime.model.ActivationHooks hooks(ModelConfig c, java.util.Map<String, float[]> seen) {
        var hooks = new dev.vellama.runtime.model.ActivationHooks(c.layerCount());
        float[] direction = new float[c.embeddingLength()];
        for (int i = 0; i < direction.length; i++) {
            direction[i] = (i % 7 - 3) * 0.5f;
        }
        hooks.add(dev.vellama.runtime.ActivationPoint.FFN_ACT, 1, false, (l, p, pos, v, off, len) -> v[off + 5] = 30f);
        hooks.add(dev.vellama.runtime.ActivationPoint.RESIDUAL, 0, true, (l, p, pos, v, off, len) -> {
            for (int i = 0; i < len; i++) {
                v[off + i] += direction[i];
            }
        });
        for (dev.vellama.runtime.ActivationPoint point : dev.vellama.runtime.ActivationPoint.values()) {
            hooks.add(point, -1, false, (l, p, pos, v, off, len) ->
                    seen.put(p + " layer " + l + " at " + pos, Arrays.copyOfRange(v, off, off + len)));
        }
        return hooks;
    }

    /**
     * Hidden states after the final norm (what embeddings pool) on the GPU: llama whole there within float rounding
     * of the scalar CPU pass, and half offloaded (normed on the CPU after its layers) within the decode bound.
     */
    @ParameterizedTest(name = "{0} with --gpu-layers {1}")
    @CsvSource({"llama, 99", "gemma3, 1"})
    void hiddenStatesMatchTheCpuPass(String arch, int gpuLayers) throws Exception {
        TinyModel.with(arch, 31, (c, w, driver) -> {
            try (Kernels k = Kernels.scalar(1)) {
                ForwardPass cpu = new ForwardPass(c, w, k, new KvCache(c.layerCount(), 32, c.kvDim()), 8);
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8, gpuLayers,
                        1, s -> { })) {
                    int[] tokens = {3, 17, 95, 0, 42, 8};
                    int n = tokens.length * c.embeddingLength();
                    check(cpu.forwardHidden(tokens, 0, tokens.length, 0), gpu.forwardHidden(tokens, 0, tokens.length, 0), n,
                            arch + " hidden states", gpuLayers > 2 ? 1e-6 : 2e-3);
                }
            }
        });
    }

    /**
     * The fused small kernels (each residual add norming x for the next block, RoPE with the cache store) give the
     * logits of the separate ones bit for bit: a prompt, then decoded tokens through the captured graph; llama and
     * gemma2 (post-norms) whole on the GPU, phi3 half offloaded (the last GPU layer hands x to the CPU unnormed).
     */
    @ParameterizedTest(name = "{0} with --gpu-layers {1}")
    @CsvSource({"llama, 99", "gemma2, 99", "phi3, 1"})
    void fusedKernelsGiveTheLogitsOfSeparateOnes(String arch, int gpuLayers) throws Exception {
        TinyModel.with(arch, 9, (c, w, driver) -> {
            List<float[]> fused = new ArrayList<>();
            List<float[]> separate = new ArrayList<>();
            for (List<float[]> into : List.of(fused, separate)) {
                if (into == separate) {
                    System.setProperty("vellama.cuda.fuse", "false");
                }
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8,
                        gpuLayers, 1, s -> { })) {
                    int[] prompt = {3, 17, 95, 0, 42};
                    into.add(gpu.forwardAll(prompt, 0, prompt.length, 0).clone());
                    int[] next = {7, 11, 2};
                    for (int i = 0; i < next.length; i++) {
                        into.add(gpu.forwardLast(next, i, 1, prompt.length + i).clone());
                    }
                } finally {
                    System.clearProperty("vellama.cuda.fuse");
                }
            }
            for (int i = 0; i < fused.size(); i++) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(separate.get(i), fused.get(i), arch + " call " + i);
            }
        });
    }

    /**
     * Prompt chunks on the tensor cores ({@code -Dvellama.cuda.matmul=mma}: F16 operands, F32 sums) on the tiny
     * llama and gemma2 models, whole on the GPU: the prompt's logits within F16 rounding of the CPU's F32 pass,
     * and the tokens decoded after it (matrix-vector kernels, reading the cache the chunk wrote) within the bound
     * decode is held to.
     */
    @ParameterizedTest
    @CsvSource({"llama", "gemma2"})
    void tensorCorePromptsStayWithinHalfRoundingOfTheF32Pass(String arch) throws Exception {
        System.setProperty("vellama.cuda.matmul", "mma");
        try {
            TinyModel.with(arch, 5, (c, w, driver) -> {
                try (Kernels scalar = Kernels.scalar(1)) {
                    ForwardPass f32 = new ForwardPass(c, w, scalar, new KvCache(c.layerCount(), 32, c.kvDim()), 8);
                    try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 32, 8, 99, 1,
                            s -> { })) {
                        int[] prompt = {3, 17, 95, 0, 42, 8, 61};
                        int n = prompt.length * TinyModel.VOCAB;
                        float[] got = Arrays.copyOf(gpu.forwardAll(prompt, 0, prompt.length, 0), n);
                        check(f32.forwardAll(prompt, 0, prompt.length, 0), got, n, arch + " prompt on tensor cores",
                                1e-4);
                        int[] next = {7, 11};
                        for (int i = 0; i < next.length; i++) {
                            check(f32.forwardLast(next, i, 1, prompt.length + i),
                                    gpu.forwardLast(next, i, 1, prompt.length + i),
                                    TinyModel.VOCAB, arch + " token " + i + " after it", 2e-3);
                        }
                    }
                }
            });
        } finally {
            System.clearProperty("vellama.cuda.matmul");
        }
    }

    /**
     * A prompt's logits on the GPU: with the whole model there, within float rounding of the CPU's F32 matmul (the
     * scalar kernels'; a prompt this short goes through the vector kernels' int8 decode kernels on the CPU, as do
     * the layers a partly offloaded pass leaves to the CPU); and within the decode bound of the CPU pass, which the
     * caller then goes on decoding with.
     */
    private static void checkPrompt(ModelConfig c, ModelWeights w, ForwardPass cpu, CudaForwardPass gpu, int[] prompt, String what,
            boolean wholeModel) {
        int n = prompt.length * TinyModel.VOCAB;
        float[] got = Arrays.copyOf(gpu.forwardAll(prompt, 0, prompt.length, 0), n);
        if (wholeModel) {
            try (Kernels scalar = Kernels.scalar(1)) {
                ForwardPass f32 = new ForwardPass(c, w, scalar, new KvCache(c.layerCount(), 32, c.kvDim()), 8);
                check(f32.forwardAll(prompt, 0, prompt.length, 0), got, n, what + " prompt against F32", 1e-6);
            }
        }
        check(cpu.forwardAll(prompt, 0, prompt.length, 0), got, n, what + " prompt", 2e-3);
    }

    /** The same logits within {@code bound} (NMSE): the emulated kernels compute exactly what the GPU would. */
    private static void check(float[] want, float[] got, int n, String what, double bound) {
        float[] a = Arrays.copyOf(want, n);
        float[] b = Arrays.copyOf(got, n);
        double e = CudaTestSupport.nmse(a, b);
        assertTrue(e < bound, what + ": logits NMSE " + e);
    }


}
