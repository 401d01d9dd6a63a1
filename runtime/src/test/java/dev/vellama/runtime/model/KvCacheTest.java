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

    /**
     * What a slice reads back as: the type's own round trip (F32 none, F16 IEEE halves, blocks as llama.cpp converts
     * them while it runs).
     */
    private static float[] roundTrip(GgmlType type, float[] x, int off, int n) {
        byte[] blocks = new byte[Math.toIntExact(type.byteSize(n))];
        Quantizer.quantizeReference(type, x, off, n, java.lang.foreign.MemorySegment.ofArray(blocks), 0);
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
                GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.IQ4_NL}) {
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

    /**
     * What a device pass copies in and out: a whole row of every head (writeRow, readRow) reads back as each head's
     * own rounding, in every type (block types keep heads apart, so a row is not one run of blocks).
     */
    @Test
    void wholeRowsOfEveryHeadReadBackAsWritten() {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_1,
                GgmlType.IQ4_NL}) {
            KvCache cache = new KvCache(2, 0, POSITIONS, WIDTH, HEAD_DIM, type, type);
            float[][] keys = new float[POSITIONS][WIDTH];
            float[][] values = new float[POSITIONS][WIDTH];
            fill(cache, 1, 7 + type.ordinal(), keys, values);
            float[] k = new float[WIDTH];
            float[] v = new float[WIDTH];
            for (int p : new int[] {0, 17, POSITIONS - 1}) {
                cache.writeRow(1, p, keys[p], 0, values[p], 0);
                cache.readRow(1, p, k, v);
                for (int h = 0; h < HEADS; h++) {
                    int at = h * HEAD_DIM;
                    assertArrayEquals(roundTrip(type, keys[p], at, HEAD_DIM),
                            java.util.Arrays.copyOfRange(k, at, at + HEAD_DIM), type + " keys of head " + h);
                    assertArrayEquals(roundTrip(type, values[p], at, HEAD_DIM),
                            java.util.Arrays.copyOfRange(v, at, at + HEAD_DIM), type + " values of head " + h);
                }
            }
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

    /**
     * Gemma 3 1B's shape (26 layers, one kv head of 256, every sixth layer global, a window of 512) at a 32k context
     * with chunks of 512: the 22 sliding layers keep 1024 cells each, so the F16 cache takes 150 MiB, not 832 MiB.
     */
    @Test
    void slidingLayersOfAGemma3ShapeKeepTheirWindowOnly() {
        int[] ff = new int[26];
        java.util.Arrays.fill(ff, 6912);
        dev.vellama.runtime.ModelConfig c = new dev.vellama.runtime.ModelConfig(dev.vellama.runtime.Architecture.GEMMA3, 1152,
                26, 4, 1, 256, ff, 32768, 262144, 1e-6f, 1e6f, 256, dev.vellama.runtime.RopeScaling.NONE, 1e4f, 0.0625f, 512,
                0f, 0f, dev.vellama.runtime.ModelConfig.Experts.NONE,
                dev.vellama.runtime.ModelConfig.AttentionTemperature.NONE, new int[0],
                dev.vellama.runtime.ModelConfig.DeltaNet.NONE, dev.vellama.runtime.ModelConfig.LayerLayout.NONE);
        assertEquals(26L * 32768 * 256 * 2 * 2, KvCache.bytesFor(c, 32768, GgmlType.F16, GgmlType.F16, 32768), "every position");
        assertEquals((4L * 32768 + 22L * 1024) * 256 * 2 * 2, KvCache.bytesFor(c, 32768, GgmlType.F16, GgmlType.F16, 512));
        assertEquals(157_286_400L, KvCache.bytesFor(c, 32768, GgmlType.F16, GgmlType.F16, 512));
        assertEquals((4L * 32768 + 22L * 1024) * 256 * 2 * 34 / 32, KvCache.bytesFor(c, 32768, GgmlType.Q8_0, GgmlType.Q8_0, 512));
    }

    /** A ring that has wrapped round streams its positions in order, and a smaller ring loads the end of them. */
    @Test
    void aWrappedRingStreamsItsPositionsInOrder() throws java.io.IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F16, GgmlType.F32, GgmlType.Q8_0}) {
            boolean[] sliding = {true};
            KvCache ring = new KvCache(1, 0, POSITIONS, WIDTH, HEAD_DIM, type, type, 5, sliding, 4); // 9 cells
            float[][] keys = new float[POSITIONS][WIDTH];
            float[][] values = new float[POSITIONS][WIDTH];
            fill(ring, 0, 11, keys, values);
            assertEquals(POSITIONS - 9, ring.slidingFrom());
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
            ring.transfer(0, POSITIONS - 9, POSITIONS, 0, new KvCache.CellStream() {
                public void halves(short[] a, int from, int n) throws java.io.IOException {
                    for (int i = 0; i < n; i++) out.writeShort(a[from + i]);
                }

                public void floats(float[] a, int from, int n) throws java.io.IOException {
                    for (int i = 0; i < n; i++) out.writeFloat(a[from + i]);
                }

                public void bytes(byte[] a, int from, int n) throws java.io.IOException {
                    out.write(a, from, n);
                }
            });
            KvCache smaller = new KvCache(1, 0, POSITIONS, WIDTH, HEAD_DIM, type, type, 5, sliding, 2); // 7 cells
            java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()));
            smaller.transfer(0, POSITIONS - 7, POSITIONS, 2, new KvCache.CellStream() {
                public void halves(short[] a, int from, int n) throws java.io.IOException {
                    for (int i = 0; i < n; i++) a[from + i] = in.readShort();
                }

                public void floats(float[] a, int from, int n) throws java.io.IOException {
                    for (int i = 0; i < n; i++) a[from + i] = in.readFloat();
                }

                public void bytes(byte[] a, int from, int n) throws java.io.IOException {
                    in.readFully(a, from, n);
                }

                public void skip(long n) throws java.io.IOException {
                    in.skipNBytes(n);
                }
            });
            assertEquals(0, in.available(), type + ": everything read");
            smaller.restoredFrom(POSITIONS - 7);
            float[] got = new float[7 * HEAD_DIM];
            for (int h = 0; h < HEADS; h++) {
                smaller.copyValues(0, h * HEAD_DIM, HEAD_DIM, POSITIONS - 7, POSITIONS, got);
                for (int p = POSITIONS - 7; p < POSITIONS; p++) {
                    assertArrayEquals(roundTrip(type, values[p], h * HEAD_DIM, HEAD_DIM),
                            java.util.Arrays.copyOfRange(got, (p - POSITIONS + 7) * HEAD_DIM, (p - POSITIONS + 8) * HEAD_DIM),
                            type + ": values of head " + h + " at " + p);
                }
                float[] k = new float[HEAD_DIM * 7];
                smaller.copyKeys(0, h * HEAD_DIM, HEAD_DIM, POSITIONS - 7, POSITIONS, k, 7);
                for (int p = POSITIONS - 7; p < POSITIONS; p++) {
                    float[] expected = roundTrip(type, keys[p], h * HEAD_DIM, HEAD_DIM);
                    for (int d = 0; d < HEAD_DIM; d++) {
                        assertEquals(expected[d], k[d * 7 + p - POSITIONS + 7], type + ": key " + d + " of head " + h + " at " + p);
                    }
                }
            }
            assertEquals(true, smaller.canContinueAt(POSITIONS));
            assertEquals(true, smaller.canContinueAt(POSITIONS - 3), "its window is positions 33..36");
            assertEquals(false, smaller.canContinueAt(POSITIONS - 4), "position 32 is no longer held");
        }
    }
}
