package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.VellamaException;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files written by the quantizer are llama-quantize's, byte for byte (SHA-256 of its outputs kept as test data). */
class ModelQuantizerTest {
    @TempDir
    Path dir;

    private static String sha256(Path file) throws IOException {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    d.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static ModelQuantizer.Options options(String type, List<String> flags) {
        ModelQuantizer.Options o = ModelQuantizer.Options.of(ModelQuantizer.FileType.parse(type)).withThreads(2);
        for (String f : flags) {
            o = switch (f) {
                case "--allow-requantize" -> o.withAllowRequantize(true);
                case "--pure" -> o.withPure(true);
                default -> throw new AssertionError(f);
            };
        }
        return o;
    }

    @Test
    void everyCaseIsLlamaQuantizesFileByteForByte() throws IOException {
        JsonNode cases;
        try (InputStream in = getClass().getResourceAsStream("/quantize-sha256.json")) {
            cases = new ObjectMapper().readTree(in).path("cases");
        }
        Path f16 = dir.resolve("stories-f16.gguf");
        ModelQuantizer.quantize(TestData.model("stories-llama2-q8_0.gguf"), f16,
                options("F16", List.of("--allow-requantize")), c -> { });
        for (JsonNode c : cases) {
            String input = c.path("input").asText();
            Path in = input.startsWith("f16:") ? f16 : TestData.model(input);
            Path out = dir.resolve("out.gguf");
            List<String> flags = new ObjectMapper().convertValue(c.path("options"), List.class);
            List<ModelQuantizer.Converted> seen = new CopyOnWriteArrayList<>();
            ModelQuantizer.quantize(in, out, options(c.path("type").asText(), flags), seen::add);
            assertEquals(c.path("sha256").asText(), sha256(out), input + " " + flags + " " + c.path("type").asText());
            assertTrue(!seen.isEmpty() && seen.get(seen.size() - 1).index() == seen.get(0).count(), "progress for every tensor");
        }
    }

    /** With llama-imatrix's importance matrix: the tensors llama-quantize --imatrix writes, and what it records. */
    @Test
    void withAnImportanceMatrixTheTensorsAreLlamaQuantizes() throws Exception {
        JsonNode m;
        try (InputStream in = getClass().getResourceAsStream("/quantize-sha256.json")) {
            m = new ObjectMapper().readTree(in).path("imatrix");
        }
        Path imatrixFile = dir.resolve("stories-q8_0.imatrix");
        try (InputStream in = getClass().getResourceAsStream("/stories-q8_0.imatrix")) {
            Files.copy(in, imatrixFile);
        }
        ImportanceMatrix im = ImportanceMatrix.read(imatrixFile);
        assertEquals(42, im.size());
        assertEquals(20, im.chunks());
        for (JsonNode c : m.path("cases")) {
            Path out = dir.resolve("imatrix.gguf");
            ModelQuantizer.quantize(TestData.model("stories-llama2-q8_0.gguf"), out,
                    options(c.path("type").asText(), List.of("--allow-requantize")).withImatrix(im), x -> { });
            try (dev.vellama.gguf.GgufFile f = dev.vellama.gguf.GgufFile.open(out)) {
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                for (dev.vellama.gguf.GgufTensor t : f.tensors()) {
                    d.update(t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
                assertEquals(c.path("tensor_sha256").asText(), HexFormat.of().formatHex(d.digest()), c.path("type").asText());
                assertEquals(42, f.metadata().getInt("quantize.imatrix.entries_count"));
                assertEquals(20, f.metadata().getInt("quantize.imatrix.chunks_count"));
                assertEquals(imatrixFile.toString(), f.metadata().getString("quantize.imatrix.file"));
            }
        }
        // the GGUF form llama-imatrix writes today: sums and counts per tensor
        dev.vellama.gguf.GgufWriter g = new dev.vellama.gguf.GgufWriter();
        for (String name : im.names()) {
            float[] v = im.of(name);
            java.nio.ByteBuffer sums = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (float x : v) {
                sums.putFloat(x * 4);
            }
            g.addTensor(name + ".in_sum2", dev.vellama.gguf.GgmlType.F32, new long[] {v.length, 1}, sums.array());
            g.addTensor(name + ".counts", dev.vellama.gguf.GgmlType.F32, new long[] {1, 1},
                    java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(4f).array());
        }
        Path ggufForm = dir.resolve("imatrix.gguf-form");
        g.write(ggufForm);
        ImportanceMatrix fromGguf = ImportanceMatrix.read(ggufForm);
        for (String name : im.names()) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(im.of(name), fromGguf.of(name), name);
        }
        Path cut = dir.resolve("cut.imatrix");
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(imatrixFile), 300));
        VellamaException e = assertThrows(VellamaException.class, () -> ImportanceMatrix.read(cut));
        assertTrue(e.getMessage().contains("cut"), e.getMessage());
    }

    @Test
    void theMixOfQ4_K_MIsLlamaCpps() throws IOException {
        Path out = dir.resolve("q4km.gguf");
        List<ModelQuantizer.Converted> seen = new CopyOnWriteArrayList<>();
        ModelQuantizer.quantize(TestData.model("stories-llama2-q8_0.gguf"), out, options("Q4_K_M", List.of("--allow-requantize")), seen::add);
        for (ModelQuantizer.Converted c : seen) {
            if (c.name().equals("output.weight")) {
                assertEquals(dev.vellama.gguf.GgmlType.Q6_K, c.to(), "the output matrix gets Q6_K");
            } else if (c.name().endsWith("_norm.weight")) {
                assertEquals(dev.vellama.gguf.GgmlType.F32, c.to(), "norms stay as they are");
            }
        }
        // 6 layers: llama.cpp's use_more_bits picks layer 2 ((2 - 6/8) % 3 == 2) and 5 (≥ 7·6/8) for attn_v and ffn_down
        for (String layer : List.of("0", "1", "2", "3", "4", "5")) {
            dev.vellama.gguf.GgmlType expected = layer.equals("2") || layer.equals("5") ? dev.vellama.gguf.GgmlType.Q6_K
                    : dev.vellama.gguf.GgmlType.Q4_K;
            for (String matrix : List.of("attn_v", "ffn_down")) {
                assertEquals(expected, seen.stream().filter(c -> c.name().equals("blk." + layer + "." + matrix + ".weight"))
                        .findFirst().orElseThrow().to(), layer + " " + matrix);
            }
        }
    }

    @Test
    void whatCannotBeWrittenIsRefusedClearly() {
        VellamaException e = assertThrows(VellamaException.class, () -> ModelQuantizer.quantize(TestData.model("stories-llama2-q8_0.gguf"),
                dir.resolve("x.gguf"), options("Q4_K_M", List.of()), c -> { }));
        assertTrue(e.getMessage().contains("--allow-requantize"), e.getMessage());
        e = assertThrows(VellamaException.class, () -> ModelQuantizer.quantize(TestData.model("stories-llama2-q8_0.gguf"),
                dir.resolve("x.gguf"), options("Q4_0", List.of("--allow-requantize")).withOutputType(dev.vellama.gguf.GgmlType.IQ2_XXS),
                c -> { }));
        assertTrue(e.getMessage().contains("cannot write IQ2_XXS"), e.getMessage());
        e = assertThrows(VellamaException.class, () -> ModelQuantizer.FileType.parse("Q9_X"));
        assertTrue(e.getMessage().contains("unknown quantization type"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve("x.gguf")), "nothing is written when a tensor cannot be");
    }
}
