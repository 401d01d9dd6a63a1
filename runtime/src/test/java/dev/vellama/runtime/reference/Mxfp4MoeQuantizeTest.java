package dev.vellama.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelQuantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vellama quantize ... MXFP4_MOE}, gpt-oss's mix, against a 2026-08 llama-quantize on the same F32 file
 * ({@code quantize-mxfp4-moe.json}): every tensor gets the same type and the same bytes (the stacked experts in
 * MXFP4, every other matrix, the output and token embedding too, in Q8_0, vectors and the router left in F32).
 */
class Mxfp4MoeQuantizeTest {
    @TempDir
    Path dir;

    @Test
    void gptOssMixMatchesLlamaQuantizeTensorForTensor() throws IOException, URISyntaxException, NoSuchAlgorithmException {
        Path in = TinyModels.write(TinyModels.gptOss(), dir);
        Path out = dir.resolve("gpt-oss-mxfp4-moe.gguf");
        ModelQuantizer.quantize(in, out, ModelQuantizer.Options.of(ModelQuantizer.FileType.parse("MXFP4_MOE")).withThreads(2),
                c -> { });
        JsonNode want = new ObjectMapper().readTree(Path.of(getClass().getResource("/quantize-mxfp4-moe.json").toURI()).toFile())
                .get("tensors");
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(want.size(), f.tensors().size());
            for (GgufTensor t : f.tensors()) {
                JsonNode w = want.get(t.name());
                assertEquals(w.get("type").asInt(), t.type().id(), t.name());
                byte[] data = t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
                assertEquals(w.get("sha256").asText(), sha, t.name() + " (" + t.type() + ")");
            }
        }
        try (Model m = Model.load(out)) { // and the engine runs what it wrote
            assertEquals(8, m.config().experts().count());
        }
    }
}
