package dev.vellama.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.runtime.Golden;
import dev.vellama.runtime.GoldenParityTest;
import dev.vellama.runtime.SessionOptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Tiny models of the families that have no llama.cpp file in the shared data, against llama.cpp itself: the files
 * {@link TinyModels} writes, and the logits and greedy tokens llama.cpp computed on those very files
 * ({@code golden/tiny-*.json}, each with the file's SHA-256 and how it was made). The prompt path (chunks through
 * the batched kernels) and the decode path (one token) are both compared.
 * <ul>
 * <li>qwen2moe: 8 experts, 2 per token, a shared expert: routing, stacked expert tensors, the shared gate.</li>
 * <li>gemma2 (26 layers, the count llama.cpp b4748 needs): √n_embd embeddings, GELU as llama.cpp's CPU backend
 *     computes it (through an F16 table), post-norms, soft-caps of 1.5 and 2.5, a window of 6 on even layers.</li>
 * <li>qwen3moe (renormalised expert weights, per-head q/k norms) and smollm3 (every fourth layer without RoPE),
 *     against a llama.cpp of 2026-08.</li>
 * <li>mistral3: YaRN with a log multiplier and the attention temperature that grows every 8 positions (2026-08
 *     llama.cpp).</li>
 * <li>glm4moe: a leading dense layer, sigmoid-scored experts chosen with a selection bias, renormalised and scaled,
 *     an always-on shared expert, partial RoPE (2026-08 llama.cpp).</li>
 * <li>llama4: a layer without RoPE, q and k normed on the others, sigmoid weights on the experts' inputs, a shared
 *     expert, experts every second layer (2026-08 llama.cpp; its chunks of 8192 and temperature stay out of reach of
 *     these prompts, and TiledAttentionTest checks the chunked mask).</li>
 * <li>qwen35 and qwen35moe: three linear-attention layers (convolution, gated delta rule with 4 value heads over
 *     2 key heads, gated output norm) before a gated attention layer with multi-section RoPE; the MoE one with
 *     renormalised experts and a gated shared expert (2026-08 llama.cpp). Prompts go in chunks of 16, so the
 *     recurrent state crosses chunk boundaries.</li>
 * <li>gemma4: sliding and global layers of different head sizes and kv heads, a pattern from the file, the global
 *     layers' "proportional" RoPE (rope_freqs of 1e30 past 4 pairs), values RMS-normed without weight (and the keys'
 *     projection where a layer has no attn_v), the last two layers reading earlier layers' caches, per-layer inputs,
 *     output scalars and a soft-capped output; with experts beside each dense block (fused gate|up, router input
 *     scale, down scales, their own norms) as 26B-A4B has them (2026-04 llama.cpp).</li>
 * <li>gemma3n: four AltUp streams (predicted, corrected, projected out and back), LAuReL, sparse gates, per-layer
 *     inputs, sliding and global layers alternating through a scalar pattern, the fixed soft-cap (2026-04 llama.cpp).</li>
 * <li>gpt-oss, F32 and with MXFP4 experts: attention sinks, q/k/v/output biases, a window of 6 on even layers, YaRN,
 *     router and expert biases, the softmax over the chosen experts' logits, the clamped SwiGLU (2026-08 llama.cpp).</li>
 * </ul>
 */
class TinyModelGoldenTest {
    @TempDir
    static Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            // spec, golden file, worst top-5 logit difference allowed (F32 weights on both sides: what differs is
            // the order of float sums; 0.0006 and 0.0011 when this was written)
            "qwen2moe, tiny-qwen2moe.json, 0.005",
            "gemma2-26-layers, tiny-gemma2.json, 0.005",
            "qwen3moe, tiny-qwen3moe.json, 0.005",
            "smollm3, tiny-smollm3.json, 0.005",
            "mistral3, tiny-mistral3.json, 0.005",
            "glm4moe, tiny-glm4moe.json, 0.005",
            "llama4, tiny-llama4.json, 0.005",
            "qwen35, tiny-qwen35.json, 0.005",
            "qwen35moe, tiny-qwen35moe.json, 0.005",
            "gemma4, tiny-gemma4.json, 0.005",
            "gemma4moe, tiny-gemma4moe.json, 0.005",
            // the sparse gates keep a gate's top 5% less the cutoff, a small sum that the post-norm scales back up, so
            // values near the cutoff weigh more: 0.0062 when this was written
            "gemma3n, tiny-gemma3n.json, 0.01",
            // F32 too, but biased experts past the SwiGLU clamps magnify the F16 cache's rounding flips: 0.0047
            "gpt-oss, tiny-gpt-oss.json, 0.01",
            // llama.cpp multiplies MXFP4 by Q8_0-quantized inputs, as the engine does; inputs that differ by ~1e-5
            // round to neighbouring int8 steps, and this model's experts (clamped SwiGLU, wide biases) magnify
            // that: 0.030 when this was written, against 0.0047 with the same model's F32 experts
            "gpt-oss-mxfp4, tiny-gpt-oss-mxfp4.json, 0.04",
    })
    void matchesLlamaCpp(String name, String goldenFile, float tolerance)
            throws IOException, URISyntaxException, NoSuchAlgorithmException {
        TinySpec spec = switch (name) {
            case "qwen2moe" -> TinyModels.qwen2moe();
            case "gemma2-26-layers" -> TinyModels.gemma2With2bLayerCount();
            case "qwen3moe" -> TinyModels.qwen3moe();
            case "smollm3" -> TinyModels.smollm3();
            case "mistral3" -> TinyModels.mistral3();
            case "glm4moe" -> TinyModels.glm4moe();
            case "llama4" -> TinyModels.llama4();
            case "qwen35" -> TinyModels.qwen35();
            case "qwen35moe" -> TinyModels.qwen35moe();
            case "gemma4" -> TinyModels.gemma4();
            case "gemma4moe" -> TinyModels.gemma4moe();
            case "gemma3n" -> TinyModels.gemma3n();
            case "gpt-oss" -> TinyModels.gptOss();
            case "gpt-oss-mxfp4" -> TinyModels.gptOssMxfp4();
            default -> throw new IllegalArgumentException(name);
        };
        Path json = Path.of(TinyModelGoldenTest.class.getResource("/golden/" + goldenFile).toURI());
        Path model = TinyModels.write(spec, dir);
        String expected = new ObjectMapper().readTree(json.toFile()).get("model_sha256").asText();
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(model)));
        assertEquals(expected, actual, spec + " is no longer the file llama.cpp's logits were computed on");
        GoldenParityTest.check(model, Golden.load(json), 0.05f, tolerance,
                SessionOptions.defaults().withContextSize(256).withBatchSize(16).withThreads(2));
    }
}
