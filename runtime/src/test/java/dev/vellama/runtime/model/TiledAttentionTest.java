package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.testdata.TestData;
import dev.vellama.quant.Kernels;

/**
 * Tiled attention with its online softmax against attention written out plainly (all scores, one softmax, in
 * double), over contexts of several tiles, for a chunk of tokens and for one, with and without a sliding window, with
 * Llama 4's chunks instead of a window (the chunk of 300 from 300 to 599 starts inside a tile and rows of one chunk of
 * tokens cross it), and with and without gpt-oss's sinks.
 */
class TiledAttentionTest {
    private static final int POSITIONS = 2 * TiledAttention.TILE + 190;

    @Test
    void equalsPlainAttentionOverSeveralTiles() throws Exception {
        try (GgufFile file = GgufFile.open(TestData.model("stories-llama2-q8_0.gguf")); Kernels k = Kernels.create(2)) {
            ModelConfig c = ModelConfig.fromGguf(file.metadata(), (int) file.tensor("token_embd.weight").rows());
            for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.Q8_0}) {
                check(c, k, new KvCache(1, 0, POSITIONS, c.kvDim(), c.headDim(), type, type));
            }
        }
    }

    /** F32 keys are read feature by feature, block types position by position: both against the plain sums. */
    private static void check(ModelConfig c, Kernels k, KvCache cache) {
        {
            SplittableRandom r = new SplittableRandom(4);
            float[] key = new float[c.kvDim()];
            float[] value = new float[c.kvDim()];
            for (int p = 0; p < POSITIONS; p++) {
                for (int i = 0; i < key.length; i++) {
                    key[i] = (float) r.nextGaussian();
                    value[i] = (float) r.nextGaussian();
                }
                cache.store(0, p, key, 0, value, 0);
            }
            TiledAttention attention = new TiledAttention(c, k, 16);
            float[] sinks = new float[c.headCount()];
            for (int h = 0; h < sinks.length; h++) {
                sinks[h] = (float) r.nextGaussian() * 3; // some above every score, some below
            }
            for (int[] shape : new int[][] {{9, POSITIONS - 9}, {1, POSITIONS - 1}, {16, 100}, {1, 40}, {16, 292}}) {
                for (int window : new int[] {Integer.MAX_VALUE, 300}) {
                    for (boolean chunked : new boolean[] {false, true}) {
                        for (float[] sink : new float[][] {null, sinks}) {
                            if (chunked && window == Integer.MAX_VALUE) {
                                continue;
                            }
                            int n = shape[0];
                            int pos = shape[1];
                            float[] q = new float[n * c.queryDim()];
                            for (int i = 0; i < q.length; i++) {
                                q[i] = (float) r.nextGaussian() * 0.5f;
                            }
                            float[] att = new float[n * c.queryDim()];
                            for (int part = 0; part < k.threads(); part++) {
                                attention.attend(0, part, k.threads(), cache, q, att, 0, n, pos, window, chunked, sink);
                            }
                            float[] expected = plain(c, cache, q, n, pos, window, chunked, sink);
                            for (int i = 0; i < att.length; i++) {
                                assertEquals(expected[i], att[i], 1e-4f, cache.keyType() + " n " + n + " pos " + pos + " window "
                                        + window + (chunked ? " chunked" : "") + (sink != null ? " sinks" : "") + " at " + i);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Each row sees its window (or, {@code chunked}, its chunk of {@code window} up to itself); a sink logit per head,
     * where given, joins each softmax's denominator.
     */
    private static float[] plain(ModelConfig c, KvCache cache, float[] q, int n, int pos, int window, boolean chunked, float[] sinks) {
        int hd = c.headDim();
        int qd = c.queryDim();
        int group = c.headCount() / c.headCountKv();
        float[] keys = new float[hd * POSITIONS];
        float[] values = new float[POSITIONS * hd];
        float[] out = new float[n * qd];
        for (int h = 0; h < c.headCount(); h++) {
            int g = h / group;
            cache.copyKeys(0, g * hd, hd, 0, POSITIONS, keys, POSITIONS);
            cache.copyValues(0, g * hd, hd, 0, POSITIONS, values);
            for (int t = 0; t < n; t++) {
                int end = pos + t + 1;
                int start = chunked ? (end - 1) / window * window : Math.max(0, end - window);
                double[] s = new double[end - start];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = start; p < end; p++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) {
                        dot += (double) q[t * qd + h * hd + d] * keys[d * POSITIONS + p];
                    }
                    s[p - start] = dot * c.attentionScale();
                    max = Math.max(max, s[p - start]);
                }
                if (sinks != null) {
                    max = Math.max(max, sinks[h]);
                }
                double sum = sinks == null ? 0 : Math.exp(sinks[h] - max);
                for (int i = 0; i < s.length; i++) {
                    s[i] = Math.exp(s[i] - max);
                    sum += s[i];
                }
                for (int d = 0; d < hd; d++) {
                    double v = 0;
                    for (int p = start; p < end; p++) {
                        v += s[p - start] / sum * values[p * hd + d];
                    }
                    out[t * qd + h * hd + d] = (float) v;
                }
            }
        }
        return out;
    }
}
