package dev.vellama.quant;

import static dev.vellama.quant.KernelTestSupport.nmse;
import static dev.vellama.quant.KernelTestSupport.randomFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.vellama.gguf.GgmlType;
import jdk.incubator.vector.VectorSpecies;

/** Every Vector API kernel against the scalar reference, at each forced vector width, on odd and even sizes. */
class VectorKernelsTest {
    private static final GgmlType[] TYPES = WeightMatrix.SUPPORTED_TYPES.stream().sorted().toArray(GgmlType[]::new);
    private static final int[] SIZES = {1, 7, 16, 33, 64, 100, 129};

    private static Kernels scalar;
    private static final List<Kernels> opened = new ArrayList<>();

    @BeforeAll
    static void open() {
        scalar = Kernels.scalar(2);
    }

    @AfterAll
    static void closeAll() {
        scalar.close();
        opened.forEach(Kernels::close);
    }

    private static Kernels vector(VectorSpecies<Float> species) {
        Kernels k = VectorKernelsFactory.withSpecies(species, 2);
        opened.add(k);
        return k;
    }

    static Stream<Arguments> typesAndWidths() {
        return KernelTestSupport.widths().flatMap(s -> Stream.of(TYPES).map(t -> Arguments.of(t, s)));
    }

    /** Columns that are an odd number of blocks where the block size allows it. */
    private static int colsFor(GgmlType type) {
        return type.blockSize() == 1 ? 101 : type.blockSize() == 32 ? 32 * 13 : 256 * 3;
    }

    /** test-backend-ops' bound for quantized products; float weights only differ by summation order. */
    private static double bound(GgmlType type) {
        return type.isQuantized() ? 5e-4 : 1e-9;
    }

    @ParameterizedTest
    @MethodSource("typesAndWidths")
    void matvecMatchesScalar(GgmlType type, VectorSpecies<Float> species) {
        int rows = 37;
        int cols = colsFor(type);
        WeightMatrix w = SyntheticWeights.heap(type, rows, cols, 11);
        float[] x = randomFloats(cols, 5);
        float[] want = new float[rows];
        float[] got = new float[rows];
        scalar.matvec(w, x, want);
        vector(species).matvec(w, x, got);
        double e = nmse(want, got);
        assertTrue(e < bound(type), type + " at " + species.vectorBitSize() + " bits: NMSE " + e);
    }

    @ParameterizedTest
    @MethodSource("typesAndWidths")
    void matmulMatchesScalar(GgmlType type, VectorSpecies<Float> species) {
        int rows = 27;
        int cols = colsFor(type);
        WeightMatrix w = SyntheticWeights.heap(type, rows, cols, 12);
        Kernels k = vector(species);
        for (int n : new int[] {2, 5, 9}) {
            float[] x = randomFloats(n * cols, 6 + n);
            float[] want = new float[n * rows];
            float[] got = new float[n * rows];
            scalar.matmul(w, x, n, want);
            k.matmul(w, x, n, got);
            double e = nmse(want, got);
            assertTrue(e < bound(type), type + " n=" + n + " at " + species.vectorBitSize() + " bits: NMSE " + e);
        }
    }

    /**
     * Continuous batching decodes several sequences with one matvecMany: each token's rows must be exactly, bit for
     * bit, what its own matvec gives, for every type, width and count (Q4_0 takes a four-token kernel, three
     * left-over tokens too, one or two singly; 150 rows cross the 64-row blocks).
     */
    @ParameterizedTest
    @MethodSource("typesAndWidths")
    void matvecManyIsEachTokensOwnMatvecBitForBit(GgmlType type, VectorSpecies<Float> species) {
        // 160 and 224 rows: whole groups of the packed Q4_0 layout at every width; 224 leaves three groups in the
        // last pass at 512 bits, so the four-token kernel takes a pair and a single group there
        for (int rows : new int[] {150, 160, 224}) {
            assertManyIsEachOwnMatvec(type, species, rows);
        }
    }

    private void assertManyIsEachOwnMatvec(GgmlType type, VectorSpecies<Float> species, int rows) {
        int cols = type.blockSize() == 1 ? 101 : type.blockSize() == 32 ? 32 * 13 : 256 * 3;
        WeightMatrix w = SyntheticWeights.heap(type, rows, cols, 13);
        Kernels k = vector(species);
        for (int n : new int[] {1, 2, 3, 4, 5, 7, 9}) {
            float[] x = randomFloats(n * cols, 20 + n);
            float[] many = new float[n * rows];
            k.matvecMany(w, x, n, many);
            for (int t = 0; t < n; t++) {
                float[] one = new float[rows];
                k.matvec(w, java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), one);
                assertArrayEquals(one, java.util.Arrays.copyOfRange(many, t * rows, (t + 1) * rows),
                        type + " " + rows + " rows, n=" + n + " token " + t + " at " + species.vectorBitSize() + " bits");
            }
        }
    }

    /**
     * Q4_0 matvec, in the packed design or not, is ggml's arithmetic: activations quantized to Q8_0, each block's
     * integer dot product exact, and each row summing fma(block sum, d·dx, acc) block after block. The packed design
     * (whole groups of rows) gives exactly those bits; a shape without whole groups takes the int8 design, within
     * float rounding of them. Random blocks include nibbles of 0 and 15 against activations of ±127 (the largest
     * block sums). At 128 bits Q4_0 keeps the float ("fma") design, so the widths here are those of the int8 one.
     */
    @ParameterizedTest
    @MethodSource("int8Widths")
    void q4_0MatvecIsGgmlsBlockSumsInOrder(VectorSpecies<Float> species) {
        int cols = 32 * 40;
        // 224 rows: seven groups at 512 bits (four at once, then two, then one), fourteen at 256
        for (int rows : new int[] {64, 96, 37, 224}) {
            WeightMatrix w = SyntheticWeights.heap(GgmlType.Q4_0, rows, cols, rows);
            float[] x = randomFloats(cols, 3);
            x[5] = 40f; // a block whose largest value rounds to ±127
            x[70] = -40f;
            float[] got = new float[rows];
            vector(species).matvec(w, x, got);
            float[] want = ggmlQ4_0Matvec(w, x);
            boolean whole = rows % (2 * species.length()) == 0;
            for (int r = 0; r < rows; r++) {
                if (whole) {
                    assertEquals(want[r], got[r], 0f, rows + " rows, row " + r + " at " + species.vectorBitSize() + " bits");
                } else {
                    assertEquals(want[r], got[r], 1e-4f * (1 + Math.abs(want[r])), "row " + r);
                }
            }
        }
    }

    /**
     * Packed Q4_K matvec is exactly this order of operations on each row: activations to int8 as ggml's q8_K
     * ({@link #nearestInt8}), then per super-block and nibble column j, two 16-value halves each adding
     * fma(Σ q·x, d·sc·dx, acc) for sub-block 2j and then 2j + 1, then the two min terms fma(dmin·m, −dx·Σx, acc).
     * Integer sums are exact, so the bits are fixed; a matrix without whole groups keeps the int8 design.
     */
    @ParameterizedTest
    @MethodSource("int8Widths")
    void q4_KPackedMatvecIsItsIntegerSumsInOrder(VectorSpecies<Float> species) {
        int cols = 256 * 5;
        int rows = 4 * species.length();
        WeightMatrix w = SyntheticWeights.heap(GgmlType.Q4_K, rows, cols, 77);
        float[] x = randomFloats(cols, 8);
        float[] got = vectorMatvec(species, w, x);
        int[] xq = new int[cols];
        float[] dx = new float[cols / 32];
        float[] sx = new float[cols / 32];
        nearestInt8(x, xq, dx, sx);
        java.lang.foreign.MemorySegment seg = w.data();
        for (int r = 0; r < rows; r++) {
            float acc = 0;
            for (int sb = 0; sb < cols / 256; sb++) {
                long o = w.rowOffset(r) + 144L * sb;
                float d = Half.toFloat(seg.get(BlockLayouts.SHORT_LE, o));
                float dmin = Half.toFloat(seg.get(BlockLayouts.SHORT_LE, o + 2));
                for (int j = 0; j < 4; j++) {
                    int lo = BlockLayouts.scaleMinK4(seg, o + 4, 2 * j);
                    int hi = BlockLayouts.scaleMinK4(seg, o + 4, 2 * j + 1);
                    int sub = 8 * sb + 2 * j;
                    for (int h = 0; h < 32; h += 16) {
                        int sLo = 0;
                        int sHi = 0;
                        for (int k = h; k < h + 16; k++) {
                            int q = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 16 + 32 * j + k) & 0xFF;
                            sLo += (q & 15) * xq[256 * sb + 64 * j + k];
                            sHi += (q >> 4) * xq[256 * sb + 64 * j + 32 + k];
                        }
                        acc = Math.fma((float) sLo, d * (lo & 0xFF) * dx[sub], acc);
                        acc = Math.fma((float) sHi, d * (hi & 0xFF) * dx[sub + 1], acc);
                    }
                    acc = Math.fma(dmin * (lo >> 8), -sx[sub], acc);
                    acc = Math.fma(dmin * (hi >> 8), -sx[sub + 1], acc);
                }
            }
            assertEquals(acc, got[r], 0f, "row " + r + " at " + species.vectorBitSize() + " bits");
        }
    }

    /**
     * Packed Q5_K matvec is exactly this order on each row: activations to int8 as ggml's q8_K
     * ({@link #nearestInt8}); per super-block, for elements 0..15 then 16..31 of sub-blocks 0..7 in turn
     * fma(Σ (q − 16)·x, d·sc·dx, acc), then each sub-block's fma(dmin·m − 16·d·sc, −dx·Σx, acc); the integer
     * sums exact.
     */
    @ParameterizedTest
    @MethodSource("int8Widths")
    void q5_KPackedMatvecIsItsIntegerSumsInOrder(VectorSpecies<Float> species) {
        int cols = 256 * 5;
        int rows = 4 * species.length();
        WeightMatrix w = SyntheticWeights.heap(GgmlType.Q5_K, rows, cols, 79);
        float[] x = randomFloats(cols, 10);
        float[] got = vectorMatvec(species, w, x);
        int[] xq = new int[cols];
        float[] dx = new float[cols / 32];
        float[] sx = new float[cols / 32];
        nearestInt8(x, xq, dx, sx);
        java.lang.foreign.MemorySegment seg = w.data();
        for (int r = 0; r < rows; r++) {
            float acc = 0;
            for (int sb = 0; sb < cols / 256; sb++) {
                long o = w.rowOffset(r) + 176L * sb;
                float d = Half.toFloat(seg.get(BlockLayouts.SHORT_LE, o));
                float dmin = Half.toFloat(seg.get(BlockLayouts.SHORT_LE, o + 2));
                int[] sm = new int[8];
                for (int s = 0; s < 8; s++) {
                    sm[s] = BlockLayouts.scaleMinK4(seg, o + 4, s);
                }
                for (int h = 0; h < 32; h += 16) {
                    for (int s = 0; s < 8; s++) {
                        int sum = 0;
                        for (int k = h; k < h + 16; k++) {
                            // ggml's layout: nibble k of byte 32·(s/2) + k at 48 (low for s even), bit s of qh[k] at 16
                            int ql = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 48 + 32 * (s / 2) + k) & 0xFF;
                            int qh = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 16 + k) & 0xFF;
                            int q = ((s & 1) == 0 ? ql & 15 : ql >> 4) | (qh >> s & 1) << 4;
                            sum += (q - 16) * xq[256 * sb + 32 * s + k];
                        }
                        acc = Math.fma((float) sum, d * (sm[s] & 0xFF) * dx[8 * sb + s], acc);
                    }
                }
                for (int s = 0; s < 8; s++) {
                    acc = Math.fma(dmin * (sm[s] >> 8) - 16f * (d * (sm[s] & 0xFF)), -sx[8 * sb + s], acc);
                }
            }
            assertEquals(acc, got[r], 0f, "row " + r + " at " + species.vectorBitSize() + " bits");
        }
    }

    /**
     * Packed Q6_K matvec is exactly this order on each row: activations to int8 as ggml's q8_K
     * ({@link #nearestInt8}), then for each 8 values in order fma(Σ (q − 32)·x, d·sc·dx, acc), the integer sums exact.
     */
    @ParameterizedTest
    @MethodSource("int8Widths")
    void q6_KPackedMatvecIsItsIntegerSumsInOrder(VectorSpecies<Float> species) {
        int cols = 256 * 3;
        int rows = 4 * species.length();
        WeightMatrix w = SyntheticWeights.heap(GgmlType.Q6_K, rows, cols, 78);
        float[] x = randomFloats(cols, 9);
        float[] got = vectorMatvec(species, w, x);
        int[] xq = new int[cols];
        float[] dx = new float[cols / 32];
        nearestInt8(x, xq, dx, new float[cols / 32]);
        java.lang.foreign.MemorySegment seg = w.data();
        for (int r = 0; r < rows; r++) {
            float acc = 0;
            for (int sb = 0; sb < cols / 256; sb++) {
                long o = w.rowOffset(r) + 210L * sb;
                float d = Half.toFloat(seg.get(BlockLayouts.SHORT_LE, o + 208));
                for (int e = 0; e < 256; e += 8) {
                    int sum = 0;
                    for (int i = e; i < e + 8; i++) {
                        // ggml's layout: value 128n + 32c + l from ql[64n + l (+32 for c odd)], qh[32n + l] bits 2c
                        int n = i / 128;
                        int c = i % 128 / 32;
                        int l = i % 32;
                        int ql = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 64 * n + l + (c & 1) * 32) & 0xFF;
                        int qh = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 128 + 32 * n + l) & 0xFF;
                        int q = (c < 2 ? ql & 15 : ql >> 4) | (qh >> (2 * c) & 3) << 4;
                        sum += (q - 32) * xq[256 * sb + i];
                    }
                    int sc = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 192 + e / 16);
                    acc = Math.fma((float) sum, d * sc * dx[(256 * sb + e) / 32], acc);
                }
            }
            assertEquals(acc, got[r], 0f, "row " + r + " at " + species.vectorBitSize() + " bits");
        }
    }

    /** {@return w·x by the vector kernels of {@code species}} */
    private float[] vectorMatvec(VectorSpecies<Float> species, WeightMatrix w, float[] x) {
        float[] got = new float[w.rows()];
        vector(species).matvec(w, x, got);
        return got;
    }

    /**
     * The K-quant int8 designs' activations, ggml's {@code quantize_row_q8_K_ref} written out: per 256 values
     * iscale = −127/max (max the value of largest magnitude, sign kept), xq = nearest_int(iscale·x) (ggml's
     * float trick, half to even), dx = 1/iscale for each of the 32-value sub-blocks, and dx times their sum (sx).
     */
    private static void nearestInt8(float[] x, int[] xq, float[] dx, float[] sx) {
        for (int s = 0; s < x.length; s += 256) {
            float max = 0;
            float amax = 0;
            for (int i = 0; i < 256; i++) {
                float ax = Math.abs(x[s + i]);
                if (ax > amax) {
                    amax = ax;
                    max = x[s + i];
                }
            }
            float iscale = amax == 0 ? 0f : -127f / max;
            for (int j = s / 32; j < s / 32 + 8; j++) {
                int sum = 0;
                for (int i = 0; i < 32; i++) {
                    int bits = Float.floatToRawIntBits(iscale * x[32 * j + i] + 12582912f);
                    xq[32 * j + i] = Math.min(127, (bits & 0x007fffff) - 0x00400000);
                    sum += xq[32 * j + i];
                }
                dx[j] = amax == 0 ? 0f : 1 / iscale;
                sx[j] = dx[j] * sum;
            }
        }
    }

    /**
     * The packed Q4_0 copy widens the file's half scales to floats as it packs: every kind of finite half (zero of
     * either sign, subnormals, the smallest and largest normals, negatives) gives exactly the ggml order's
     * bits, one token (groups four, two and one at a time) and four; a prompt long enough for the panels (224
     * rows: whole panels and a group left to the row decode) gives the scalar kernels' products within float
     * rounding of its terms.
     */
    @ParameterizedTest
    @MethodSource("int8Widths")
    void packedQ4_0TakesEveryFiniteHalfScaleExactly(VectorSpecies<Float> species) {
        short[] halves = {0x0000, (short) 0x8000, 0x0001, (short) 0x8001, 0x03FF, (short) 0x83FF, 0x0200, 0x0400,
                (short) 0x8400, 0x3C00, (short) 0xBC00, 0x2E66, (short) 0xC8B3, 0x7BFF, (short) 0xFBFF, 0x1234};
        int rows = 224;
        int cols = 32 * 12;
        WeightMatrix w = SyntheticWeights.heap(GgmlType.Q4_0, rows, cols, 5);
        java.lang.foreign.MemorySegment seg = w.data();
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols / 32; b++) {
                seg.set(BlockLayouts.SHORT_LE, w.rowOffset(r) + b * 18L, halves[(r + 3 * b) % halves.length]);
            }
        }
        Kernels k = vector(species);
        float[] x = randomFloats(4 * cols, 9);
        float[] many = new float[4 * rows];
        k.matvecMany(w, x, 4, many);
        for (int t = 0; t < 4; t++) {
            float[] xt = java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
            float[] want = ggmlQ4_0Matvec(w, xt);
            float[] got = new float[rows];
            k.matvec(w, xt, got);
            assertArrayEquals(want, got, "one token, token " + t + " at " + species.vectorBitSize() + " bits");
            assertArrayEquals(want, java.util.Arrays.copyOfRange(many, t * rows, (t + 1) * rows),
                    "four tokens, token " + t + " at " + species.vectorBitSize() + " bits");
        }
        int n = 40;
        float[] xs = randomFloats(n * cols, 11);
        float[] got = new float[n * rows];
        k.matmul(w, xs, n, got);
        float[] want = new float[n * rows];
        scalar.matmul(w, xs, n, want);
        // scales up to ±65504 make terms of 10^6 that cancel: the bound follows the size of the terms, not the sum
        float[] wr = new float[cols];
        for (int r = 0; r < rows; r++) {
            scalar.dequantizeRow(w, r, wr, 0);
            for (int t = 0; t < n; t++) {
                double size = 0;
                for (int c = 0; c < cols; c++) {
                    size += Math.abs(wr[c] * xs[t * cols + c]);
                }
                int i = t * rows + r;
                assertEquals(want[i], got[i], 1e-6 * size + 1e-4, "matmul token " + t + " row " + r);
            }
        }
    }

    static Stream<VectorSpecies<Float>> int8Widths() {
        return Stream.of(jdk.incubator.vector.FloatVector.SPECIES_256, jdk.incubator.vector.FloatVector.SPECIES_512);
    }

    /** The ggml order, written out in scalar Java: quantize_row_q8_0, then per row Σ_b fma(Σ (q − 8)·x, d·dx, acc). */
    private static float[] ggmlQ4_0Matvec(WeightMatrix w, float[] x) {
        int cols = w.cols();
        int[] xq = new int[cols];
        float[] xd = new float[cols / 32];
        for (int b = 0; b < cols; b += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[b + j]));
            }
            float d = Half.toFloat(Half.fromFloat(amax / 127));
            float id = d != 0 ? 1.0f / d : 0.0f;
            xd[b / 32] = d;
            for (int j = 0; j < 32; j++) {
                xq[b + j] = (int) Rounding.roundHalfAway(x[b + j] * id);
            }
        }
        float[] out = new float[w.rows()];
        java.lang.foreign.MemorySegment seg = w.data();
        for (int r = 0; r < w.rows(); r++) {
            float acc = 0;
            for (int b = 0; b < cols / 32; b++) {
                long o = w.rowOffset(r) + b * 18L;
                int sum = 0;
                for (int j = 0; j < 16; j++) {
                    int q = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                    sum += ((q & 15) - 8) * xq[b * 32 + j] + ((q >> 4) - 8) * xq[b * 32 + j + 16];
                }
                float d = Half.toFloat(seg.get(BlockLayouts.SHORT_LE, o));
                acc = Math.fma((float) sum, d * xd[b], acc);
            }
            out[r] = acc;
        }
        return out;
    }

    /**
     * Rows of 4096 columns are decoded 32 at a time (512 KiB of floats), so 43 rows make a full tile and one of
     * eleven (two four-row slices and three single rows), and 7 tokens a group of four and three single ones.
     */
    @ParameterizedTest
    @MethodSource("widths")
    void matmulWithWideTilesMatchesScalar(VectorSpecies<Float> species) {
        assertMatmulMatchesScalar(species, GgmlType.Q4_0, 43, 4096, 7);
    }

    /**
     * Q4_0, Q4_K, Q5_K and Q6_K matrices of whole packed groups (256 and 512 bits) take every product from the packed
     * copy: chunks of up to 12 tokens through the batched decode kernels, each token bit for bit its own matvec; longer ones decoded
     * into panels of two groups, with a group left over for the tiles (96 rows at 512 bits), within float rounding
     * of the scalar matmul; and a matvec after them on the same matrix.
     */
    @ParameterizedTest
    @MethodSource("packedTypesAndWidths")
    void packedMatmulMatchesScalar(GgmlType type, VectorSpecies<Float> species) {
        int cols = type.blockSize() == 256 ? 256 * 9 : 32 * 70;
        for (int n : new int[] {2, 7, 12}) {
            if (species.vectorBitSize() < 256) { // no packed copy at 128 bits: panels for every length
                assertMatmulMatchesScalar(species, type, 96, cols, n);
                continue;
            }
            WeightMatrix w = SyntheticWeights.heap(type, 96, cols, 96 + cols);
            float[] x = randomFloats(n * cols, n);
            float[] got = new float[n * 96];
            Kernels k = vector(species);
            k.matmul(w, x, n, got);
            for (int t = 0; t < n; t++) {
                float[] one = new float[96];
                k.matvec(w, java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), one);
                assertArrayEquals(one, java.util.Arrays.copyOfRange(got, t * 96, (t + 1) * 96),
                        type + ", " + n + " tokens, token " + t + " at " + species.vectorBitSize() + " bits");
            }
        }
        for (int n : new int[] {13, 50}) {
            assertMatmulMatchesScalar(species, type, 96, cols, n);
        }
        WeightMatrix w = SyntheticWeights.heap(type, 160, type.blockSize() == 256 ? 256 * 3 : 32 * 20, 4);
        Kernels k = vector(species);
        float[] x = randomFloats(60 * w.cols(), 9);
        float[] want = new float[60 * w.rows()];
        float[] got = new float[60 * w.rows()];
        scalar.matmul(w, x, 60, want);
        k.matmul(w, x, 60, got);
        assertTrue(nmse(want, got) < 1e-10, "matmul at " + species.vectorBitSize() + " bits: NMSE " + nmse(want, got));
        float[] one = new float[w.rows()];
        float[] oneWant = new float[w.rows()];
        scalar.matvec(w, x, oneWant);
        k.matvec(w, x, one);
        assertTrue(nmse(oneWant, one) < bound(type), "matvec after matmul: NMSE " + nmse(oneWant, one));
    }

    static Stream<Arguments> packedTypesAndWidths() {
        return KernelTestSupport.widths().flatMap(s -> Stream.of(GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K).map(t -> Arguments.of(t, s)));
    }

    /** The vector matmul of a random matrix and activations against the scalar one, within float rounding. */
    private void assertMatmulMatchesScalar(VectorSpecies<Float> species, GgmlType type, int rows, int cols, int n) {
        WeightMatrix w = SyntheticWeights.heap(type, rows, cols, rows + cols);
        float[] x = randomFloats(n * cols, n);
        float[] want = new float[n * rows];
        float[] got = new float[n * rows];
        scalar.matmul(w, x, n, want);
        vector(species).matmul(w, x, n, got);
        double e = nmse(want, got);
        assertTrue(e < 1e-10, type + " " + rows + "×" + cols + ", " + n + " tokens, at " + species.vectorBitSize() + " bits: NMSE " + e);
    }

    /**
     * Prompts of 48 tokens or more take the panel kernel: 134 rows, split between two threads, make a panel of 64
     * rows each at 512 bits (more at narrower widths) and leftover rows; 2304 columns a panel of 2048 columns and
     * one of 256 added to it; 97 tokens sixteen groups of six and a single one.
     */
    @ParameterizedTest
    @MethodSource("widths")
    void matmulInPanelsMatchesScalar(VectorSpecies<Float> species) {
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.F32}) {
            assertMatmulMatchesScalar(species, type, 134, 2304, 97);
        }
    }

    @ParameterizedTest
    @MethodSource("typesAndWidths")
    void dequantizeRowIsExact(GgmlType type, VectorSpecies<Float> species) {
        WeightMatrix w = SyntheticWeights.heap(type, 3, colsFor(type), 13);
        float[] want = new float[w.cols() + 2];
        float[] got = new float[w.cols() + 2];
        scalar.dequantizeRow(w, 2, want, 2);
        vector(species).dequantizeRow(w, 2, got, 2);
        assertArrayEquals(want, got);
    }

    @ParameterizedTest
    @MethodSource("typesAndWidths")
    void vectorDecodersReproduceLlamaCppBitForBit(GgmlType type, VectorSpecies<Float> species) {
        WeightMatrix w = GoldenDequant.matrix(type);
        float[] expected = GoldenDequant.floats(type);
        float[] row = new float[w.cols()];
        Kernels v = vector(species);
        for (int r = 0; r < w.rows(); r++) {
            v.dequantizeRow(w, r, row, 0);
            for (int c = 0; c < w.cols(); c++) {
                assertEquals(Float.floatToRawIntBits(expected[r * w.cols() + c]), Float.floatToRawIntBits(row[c]),
                        type + " row " + r + " col " + c);
            }
        }
    }

    static Stream<VectorSpecies<Float>> widths() {
        return KernelTestSupport.widths();
    }

    @ParameterizedTest
    @MethodSource("widths")
    void elementwiseKernelsMatchScalar(VectorSpecies<Float> species) {
        Kernels v = vector(species);
        for (int n : SIZES) {
            float[] x = randomFloats(n + 3, n);
            float[] w = randomFloats(n, n + 100);
            float[] a = new float[n + 3];
            float[] b = new float[n + 3];
            scalar.rmsnorm(a, 1, x, 2, w, n, 1e-5f);
            v.rmsnorm(b, 1, x, 2, w, n, 1e-5f);
            assertClose(a, b, 1e-12, "rmsnorm", n);
            scalar.rmsnorm(a, 0, x, 0, null, n, 1e-6f);
            v.rmsnorm(b, 0, x, 0, null, n, 1e-6f);
            assertClose(a, b, 1e-12, "rmsnorm without weight", n);

            a = x.clone();
            b = x.clone();
            scalar.softmax(a, 3, n);
            v.softmax(b, 3, n);
            assertClose(a, b, 1e-12, "softmax", n);

            // queries dotted with keys stored position by position
            if (n >= 7) {
                float[] q = randomFloats(3 * n + 5, n + 11);
                float[] ya = new float[2 * 7 + 3];
                float[] yb = new float[2 * 7 + 3];
                scalar.dotRows(q, 2, n + 1, 2, x, 1, 7, n / 7 * 7 == n ? n / 7 : 1, ya, 1, 8);
                v.dotRows(q, 2, n + 1, 2, x, 1, 7, n / 7 * 7 == n ? n / 7 : 1, yb, 1, 8);
                assertClose(ya, yb, 1e-5, "dotRows", n);
                float[] m = randomFloats(7 * 64, n + 13);
                scalar.dotRows(q, 0, 1, 2, m, 0, 7, 64 > q.length - 1 ? q.length - 1 : 64, ya, 0, 7);
                v.dotRows(q, 0, 1, 2, m, 0, 7, 64 > q.length - 1 ? q.length - 1 : 64, yb, 0, 7);
                assertClose(ya, yb, 1e-5, "dotRows 64", n);
            }

            // an online softmax's pieces: the maximum, then exp(x - shift) in place and its sum
            assertEquals(scalar.max(x, 3, n), v.max(x, 3, n), "max " + n);
            a = x.clone();
            b = x.clone();
            float shift = n == 0 ? 0f : scalar.max(x, 3, n);
            float sa = scalar.expShifted(a, 3, n, shift);
            float sb = v.expShifted(b, 3, n, shift);
            assertClose(a, b, 1e-12, "expShifted", n);
            assertEquals(sa, sb, 1e-5f * Math.max(1f, sa), "expShifted sum " + n);
            for (int i = 0; i < n; i++) { // every lane, whole vector or tail, is the polynomial exp bit for bit
                assertEquals(Float.floatToIntBits(PolynomialExp.exp(x[3 + i] - shift)), Float.floatToIntBits(b[3 + i]),
                        "expShifted element " + i + " of " + n);
            }

            a = x.clone();
            b = x.clone();
            float[] up = randomFloats(n + 3, n + 7);
            scalar.swiglu(a, up, n);
            v.swiglu(b, up, n);
            assertClose(a, b, 1e-12, "swiglu", n);
            for (int i = 0; i < n; i++) {
                float g = x[i];
                assertEquals(Float.floatToIntBits(g / (1f + PolynomialExp.exp(-g)) * up[i]), Float.floatToIntBits(b[i]),
                        "swiglu element " + i + " of " + n);
            }

            a = x.clone();
            b = x.clone();
            scalar.gelu(a, 1, n);
            v.gelu(b, 1, n);
            assertClose(a, b, 1e-12, "gelu", n);

            a = x.clone();
            b = x.clone();
            scalar.add(a, 1, up, 2, n);
            v.add(b, 1, up, 2, n);
            assertArrayEquals(a, b, "add " + n);
            scalar.scale(a, 2, n, 0.37f);
            v.scale(b, 2, n, 0.37f);
            assertArrayEquals(a, b, "scale " + n);
        }
    }

    /** Row vector times matrix, for widths that take the four-vector tiles, single vectors and the scalar tail. */
    @ParameterizedTest
    @MethodSource("widths")
    void vecmatMatchesScalar(VectorSpecies<Float> species) {
        Kernels v = vector(species);
        for (int n : new int[] {1, 7, 16, 64, 75, 200}) {
            for (int rows : new int[] {1, 13, 64}) {
                int stride = n + 5;
                float[] a = randomFloats(rows + 2, n + rows);
                float[] m = randomFloats(3 + rows * stride, 2 * n + rows);
                float[] want = randomFloats(n + 4, 3 * n);
                float[] got = want.clone();
                scalar.vecmat(a, 2, rows, m, 3, stride, want, 1, n);
                v.vecmat(a, 2, rows, m, 3, stride, got, 1, n);
                assertClose(want, got, 1e-12, "vecmat rows=" + rows, n);
            }
        }
    }

    /** Several row vectors at once: groups of six with the four-vector tiles and their tails, and leftover rows. */
    @ParameterizedTest
    @MethodSource("widths")
    void vecmatBatchMatchesScalar(VectorSpecies<Float> species) {
        Kernels v = vector(species);
        for (int count : new int[] {1, 6, 7, 13}) {
            for (int n : new int[] {5, 64, 70, 130}) {
                int rows = 19;
                int stride = n + 3;
                int aStride = rows + 2;
                int yStride = n + 1;
                float[] a = randomFloats(count * aStride + 1, count + n);
                float[] m = randomFloats(2 + rows * stride, n);
                float[] want = randomFloats(1 + count * yStride, count);
                float[] got = want.clone();
                scalar.vecmatBatch(a, 1, aStride, count, rows, m, 2, stride, want, 1, yStride, n);
                v.vecmatBatch(a, 1, aStride, count, rows, m, 2, stride, got, 1, yStride, n);
                assertClose(want, got, 1e-12, "vecmatBatch count=" + count, n);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("widths")
    void ropeMatchesScalarForBothPairings(VectorSpecies<Float> species) {
        Kernels v = vector(species);
        for (boolean neox : new boolean[] {false, true}) {
            for (int[] dims : new int[][] {{64, 64}, {128, 64}, {80, 80}, {6, 4}}) {
                int headDim = dims[0];
                int nRot = dims[1];
                int heads = 3;
                float[] x = randomFloats(heads * headDim + 5, headDim + nRot);
                float[] cos = new float[nRot / 2];
                float[] sin = new float[nRot / 2];
                for (int i = 0; i < nRot / 2; i++) {
                    double theta = 7 * Math.pow(10000, -2.0 * i / nRot);
                    cos[i] = (float) Math.cos(theta);
                    sin[i] = (float) Math.sin(theta);
                }
                float[] a = x.clone();
                float[] b = x.clone();
                scalar.rope(a, 5, heads, headDim, nRot, cos, sin, neox);
                v.rope(b, 5, heads, headDim, nRot, cos, sin, neox);
                assertArrayEquals(a, b, "rope neox=" + neox + " headDim=" + headDim + " nRot=" + nRot);
            }
        }
    }

    /**
     * The gated delta rule over several tokens, state, output and all, against the scalar one (which the
     * runtime's golden tests hold to llama.cpp): heads of the sizes Qwen3.5 uses and odd ones with vector tails.
     */
    @ParameterizedTest
    @MethodSource("widths")
    void deltaRuleMatchesScalar(VectorSpecies<Float> species) {
        Kernels v = vector(species);
        for (int dim : new int[] {1, 7, 16, 33, 128}) {
            float[] sa = randomFloats(dim * dim + 5, dim);
            float[] sb = sa.clone();
            float[] oa = new float[dim + 2];
            float[] ob = new float[dim + 2];
            for (int t = 0; t < 5; t++) {
                float[] kq = randomFloats(3 * dim + 4, 1000 + t);
                float decay = 0.5f + 0.1f * t;
                float beta = 0.9f - 0.15f * t;
                scalar.deltaRule(sa, 5, dim, decay, beta, kq, 1, kq, dim + 2, kq, 2 * dim + 3, 0.25f, oa, 2);
                v.deltaRule(sb, 5, dim, decay, beta, kq, 1, kq, dim + 2, kq, 2 * dim + 3, 0.25f, ob, 2);
                assertClose(sa, sb, 1e-11, "deltaRule state, token " + t, dim);
                assertClose(oa, ob, 1e-11, "deltaRule output, token " + t, dim);
            }
            assertEquals(sa[0], sb[0], "the elements before the state stay as they were");
        }
    }

    private static void assertClose(float[] want, float[] got, double bound, String what, int n) {
        double e = nmse(want, got);
        assertTrue(e < bound, what + " n=" + n + ": NMSE " + e);
    }
}
