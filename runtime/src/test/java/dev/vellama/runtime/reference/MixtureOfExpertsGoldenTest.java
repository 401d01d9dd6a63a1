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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mixture-of-experts model against llama.cpp itself: the tiny Qwen2 MoE (8 experts, 2 per token, a shared
 * expert) that {@link TinyModels#qwen2moe()} writes, and the logits and greedy tokens llama.cpp computed on that
 * very file ({@code golden/tiny-qwen2moe.json}, which records the file's SHA-256 and how it was made). The prompt
 * path (chunks through the batched kernels, experts grouped over the chunk's tokens) and the decode path (one
 * token, one matvec per chosen expert) are both compared.
 */
class MixtureOfExpertsGoldenTest {
    @TempDir
    static Path dir;

    @Test
    void tinyQwen2MoeMatchesLlamaCpp() throws IOException, URISyntaxException, NoSuchAlgorithmException {
        Path json = Path.of(MixtureOfExpertsGoldenTest.class.getResource("/golden/tiny-qwen2moe.json").toURI());
        Path model = TinyModels.write(TinyModels.qwen2moe(), dir);
        String expected = new ObjectMapper().readTree(json.toFile()).get("model_sha256").asText();
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(model)));
        assertEquals(expected, actual, "TinyModels.qwen2moe() no longer writes the file llama.cpp's logits were computed on");
        // F32 weights on both sides: what differs is the order of float sums (worst 0.0008 when this was written)
        GoldenParityTest.check(model, Golden.load(json), 0.05f, 0.005f,
                SessionOptions.defaults().withContextSize(256).withBatchSize(16).withThreads(2));
    }
}
