package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Seeded draws against llama.cpp's own sampler chain (its common sampler's order: top-k, typical-p, top-p, min-p,
 * XTC, temperature, dist; or temperature and mirostat 1 or 2) on the same generated logits: 150 cases of
 * settings, 20 draws each from one sampler, every chosen token equal. How the data was made is in
 * {@code src/test/resources/sampler-differential/README.md}.
 */
class SamplerDifferentialTest {
    @Test
    void mersenneTwisterIsTheStandardOne() {
        // the C++ standard's check: the 10000th output of a default-constructed std::mt19937 (seed 5489)
        Mt19937 mt = new Mt19937(5489);
        long v = 0;
        for (int i = 0; i < 10000; i++) {
            v = mt.next();
        }
        assertEquals(4123659995L, v);
    }

    @Test
    void drawsEqualLlamaCpps() throws IOException {
        Map<String, String> expected = expected("expected.txt");
        List<String> cases = lines("cases.txt");
        assertEquals(150, cases.size());
        assertEquals(cases.size(), expected.size());
        List<String> bad = new ArrayList<>();
        int draws = 0;
        for (String line : cases) {
            String[] f = line.split(" ");
            String name = f[0];
            int vocab = Integer.parseInt(f[1]);
            GenerationParams p = GenerationParams.defaults().toBuilder()
                    .topK(Integer.parseInt(f[2])).topP(Float.parseFloat(f[3])).minP(Float.parseFloat(f[4]))
                    .typicalP(Float.parseFloat(f[5])).xtc(Float.parseFloat(f[6]), Float.parseFloat(f[7]))
                    .temperature(Float.parseFloat(f[8]))
                    .mirostat(Integer.parseInt(f[9]), Float.parseFloat(f[10]), Float.parseFloat(f[11]))
                    .repeatPenalty(1f).frequencyPenalty(0f).presencePenalty(0f)
                    .seed(Long.parseLong(f[12])).build();
            Mt19937 gen = new Mt19937(Long.parseLong(f[13]));
            float scale = Float.parseFloat(f[14]);
            int n = Integer.parseInt(f[15]);
            Sampler s = new Sampler(p, vocab);
            float[] logits = new float[vocab];
            int[] got = new int[n];
            for (int d = 0; d < n; d++) {
                for (int i = 0; i < vocab; i++) {
                    float u = gen.nextFloat();
                    logits[i] = scale * (u * u * u * u); // the driver's expression, in the same float operations
                }
                got[d] = s.sample(logits, new int[0], 0);
            }
            draws += n;
            String mine = Arrays.toString(got).replaceAll("[\\[\\],]", "");
            if (!mine.equals(expected.get(name))) {
                bad.add(line + "\n  llama.cpp " + expected.get(name) + "\n  vellama   " + mine);
            }
        }
        assertTrue(draws >= 3000);
        if (!bad.isEmpty()) {
            fail(bad.size() + " of " + cases.size() + " cases differ:\n" + String.join("\n", bad));
        }
    }

    /**
     * With a token history: llama.cpp's logit bias, penalties and DRY (no sequence breakers) before the chain,
     * the history accepted into it first and each chosen token after its draw; 100 cases of 20 draws.
     */
    @Test
    void drawsAfterBiasPenaltiesAndDryEqualLlamaCpps() throws IOException {
        Map<String, String> expected = expected("expected-penalties.txt");
        List<String> cases = lines("cases-penalties.txt");
        assertEquals(100, cases.size());
        List<String> bad = new ArrayList<>();
        for (String line : cases) {
            String[] f = line.split(" ");
            int vocab = Integer.parseInt(f[1]);
            Map<Integer, Float> bias = new java.util.HashMap<>();
            if (!f[19].equals("-")) {
                for (String b : f[19].split(",")) {
                    String[] kv = b.split(":");
                    bias.put(Integer.parseInt(kv[0]), Float.parseFloat(kv[1]));
                }
            }
            GenerationParams p = GenerationParams.defaults().toBuilder()
                    .topK(Integer.parseInt(f[2])).topP(Float.parseFloat(f[3])).minP(Float.parseFloat(f[4]))
                    .temperature(Float.parseFloat(f[5])).seed(Long.parseLong(f[6]))
                    .repeatPenalty(Float.parseFloat(f[10])).repeatLastN(Integer.parseInt(f[11]))
                    .frequencyPenalty(Float.parseFloat(f[12])).presencePenalty(Float.parseFloat(f[13]))
                    .dry(new GenerationParams.Dry(Float.parseFloat(f[14]), Float.parseFloat(f[15]), Integer.parseInt(f[16]),
                            Integer.parseInt(f[17]), List.of()))
                    .logitBias(bias).build();
            Mt19937 gen = new Mt19937(Long.parseLong(f[7]));
            float scale = Float.parseFloat(f[8]);
            int n = Integer.parseInt(f[9]);
            int hist = Integer.parseInt(f[18]);
            // the driver's history: a motif of favoured ids (0..19) repeated, every fifth token another favoured id
            int motif = 3 + (int) (gen.next() % 4);
            int[] m = new int[motif];
            for (int i = 0; i < motif; i++) {
                m[i] = (int) (gen.next() % 20);
            }
            int[] history = new int[hist + n];
            for (int i = 0; i < hist; i++) {
                history[i] = i % 5 == 4 ? (int) (gen.next() % 20) : m[i % motif];
            }
            Sampler s = new Sampler(p, vocab);
            float[] logits = new float[vocab];
            int[] got = new int[n];
            for (int d = 0; d < n; d++) {
                for (int i = 0; i < vocab; i++) {
                    float u = gen.nextFloat();
                    logits[i] = scale * (u * u) + (i < 20 ? 3.0f : 0.0f);
                }
                got[d] = s.sample(logits, history, hist + d);
                history[hist + d] = got[d];
            }
            String mine = Arrays.toString(got).replaceAll("[\\[\\],]", "");
            if (!mine.equals(expected.get(f[0]))) {
                bad.add(line + "\n  llama.cpp " + expected.get(f[0]) + "\n  vellama   " + mine);
            }
        }
        if (!bad.isEmpty()) {
            fail(bad.size() + " of " + cases.size() + " cases differ:\n" + String.join("\n", bad));
        }
    }

    /** llama.cpp's choices per case: the case's name, then its token ids. */
    private static Map<String, String> expected(String name) throws IOException {
        Map<String, String> expected = new LinkedHashMap<>();
        for (String line : lines(name)) {
            int at = line.indexOf(' ');
            expected.put(line.substring(0, at), line.substring(at + 1));
        }
        return expected;
    }

    private static List<String> lines(String name) throws IOException {
        try (InputStream in = SamplerDifferentialTest.class.getResourceAsStream("/sampler-differential/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource sampler-differential/" + name);
            }
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().filter(l -> !l.isBlank()).toList();
        }
    }
}
