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
        Map<String, String> expected = new LinkedHashMap<>();
        for (String line : lines("expected.txt")) {
            int at = line.indexOf(' ');
            expected.put(line.substring(0, at), line.substring(at + 1));
        }
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

    private static List<String> lines(String name) throws IOException {
        try (InputStream in = SamplerDifferentialTest.class.getResourceAsStream("/sampler-differential/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource sampler-differential/" + name);
            }
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().filter(l -> !l.isBlank()).toList();
        }
    }
}
