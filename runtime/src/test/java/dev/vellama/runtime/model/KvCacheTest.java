package dev.vellama.runtime.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Quantizer;

/** Every cache type holds each head's slice of a position exactly as llama.cpp's quantizer rounds it. */
class KvCacheTest {
    private static final int HEADS = 3;
    private static final int HEAD_DIM = 64;
    private static final int WIDTH = HEADS * HEAD_DIM;
    private static final int POSITIONS = 40;

    /** What a slice reads back as: the type's own round trip (F32 none, F16 IEEE halves, blocks ggml's). */
    private static float[] roundTrip(GgmlType type, float[] x, int off, int n) {
        byte[] blocks = Quantizer.quantize(type, java.util.Arrays.copyOfRange(x, off, off + n));
        float[] back = new float[n];
        dev.vellama.quant.Dequantizer.dequantize(type, java.lang.foreign.MemorySegment.ofArray(blocks), 0, back, 0, n);
        return back;
    }

    /** Stores random keys and values at every position of {@code layer}, keeping them in the arrays given. */
    private static void fill(KvCache cache, int layer, long seed, float[][] keys, float[][] values) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int p = 0; p < POSITIONS; p++) {
            for (int i = 0; i < WIDTH; i++) {
                keys[p][i] = (float) r.nextGaussian();
                values[p][i] = (float) r.nextGaussian();
            }
            cache.store(layer, p, keys[p], 0, values[p], 0);
        }
    }

    @Test
    void eachTypeReadsBackItsOwnRounding() {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
                GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1}) {
            KvCache cache = new KvCache(2, 0, POSITIONS, WIDTH, HEAD_DIM, type, type);
            float[][] keys = new float[POSITIONS][WIDTH];
            float[][] values = new float[POSITIONS][WIDTH];
            fill(cache, 1, type.ordinal(), keys, values);
            int from = 5;
            int to = 37;
            for (int h = 0; h < HEADS; h++) {
                float[] k = new float[HEAD_DIM * (to - from)];
                float[] v = new float[(to - from) * HEAD_DIM];
                cache.copyKeys(1, h * HEAD_DIM, HEAD_DIM, from, to, k, to - from);
                cache.copyValues(1, h * HEAD_DIM, HEAD_DIM, from, to, v);
                for (int p = from; p < to; p++) {
                    float[] ek = roundTrip(type, keys[p], h * HEAD_DIM, HEAD_DIM);
                    float[] ev = roundTrip(type, values[p], h * HEAD_DIM, HEAD_DIM);
                    for (int d = 0; d < HEAD_DIM; d++) {
                        assertEquals(ek[d], k[d * (to - from) + p - from], type + " key");
                    }
                    assertArrayEquals(ev, java.util.Arrays.copyOfRange(v, (p - from) * HEAD_DIM, (p - from + 1) * HEAD_DIM), type + " value");
                }
            }
            assertEquals(2L * type.byteSize((long) POSITIONS * WIDTH) * 2, KvCache.bytesFor(2, POSITIONS, WIDTH, type, type));
        }
    }

    /** A shift of a block cache moves values as they are and stores each turned key rounded again. */
    @Test
    void aShiftOfABlockCacheTurnsKeysAndMovesValues() {
        KvCache cache = new KvCache(1, 0, POSITIONS, WIDTH, HEAD_DIM, GgmlType.Q8_0, GgmlType.Q4_0);
        float[][] keys = new float[POSITIONS][WIDTH];
        float[][] values = new float[POSITIONS][WIDTH];
        fill(cache, 0, 1, keys, values);
        float[] before = new float[HEAD_DIM * POSITIONS];
        cache.copyValues(0, HEAD_DIM, HEAD_DIM, 12, 30, before);
        cache.shift(2, 10, 30, (layer, row) -> {
            for (int i = 0; i < row.length; i++) {
                row[i] = -row[i]; // a "rotation" whose effect is plain to see
            }
        });
        float[] after = new float[HEAD_DIM * POSITIONS];
        cache.copyValues(0, HEAD_DIM, HEAD_DIM, 2, 20, after);
        assertArrayEquals(java.util.Arrays.copyOf(before, 18 * HEAD_DIM), java.util.Arrays.copyOf(after, 18 * HEAD_DIM));
        float[] k = new float[HEAD_DIM];
        cache.copyKeys(0, 0, HEAD_DIM, 2, 3, k, 1);
        float[] turned = roundTrip(GgmlType.Q8_0, keys[12], 0, HEAD_DIM);
        for (int d = 0; d < HEAD_DIM; d++) {
            turned[d] = -turned[d];
        }
        assertArrayEquals(roundTrip(GgmlType.Q8_0, turned, 0, HEAD_DIM), k);
        assertThrows(IllegalArgumentException.class, () -> new KvCache(1, 0, 8, 48, 48, GgmlType.Q8_0, GgmlType.Q8_0),
                "heads of 48 do not divide into blocks of 32");
        assertThrows(IllegalArgumentException.class, () -> new KvCache(1, 0, 8, 64, 64, GgmlType.Q4_K, GgmlType.F16));
    }
}
