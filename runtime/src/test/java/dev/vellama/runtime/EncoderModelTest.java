package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.quant.Dequantizer;
import dev.vellama.testdata.TestData;
import dev.vellama.testdata.TinyBert;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BERT embeddings on a small BERT written here ({@link TinyBert}): llama-embedding's vectors for the same file
 * (kept as test data), and an independent double-precision forward pass written plainly in this test.
 */
class EncoderModelTest {
    @TempDir
    static Path dir;

    private static Path file;
    private static JsonNode reference;

    @BeforeAll
    static void writeModel() throws Exception {
        file = TinyBert.write(dir.resolve("tiny-bert.gguf"));
        try (InputStream in = EncoderModelTest.class.getResourceAsStream("/bert-embeddings.json")) {
            reference = new ObjectMapper().readTree(in);
        }
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        assertEquals(reference.path("model_sha256").asText(), sha, "the model is the file llama-embedding embedded");
    }

    private static double cosine(float[] a, double[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static double[] doubles(JsonNode v) {
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i).asDouble();
        }
        return out;
    }

    @Test
    void vectorsAreLlamaEmbeddingsForEachPooling() throws IOException {
        checkAgainst(file, reference, "bert");
    }

    /** Every case of a llama-embedding reference: the model's vectors at cosine ≥ 0.9999. */
    private static void checkAgainst(Path model, JsonNode ref, String what) throws IOException {
        List<String> texts = new ArrayList<>();
        ref.path("texts").forEach(t -> texts.add(t.asText()));
        try (EncoderModel m = EncoderModel.load(model, 2)) {
            for (JsonNode c : ref.path("cases")) {
                String p = c.path("pooling").asText();
                Embeddings.Options o = p.startsWith("model") ? Embeddings.Options.defaults()
                        : Embeddings.Options.defaults().withPooling(Embeddings.Pooling.parse(p));
                float[][] v = m.embed(texts, o);
                for (int i = 0; i < texts.size(); i++) {
                    double cos = cosine(v[i], doubles(c.path("embeddings").get(i)));
                    assertTrue(cos >= 0.9999, what + " " + p + " text " + i + ": cosine " + cos);
                }
            }
        }
    }

    /** nomic-bert's frame (RoPE, fused q|k|v, SwiGLU, no biases) on a seeded tiny model, next to llama-embedding. */
    @Test
    void nomicBertVectorsAreLlamaEmbeddings() throws Exception {
        Path nomic = TinyBert.writeNomic(dir.resolve("tiny-nomic.gguf"));
        JsonNode ref;
        try (InputStream in = EncoderModelTest.class.getResourceAsStream("/nomic-bert-embeddings.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(nomic)));
        assertEquals(ref.path("model_sha256").asText(), sha, "the model is the file llama-embedding embedded");
        checkAgainst(nomic, ref, "nomic-bert");
    }

    @Test
    void theEncoderAgreesWithADoublePrecisionReference() throws IOException {
        String text = "The cat sat on the mat.";
        try (EncoderModel m = EncoderModel.load(file, 2); GgufFile g = GgufFile.open(file)) {
            int[] tokens = m.tokenizer().encode(text, true, true);
            assertEquals(101, tokens[0]);
            assertEquals(102, tokens[tokens.length - 1]);
            double[] expected = referenceMeanEmbedding(g, tokens);
            float[] v = m.embed(List.of(text))[0];
            for (int j = 0; j < v.length; j++) {
                assertEquals(expected[j], v[j], 2e-4, "component " + j);
            }
        }
    }

    /** Texts are evaluated together in one pass; each vector is the one it gets alone. */
    @Test
    void textsTogetherGiveWhatEachGivesAlone() throws IOException {
        List<String> texts = List.of("Hello world", "The cat sat on the mat.", "a", "Vellama runs models on the JVM, fast.");
        try (EncoderModel m = EncoderModel.load(file, 2)) {
            float[][] together = m.embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                float[] alone = m.embed(List.of(texts.get(i)))[0];
                for (int j = 0; j < alone.length; j++) {
                    assertEquals(alone[j], together[i][j], 1e-6f, "text " + i + " component " + j);
                }
            }
        }
    }

    @Test
    void tooLongAndForeignFilesAreRefused() throws IOException {
        try (EncoderModel m = EncoderModel.load(file, 2)) {
            String longText = "word ".repeat(600);
            assertThrows(ContextOverflowException.class, () -> m.embed(List.of(longText)));
        }
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> EncoderModel.load(TestData.model("tiny-llama3-q8_0.gguf"), 2));
        assertTrue(e.getMessage().contains("not an encoder"), e.getMessage());
    }

    // ---- a plain double-precision BERT, for the arithmetic ----

    private static double[] t(GgufFile g, String name) {
        GgufTensor t = g.tensor(name);
        float[] f = new float[(int) t.elementCount()];
        Dequantizer.dequantize(t.type(), t.data(), 0, f, 0, f.length);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static void layerNorm(double[] x, int off, int n, double[] w, double[] b) {
        double mean = 0;
        for (int j = 0; j < n; j++) {
            mean += x[off + j] / n;
        }
        double var = 0;
        for (int j = 0; j < n; j++) {
            var += (x[off + j] - mean) * (x[off + j] - mean) / n;
        }
        for (int j = 0; j < n; j++) {
            x[off + j] = (x[off + j] - mean) / Math.sqrt(var + 1e-12) * w[j] + b[j];
        }
    }

    /** y[t][r] = Σ_c W[r][c]·x[t][c] + b[r], W row-major [rows][cols] as GGUF stores it. */
    private static double[] linear(double[] x, int n, double[] w, double[] b, int rows, int cols) {
        double[] y = new double[n * rows];
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                double s = b[r];
                for (int c = 0; c < cols; c++) {
                    s += w[r * cols + c] * x[t * cols + c];
                }
                y[t * rows + r] = s;
            }
        }
        return y;
    }

    private static double[] referenceMeanEmbedding(GgufFile g, int[] tokens) {
        int d = TinyBert.D;
        int ff = TinyBert.FF;
        int n = tokens.length;
        double[] emb = t(g, "token_embd.weight");
        double[] types = t(g, "token_types.weight");
        double[] pos = t(g, "position_embd.weight");
        double[] x = new double[n * d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x[i * d + j] = emb[tokens[i] * d + j] + types[j] + pos[i * d + j];
            }
            layerNorm(x, i * d, d, t(g, "token_embd_norm.weight"), t(g, "token_embd_norm.bias"));
        }
        int hd = d / TinyBert.HEADS;
        for (int l = 0; l < TinyBert.LAYERS; l++) {
            String p = "blk." + l + ".";
            double[] q = linear(x, n, t(g, p + "attn_q.weight"), t(g, p + "attn_q.bias"), d, d);
            double[] k = linear(x, n, t(g, p + "attn_k.weight"), t(g, p + "attn_k.bias"), d, d);
            double[] v = linear(x, n, t(g, p + "attn_v.weight"), t(g, p + "attn_v.bias"), d, d);
            double[] a = new double[n * d];
            for (int h = 0; h < TinyBert.HEADS; h++) {
                for (int i = 0; i < n; i++) {
                    double[] s = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        for (int c = 0; c < hd; c++) {
                            s[j] += q[i * d + h * hd + c] * k[j * d + h * hd + c];
                        }
                        s[j] /= Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < n; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j < n; j++) {
                        for (int c = 0; c < hd; c++) {
                            a[i * d + h * hd + c] += s[j] / sum * v[j * d + h * hd + c];
                        }
                    }
                }
            }
            double[] o = linear(a, n, t(g, p + "attn_output.weight"), t(g, p + "attn_output.bias"), d, d);
            for (int i = 0; i < n * d; i++) {
                o[i] += x[i];
            }
            for (int i = 0; i < n; i++) {
                layerNorm(o, i * d, d, t(g, p + "attn_output_norm.weight"), t(g, p + "attn_output_norm.bias"));
            }
            double[] up = linear(o, n, t(g, p + "ffn_up.weight"), t(g, p + "ffn_up.bias"), ff, d);
            for (int i = 0; i < up.length; i++) {
                double u = up[i];
                up[i] = 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u * u * u)));
            }
            double[] down = linear(up, n, t(g, p + "ffn_down.weight"), t(g, p + "ffn_down.bias"), d, ff);
            for (int i = 0; i < n * d; i++) {
                down[i] += o[i];
            }
            for (int i = 0; i < n; i++) {
                layerNorm(down, i * d, d, t(g, p + "layer_output_norm.weight"), t(g, p + "layer_output_norm.bias"));
            }
            x = down;
        }
        double[] mean = new double[d];
        double len = 0;
        for (int j = 0; j < d; j++) {
            for (int i = 0; i < n; i++) {
                mean[j] += x[i * d + j] / n;
            }
            len += mean[j] * mean[j];
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= Math.sqrt(len);
        }
        return mean;
    }
}
