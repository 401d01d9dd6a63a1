package dev.vellama.runtime.cuda;

import static dev.vellama.runtime.cuda.CudaTestSupport.download;
import static dev.vellama.runtime.cuda.CudaTestSupport.attentionOnHost;
import static dev.vellama.runtime.cuda.CudaTestSupport.nmse;
import static dev.vellama.runtime.cuda.CudaTestSupport.randomFloats;
import static dev.vellama.runtime.cuda.CudaTestSupport.upload;
import static dev.vellama.runtime.cuda.CudaTestSupport.position;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.Kernels;
import dev.vellama.quant.Quantizer;
import dev.vellama.quant.SyntheticWeights;
import dev.vellama.quant.WeightMatrix;

/**
 * Every GPU kernel, launched through {@link CudaKernels}, against the CPU scalar reference. Subclasses say where
 * the kernels run: a real device ({@link CudaKernelsTest}) or the host emulation behind a stand-in driver library
 * ({@link EmulatedDriverKernelsTest}); each skips, with the reason, where its backend is missing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class KernelChecks {
    static final double QUANT_NMSE = 5e-4;
    static final double F32_NMSE = 1e-10;

    CudaContext ctx;
    CudaKernels gpu;
    Kernels cpu;
    private String unavailable;

    /** The context to test, or a reason why there is none (thrown as {@link CudaUnavailableException}). */
    abstract CudaContext openContext() throws CudaUnavailableException;

    /** Rows of the matrices where the kernel choice depends on height (two rows per warp from 4096 rows). */
    int tallRows() {
        return 4099;
    }

    @BeforeAll
    void open() {
        try {
            ctx = openContext();
            gpu = new CudaKernels(ctx);
            cpu = Kernels.scalar(1);
        } catch (CudaUnavailableException e) {
            unavailable = e.getMessage();
        }
    }

    @BeforeEach
    void needsABackend() {
        Assumptions.assumeTrue(ctx != null, () -> "CUDA test skipped: " + unavailable);
    }

    @AfterAll
    void close() {
        if (ctx != null) {
            gpu.close();
            ctx.close();
            cpu.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K", "Q6_K", "Q5_K", "F16", "BF16"})
    void matvecMatchesTheCpu(GgmlType type) {
        WeightMatrix w = SyntheticWeights.heap(type, 67, 1024, 11);
        float[] x = randomFloats(1024, 12);
        float[] want = new float[67];
        cpu.matvec(w, x, want);
        List<String> notices = new ArrayList<>();
        try (GpuMatrix m = GpuMatrix.upload(ctx, w, notices::add); DeviceBuffer dx = upload(ctx, x);
             DeviceBuffer dy = ctx.allocate(4 * 67)) {
            gpu.matvec(m, dx, dy);
            float[] got = download(ctx, dy, 67);
            assertTrue(nmse(want, got) < QUANT_NMSE, type + " NMSE " + nmse(want, got));
            boolean converted = m.format() == GpuMatrix.Format.F16 && type != GgmlType.F16;
            assertEquals(converted ? 1 : 0, notices.size(), notices.toString());
        }
    }

    /**
     * Continuous batching's decode rows: each token's products equal its lone matrix-vector product bit for bit (so
     * a request's numbers do not depend on its neighbours); on a GPU 4099 rows, where Q4_0 and Q8_0 take two rows
     * per warp alone.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 8, 13})
    void matvecManyGivesEachTokenItsLoneMatvec(int n) {
        int rows = tallRows();
        int cols = 256;
        for (GgmlType type : List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16)) {
            WeightMatrix w = SyntheticWeights.heap(type, rows, cols, 31);
            float[] x = randomFloats(n * cols, 32);
            try (GpuMatrix m = GpuMatrix.upload(ctx, w, s -> { }); DeviceBuffer dx = upload(ctx, x);
                 DeviceBuffer dy = ctx.allocate(4L * n * rows); DeviceBuffer one = ctx.allocate(4L * rows)) {
                gpu.matvecMany(m, dx, n, dy);
                float[] got = download(ctx, dy, n * rows);
                for (int t = 0; t < n; t++) {
                    gpu.matvec(m, dx.view(4L * t * cols, 4L * cols), one);
                    float[] alone = download(ctx, one, rows);
                    assertArrayEquals(alone, java.util.Arrays.copyOfRange(got, t * rows, (t + 1) * rows),
                            type + " token " + t + " of " + n);
                }
            }
        }
    }

    /**
     * Two or three matrices in one launch give each row what its own matvec gives, bit for bit; on a GPU the tall
     * Q4_0 and Q8_0 groups take two rows per warp.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K", "Q6_K", "F16"})
    void matvecGroupGivesEachMatrixItsOwnMatvec(GgmlType type) {
        int cols = 256;
        int[] rows = {tallRows(), tallRows() + 5, 45};
        float[] x = randomFloats(cols, 34);
        List<GpuMatrix> ms = new ArrayList<>();
        List<DeviceBuffer> bufs = new ArrayList<>();
        try (DeviceBuffer dx = upload(ctx, x)) {
            for (int i = 0; i < 3; i++) {
                ms.add(GpuMatrix.upload(ctx, SyntheticWeights.heap(type, rows[i], cols, 35 + i), s -> { }));
                bufs.add(ctx.allocate(4L * rows[i])); // the group's
                bufs.add(ctx.allocate(4L * rows[i])); // each alone
            }
            for (int count = 2; count <= 3; count++) {
                boolean three = count == 3;
                gpu.matvecGroup(ms.get(0), ms.get(1), three ? ms.get(2) : null, dx, bufs.get(0), bufs.get(2),
                        three ? bufs.get(4) : null);
                for (int i = 0; i < count; i++) {
                    gpu.matvec(ms.get(i), dx, bufs.get(2 * i + 1));
                    assertArrayEquals(download(ctx, bufs.get(2 * i + 1), rows[i]), download(ctx, bufs.get(2 * i), rows[i]),
                            type + " matrix " + i + " of " + count);
                }
            }
        } finally {
            ms.forEach(GpuMatrix::close);
            bufs.forEach(DeviceBuffer::close);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 8, 11, 17, 70})
    void matmulMatchesTheCpuForEveryTokenCount(int n) {
        for (GgmlType type : List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K)) {
            WeightMatrix w = SyntheticWeights.heap(type, 45, 512, 21);
            float[] x = randomFloats(n * 512, 22);
            float[] want = new float[n * 45];
            cpu.matmul(w, x, n, want);
            try (GpuMatrix m = GpuMatrix.upload(ctx, w, s -> { }); DeviceBuffer dx = upload(ctx, x);
                 DeviceBuffer dy = ctx.allocate(4L * n * 45)) {
                gpu.matmul(m, dx, n, dy);
                float[] got = download(ctx, dy, n * 45);
                assertTrue(nmse(want, got) < QUANT_NMSE, type + " n=" + n + " NMSE " + nmse(want, got));
            }
        }
    }

    /**
     * The tensor-core matmul (F16 operands, F32 sums) against exact products of the decoded rows: within F16
     * rounding for every format and token count, across the edges of its 128-row and 64-token tiles, and with rows
     * whose values F16 could not hold (10^6, so each row's power-of-two scale must work) or would flush (10^-6).
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 70})
    void tensorCoreMatmulIsWithinHalfRoundingOfExactProducts(int n) {
        int rows = 133;
        int cols = 512;
        try (CudaKernels mma = new CudaKernels(ctx, true)) {
            for (GgmlType type : List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16)) {
                WeightMatrix w = SyntheticWeights.heap(type, rows, cols, 41);
                float[] x = randomFloats(n * cols, 42 + n);
                for (int c = 0; c < cols; c++) {
                    x[c] *= 1e6f;               // token 0: beyond F16's range
                    x[cols + c] *= 1e-6f;       // token 1: below its normal numbers
                }
                float[] want = exactProducts(w, x, n);
                try (GpuMatrix m = GpuMatrix.upload(ctx, w, s -> { }); DeviceBuffer dx = upload(ctx, x);
                     DeviceBuffer dy = ctx.allocate(4L * n * rows)) {
                    mma.matmul(m, dx, n, dy);
                    float[] got = download(ctx, dy, n * rows);
                    for (int t = 0; t < n; t++) {
                        float[] wantRow = java.util.Arrays.copyOfRange(want, t * rows, (t + 1) * rows);
                        float[] gotRow = java.util.Arrays.copyOfRange(got, t * rows, (t + 1) * rows);
                        assertTrue(nmse(wantRow, gotRow) < 1e-5, type + " n=" + n + " token " + t + " NMSE "
                                + nmse(wantRow, gotRow));
                    }
                }
            }
        }
    }

    /**
     * Prefill attention on the tensor cores (q and the probabilities rounded to F16, products summed in F32) within
     * F16 rounding of the CPU: long caches over several tiles, a window, soft-caps, heads of 64, 128 and 256.
     */
    @ParameterizedTest
    @CsvSource({"45, 660, 2147483647, 0, 64", "40, 600, 100, 0, 64", "33, 90, 2147483647, 20, 128", "9, 80, 50, 0, 256"})
    void tensorCoreAttentionIsWithinHalfRoundingOfTheCpu(int n, int pos0, int window, float softcap, int headDim) {
        try (CudaKernels mma = new CudaKernels(ctx, true)) {
            double e = attentionNmse(mma, n, pos0, window, softcap, headDim, 0)[0];
            assertTrue(e < 1e-5, "NMSE " + e);
        }
    }

    /**
     * NMSE against the CPU of {@code kernels}' attention over a cache of pos0 + n random F16 rows (heads of
     * {@code headDim}, grouped two kv heads), launched once sized for the positions in use plus each of
     * {@code extra} (a captured graph sizes for the whole cache).
     */
    private double[] attentionNmse(CudaKernels kernels, int n, int pos0, int window, float softcap, int headDim,
                                   int... extra) {
        return attentionNmse(kernels, GgmlType.F16, n, pos0, window, softcap, headDim, extra);
    }

    /** The same over a cache of keys and values stored in {@code type}, against the CPU over the values it holds. */
    private double[] attentionNmse(CudaKernels kernels, GgmlType type, int n, int pos0, int window, float softcap,
                                   int headDim, int... extra) {
        int heads = headDim == 64 ? 8 : 4;
        int kvHeads = 2;
        int width = kvHeads * headDim;
        int positions = pos0 + n;
        float scale = (float) (1 / Math.sqrt(headDim));
        float[] kf = randomFloats(positions * width, 91);
        float[] vf = randomFloats(positions * width, 92);
        float[] q = randomFloats(n * heads * headDim, 93);
        float[] want = attentionOnHost(cpu, q, held(type, kf), held(type, vf), n, heads, kvHeads, headDim, pos0, scale,
                window, softcap);
        double[] errors = new double[extra.length];
        long bytes = positions * CudaKernels.cacheRowBytes(type, width);
        try (DeviceBuffer dq = upload(ctx, q); DeviceBuffer kc = ctx.allocate(bytes); DeviceBuffer vc = ctx.allocate(bytes);
             DeviceBuffer dk = upload(ctx, kf); DeviceBuffer dv = upload(ctx, vf); DeviceBuffer out = ctx.allocate(4L * q.length);
             DeviceBuffer zero = position(ctx, 0); DeviceBuffer dp = position(ctx, pos0)) {
            kernels.storeKv(kc, vc, dk, dv, zero, positions, width, Integer.MAX_VALUE, null, type, type);
            kernels.reserveAttention(heads, headDim, positions + java.util.Arrays.stream(extra).max().orElse(0));
            for (int i = 0; i < extra.length; i++) {
                kernels.attention(dq, kc, vc, out, n, heads, kvHeads, headDim, dp, positions + extra[i], scale, window,
                        softcap, Integer.MAX_VALUE, null, type, type);
                errors[i] = nmse(want, download(ctx, out, q.length));
            }
        }
        return errors;
    }

    /** What a cache of {@code type} holds of {@code x} (rows of whole blocks laid end to end), decoded. */
    private static float[] held(GgmlType type, float[] x) {
        float[] out = new float[x.length];
        if (type == GgmlType.F16) {
            for (int i = 0; i < x.length; i++) {
                out[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
            }
            return out;
        }
        Dequantizer.dequantize(type, Quantizer.quantize(type, x), 0, out, 0, x.length);
        return out;
    }

    /** Σ W[r][c]·x[t][c] in double over the decoded weights, y[t][r]. */
    private static float[] exactProducts(WeightMatrix w, float[] x, int n) {
        int rows = w.rows();
        int cols = w.cols();
        float[] want = new float[n * rows];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            dev.vellama.quant.Dequantizer.dequantizeRow(w, r, row, 0);
            for (int t = 0; t < n; t++) {
                double s = 0;
                for (int c = 0; c < cols; c++) {
                    s += (double) row[c] * x[t * cols + c];
                }
                want[t * rows + r] = (float) s;
            }
        }
        return want;
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K", "Q6_K", "Q2_K"})
    void getRowsDecodesExactlyTheCpuRows(GgmlType type) {
        WeightMatrix w = SyntheticWeights.heap(type, 30, 512, 31);
        int[] ids = {0, 29, 7, 7};
        try (GpuMatrix m = GpuMatrix.upload(ctx, w, s -> { }); DeviceBuffer dIds = ctx.allocate(16);
             DeviceBuffer out = ctx.allocate(4 * 4 * 512)) {
            ctx.upload(ids, 0, 4, dIds);
            gpu.getRows(m, dIds, 4, out);
            float[] got = download(ctx, out, 4 * 512);
            float[] want = new float[4 * 512];
            for (int t = 0; t < 4; t++) {
                cpu.dequantizeRow(w, ids[t], want, t * 512);
                if (m.format() == GpuMatrix.Format.F16) {
                    for (int c = 0; c < 512; c++) {
                        want[t * 512 + c] = Float.float16ToFloat(Float.floatToFloat16(want[t * 512 + c]));
                    }
                }
            }
            assertArrayEquals(want, got, 1e-6f);
        }
    }

    @Test
    void rmsnormMatchesTheCpuWithAndWithoutWeights() {
        int rows = 5;
        int n = 768;
        float[] x = randomFloats(rows * n, 41);
        float[] weight = randomFloats(n, 42);
        float[] want = new float[rows * n];
        float[] wantPlain = new float[rows * n];
        for (int r = 0; r < rows; r++) {
            cpu.rmsnorm(want, r * n, x, r * n, weight, n, 1e-5f);
            cpu.rmsnorm(wantPlain, r * n, x, r * n, null, n, 1e-5f);
        }
        try (DeviceBuffer dx = upload(ctx, x); DeviceBuffer dw = upload(ctx, weight);
             DeviceBuffer out = ctx.allocate(4L * rows * n)) {
            gpu.rmsnorm(out, dx, dw, rows, n, 1e-5f);
            assertTrue(nmse(want, download(ctx, out, rows * n)) < F32_NMSE);
            gpu.rmsnorm(dx, dx, null, rows, n, 1e-5f); // in place
            assertTrue(nmse(wantPlain, download(ctx, dx, rows * n)) < F32_NMSE);
        }
    }

    @Test
    void softmaxMatchesTheCpu() {
        int rows = 3;
        int n = 1000;
        float[] x = randomFloats(rows * n, 51);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 8;
        }
        float[] want = x.clone();
        for (int r = 0; r < rows; r++) {
            cpu.softmax(want, r * n, n);
        }
        try (DeviceBuffer dx = upload(ctx, x)) {
            gpu.softmax(dx, rows, n);
            assertTrue(nmse(want, download(ctx, dx, rows * n)) < F32_NMSE);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void ropeMatchesTheCpu(boolean neox) {
        int n = 3;
        int heads = 4;
        int headDim = 64;
        int nRot = 48; // partial rotation leaves the tail of each head alone
        int pos0 = 5;
        int pairs = nRot / 2;
        int positions = pos0 + n;
        float[] cos = new float[positions * pairs];
        float[] sin = new float[positions * pairs];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < pairs; i++) {
                double theta = p * Math.pow(10000, -2.0 * i / nRot);
                cos[p * pairs + i] = (float) Math.cos(theta);
                sin[p * pairs + i] = (float) Math.sin(theta);
            }
        }
        float[] x = randomFloats(n * heads * headDim, 61);
        float[] want = x.clone();
        for (int t = 0; t < n; t++) {
            float[] c = java.util.Arrays.copyOfRange(cos, (pos0 + t) * pairs, (pos0 + t + 1) * pairs);
            float[] s = java.util.Arrays.copyOfRange(sin, (pos0 + t) * pairs, (pos0 + t + 1) * pairs);
            cpu.rope(want, t * heads * headDim, heads, headDim, nRot, c, s, neox);
        }
        try (DeviceBuffer dx = upload(ctx, x); DeviceBuffer dc = upload(ctx, cos); DeviceBuffer ds = upload(ctx, sin);
             DeviceBuffer dp = position(ctx, pos0)) {
            gpu.rope(dx, dc, ds, n, heads, headDim, nRot, dp, neox);
            assertTrue(nmse(want, download(ctx, dx, x.length)) < F32_NMSE);
        }
    }

    @Test
    void elementwiseKernelsMatchTheCpu() {
        int n = 3 * 1000;
        float[] gate = randomFloats(n, 71);
        float[] up = randomFloats(n, 72);
        float[] bias = randomFloats(1000, 73);
        float[] wantGlu = gate.clone();
        cpu.swiglu(wantGlu, up, n);
        float[] wantAdd = gate.clone();
        cpu.add(wantAdd, 0, up, 0, n);
        float[] wantBias = gate.clone();
        for (int t = 0; t < 3; t++) {
            cpu.add(wantBias, t * 1000, bias, 0, 1000);
        }
        try (DeviceBuffer g = upload(ctx, gate); DeviceBuffer u = upload(ctx, up); DeviceBuffer b = upload(ctx, bias);
             DeviceBuffer a = upload(ctx, gate); DeviceBuffer c = upload(ctx, gate)) {
            gpu.swiglu(g, u, n);
            gpu.add(a, u, n);
            gpu.addBias(c, b, 1000, n);
            assertTrue(nmse(wantGlu, download(ctx, g, n)) < F32_NMSE);
            assertArrayEquals(wantAdd, download(ctx, a, n));
            assertArrayEquals(wantBias, download(ctx, c, n));
        }
    }

    /** The fused residual add and norm give what add then rmsnorm give, bit for bit, with and without weights. */
    @Test
    void addRmsnormGivesWhatAddThenRmsnormGive() {
        int rows = 5;
        int n = 768;
        float[] x = randomFloats(rows * n, 43);
        float[] r = randomFloats(rows * n, 44);
        float[] weight = randomFloats(n, 45);
        try (DeviceBuffer x1 = upload(ctx, x); DeviceBuffer x2 = upload(ctx, x); DeviceBuffer dr = upload(ctx, r);
             DeviceBuffer dw = upload(ctx, weight); DeviceBuffer out1 = ctx.allocate(4L * rows * n);
             DeviceBuffer out2 = ctx.allocate(4L * rows * n)) {
            for (DeviceBuffer w : new DeviceBuffer[] {dw, null}) {
                gpu.add(x1, dr, rows * n);
                gpu.rmsnorm(out1, x1, w, rows, n, 1e-5f);
                gpu.addRmsnorm(out2, x2, dr, w, rows, n, 1e-5f);
                assertArrayEquals(download(ctx, x1, rows * n), download(ctx, x2, rows * n), "x");
                assertArrayEquals(download(ctx, out1, rows * n), download(ctx, out2, rows * n), "normed");
            }
        }
    }

    /**
     * RoPE of q and k fused with the cache store: q and the caches exactly as rope, rope and storeKv leave them
     * (both rotation styles, a partial rotation, grouped heads), k itself untouched.
     */
    /**
     * The fused kernel stores the bytes rope + storeKv store, in every cache format; 264 q pairs, so the cache part
     * starts after a partial warp (a block type's warp must still hold whole blocks).
     */
    @ParameterizedTest
    @CsvSource({"false, F16", "true, F16", "false, Q8_0", "true, Q4_0"})
    void ropeStoreKvGivesWhatRopeAndStoreKvGive(boolean neox, GgmlType type) {
        int n = 3;
        int heads = 4;
        int kvHeads = 2;
        int headDim = 64;
        int nRot = 44;
        int pos0 = 5;
        int pairs = nRot / 2;
        int positions = pos0 + n;
        int width = kvHeads * headDim;
        float[] cos = randomFloats(positions * pairs, 63);
        float[] sin = randomFloats(positions * pairs, 64);
        float[] q = randomFloats(n * heads * headDim, 65);
        float[] k = randomFloats(n * width, 66);
        float[] v = randomFloats(n * width, 67);
        long row = CudaKernels.cacheRowBytes(type, width);
        try (DeviceBuffer dc = upload(ctx, cos); DeviceBuffer ds = upload(ctx, sin); DeviceBuffer dp = position(ctx, pos0);
             DeviceBuffer q1 = upload(ctx, q); DeviceBuffer k1 = upload(ctx, k); DeviceBuffer q2 = upload(ctx, q);
             DeviceBuffer k2 = upload(ctx, k); DeviceBuffer dv = upload(ctx, v);
             DeviceBuffer kc1 = ctx.allocate(positions * row); DeviceBuffer vc1 = ctx.allocate(positions * row);
             DeviceBuffer kc2 = ctx.allocate(positions * row); DeviceBuffer vc2 = ctx.allocate(positions * row)) {
            gpu.rope(q1, dc, ds, n, heads, headDim, nRot, dp, neox);
            gpu.rope(k1, dc, ds, n, kvHeads, headDim, nRot, dp, neox);
            gpu.storeKv(kc1, vc1, k1, dv, dp, n, width, positions, null, type, type);
            gpu.ropeStoreKv(q2, k2, dv, kc2, vc2, dc, ds, n, heads, kvHeads, headDim, nRot, dp, neox, positions, null,
                    type, type);
            assertArrayEquals(download(ctx, q1, q.length), download(ctx, q2, q.length), "q");
            assertArrayEquals(k, download(ctx, k2, k.length), "k itself");
            byte[] want = new byte[(int) (n * row)];
            byte[] got = new byte[(int) (n * row)];
            for (DeviceBuffer[] pair : new DeviceBuffer[][] {{kc1, kc2}, {vc1, vc2}}) {
                ctx.download(pair[0], pos0 * row, want, 0, want.length);
                ctx.download(pair[1], pos0 * row, got, 0, got.length);
                assertArrayEquals(want, got, pair[0] == kc1 ? "keys" : "values");
            }
        }
    }

    @Test
    void storeKvRoundsToHalfLikeTheCpuCache() {
        int width = 96;
        int n = 4;
        int pos0 = 3;
        float[] k = randomFloats(n * width, 81);
        float[] v = randomFloats(n * width, 82);
        try (DeviceBuffer kc = ctx.allocate(2L * 16 * width); DeviceBuffer vc = ctx.allocate(2L * 16 * width);
             DeviceBuffer dk = upload(ctx, k); DeviceBuffer dv = upload(ctx, v); DeviceBuffer dp = position(ctx, pos0)) {
            gpu.storeKv(kc, vc, dk, dv, dp, n, width);
            short[] gotK = new short[n * width];
            short[] gotV = new short[n * width];
            ctx.download(kc, (long) pos0 * width, gotK, 0, n * width);
            ctx.download(vc, (long) pos0 * width, gotV, 0, n * width);
            for (int i = 0; i < n * width; i++) {
                assertEquals(Float.floatToFloat16(k[i]), gotK[i], "key " + i);
                assertEquals(Float.floatToFloat16(v[i]), gotV[i], "value " + i);
            }
        }
    }

    /**
     * Attention against the CPU: decode (one token: blocks of 256 cache rows and their merge) and prefill (tiles of
     * 32 queries walking 64-row tiles of the cache), at a short and a long cache (several blocks and tiles, the
     * last ones partial), with a sliding window that starts inside a block, soft-capped scores, grouped heads, and
     * heads of 64, 128 and 256 features (prefill tiles beyond 48 KiB of shared memory). Sizing for more positions
     * than are used (as a captured graph does) changes nothing.
     */
    @ParameterizedTest
    @CsvSource({"1, 37, 2147483647, 0, 64", "7, 37, 2147483647, 0, 64", "1, 700, 2147483647, 0, 64",
            "45, 660, 2147483647, 0, 64", "1, 700, 300, 0.5, 64", "40, 600, 100, 0, 64", "33, 90, 2147483647, 20, 128",
            "1, 90, 2147483647, 0, 256", "9, 80, 50, 0, 256"})
    void attentionMatchesTheCpuForDecodeAndPrefill(int n, int pos0, int window, float softcap, int headDim) {
        double[] e = attentionNmse(gpu, n, pos0, window, softcap, headDim, 0, 600);
        assertTrue(e[0] < 1e-9, "NMSE " + e[0]);
        assertTrue(e[1] < 1e-9, "sized for 600 more positions: NMSE " + e[1]);
    }

    /**
     * Q8_0 and Q4_0 caches get llama.cpp's bytes (the CPU cache's quantizer), a warp per block: random rows, a block
     * of zeros (scale 0), and blocks whose largest magnitude appears twice with opposite signs (Q4_0 takes the
     * first one's sign), in rows from position 3 of a 16-row cache.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0"})
    void storeKvQuantizesLikeTheCpuCache(GgmlType type) {
        int width = 128;
        int n = 5;
        int pos0 = 3;
        float[] k = randomFloats(n * width, 83);
        float[] v = randomFloats(n * width, 84);
        java.util.Arrays.fill(k, 0, 32, 0f);
        k[32 + 5] = -3f;
        k[32 + 20] = 3f;
        v[64 + 20] = 2.5f;
        v[64 + 7] = -2.5f;
        long row = CudaKernels.cacheRowBytes(type, width);
        try (DeviceBuffer kc = ctx.allocate(16 * row); DeviceBuffer vc = ctx.allocate(16 * row);
             DeviceBuffer dk = upload(ctx, k); DeviceBuffer dv = upload(ctx, v); DeviceBuffer dp = position(ctx, pos0)) {
            gpu.storeKv(kc, vc, dk, dv, dp, n, width, 16, null, type, type);
            byte[] got = new byte[(int) (n * row)];
            ctx.download(kc, pos0 * row, got, 0, got.length);
            assertArrayEquals(Quantizer.quantize(type, k), got, "keys");
            ctx.download(vc, pos0 * row, got, 0, got.length);
            assertArrayEquals(Quantizer.quantize(type, v), got, "values");
        }
    }

    /**
     * Attention reads Q8_0 and Q4_0 caches as they are: decode (blocks of 256 rows) exactly as the CPU over the
     * decoded values, prefill (tiles that hold F16) within F16 rounding of them; sliding windows, heads of 64 and 256,
     * and the tensor-core prefill as well.
     */
    @ParameterizedTest
    @CsvSource({"Q8_0, 1, 300, 2147483647, 0, 64", "Q4_0, 1, 90, 2147483647, 0, 256", "Q4_0, 1, 300, 200, 0.5, 64",
            "Q8_0, 45, 200, 2147483647, 0, 64", "Q4_0, 40, 150, 100, 0, 64", "Q8_0, 9, 80, 50, 0, 256"})
    void attentionReadsQuantizedCaches(GgmlType type, int n, int pos0, int window, float softcap, int headDim) {
        double bound = n == 1 ? 1e-9 : 1e-6;
        // decode sized for more positions than it uses too, as a captured graph is
        double[] e = n == 1 ? attentionNmse(gpu, type, n, pos0, window, softcap, headDim, 0, 300)
                : attentionNmse(gpu, type, n, pos0, window, softcap, headDim, 0);
        for (double error : e) {
            assertTrue(error < bound, type + ": NMSE " + java.util.Arrays.toString(e));
        }
        if (n > 1) {
            try (CudaKernels mma = new CudaKernels(ctx, true)) {
                double m = attentionNmse(mma, type, n, pos0, window, softcap, headDim, 0)[0];
                assertTrue(m < 1e-5, type + " on tensor cores: NMSE " + m);
            }
        }
    }

    /**
     * A context shift over block-type caches: moved values keep their bytes (a block re-quantizes to itself), keys
     * moved without a turn too; turned keys (shift_kv, and a ring's turn in place) hold what the CPU cache holds
     * after turning the decoded keys and quantizing them again.
     */
    @ParameterizedTest
    @CsvSource({"Q8_0, false", "Q4_0, true"})
    void shiftsOfQuantizedCachesMoveValuesAndTurnKeys(GgmlType type, boolean neox) {
        int kvHeads = 2;
        int headDim = 64;
        int width = kvHeads * headDim;
        int rows = 12;
        int pairs = headDim / 2;
        long row = CudaKernels.cacheRowBytes(type, width);
        float[] k = randomFloats(rows * width, 85);
        float[] v = randomFloats(rows * width, 86);
        float[] cos = new float[pairs];
        float[] sin = new float[pairs];
        for (int i = 0; i < pairs; i++) {
            double angle = -3 * Math.pow(10000, -2.0 * i / headDim);
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) Math.sin(angle);
        }
        byte[] keys = Quantizer.quantize(type, k);
        byte[] values = Quantizer.quantize(type, v);
        try (DeviceBuffer kc = ctx.allocate(rows * row); DeviceBuffer vc = ctx.allocate(rows * row);
             DeviceBuffer dk = upload(ctx, k); DeviceBuffer dv = upload(ctx, v); DeviceBuffer zero = position(ctx, 0);
             DeviceBuffer dc = upload(ctx, cos); DeviceBuffer ds = upload(ctx, sin)) {
            gpu.storeKv(kc, vc, dk, dv, zero, rows, width, rows, null, type, type);
            // rows 8..11 to 2..5 unturned, then 6..7 to 0..1 turned
            gpu.shiftKv(kc, vc, dc, ds, 8, 2, 4, kvHeads, headDim, 0, neox, type, type);
            gpu.shiftKv(kc, vc, dc, ds, 6, 0, 2, kvHeads, headDim, headDim, neox, type, type);
            byte[] got = new byte[(int) (rows * row)];
            ctx.download(vc, 0, got, 0, got.length);
            assertArrayEquals(java.util.Arrays.copyOfRange(values, (int) (6 * row), (int) (12 * row)),
                    java.util.Arrays.copyOfRange(got, 0, (int) (6 * row)), "values moved");
            ctx.download(kc, 0, got, 0, got.length);
            assertArrayEquals(java.util.Arrays.copyOfRange(keys, (int) (8 * row), (int) (12 * row)),
                    java.util.Arrays.copyOfRange(got, (int) (2 * row), (int) (6 * row)), "keys moved unturned");
            float[] want = turnedAndRequantized(type, keys, 6, 2, width, headDim, cos, sin, neox);
            float[] turned = new float[2 * width];
            Dequantizer.dequantize(type, got, 0, turned, 0, 2 * width);
            assertTrue(nmse(want, turned) < 1e-6, "keys turned by shift_kv: NMSE " + nmse(want, turned));
            // a ring of 12 rows whose origin is 5: positions 3..6 lie in rows 8..11, turned in place
            gpu.turnRingKeys(kc, dc, ds, 3, 4, kvHeads, headDim, headDim, neox, rows, 5, type);
            ctx.download(kc, 0, got, 0, got.length);
            want = turnedAndRequantized(type, keys, 8, 4, width, headDim, cos, sin, neox);
            turned = new float[4 * width];
            Dequantizer.dequantize(type, got, (int) (8 * row), turned, 0, 4 * width);
            assertTrue(nmse(want, turned) < 1e-6, "ring keys turned in place: NMSE " + nmse(want, turned));
        }
    }

    /** Rows [from, from + count) of a block-type cache's bytes, decoded, turned as RoPE turns them, stored again. */
    private static float[] turnedAndRequantized(GgmlType type, byte[] cache, int from, int count, int width,
                                                int headDim, float[] cos, float[] sin, boolean neox) {
        long row = CudaKernels.cacheRowBytes(type, width);
        float[] x = new float[count * width];
        Dequantizer.dequantize(type, cache, (int) (from * row), x, 0, x.length);
        int half = headDim / 2;
        for (int h = 0; h < count * width / headDim; h++) {
            int base = h * headDim;
            for (int i = 0; i < half; i++) {
                int i0 = base + (neox ? i : 2 * i);
                int i1 = base + (neox ? i + half : 2 * i + 1);
                float x0 = x[i0];
                float x1 = x[i1];
                x[i0] = x0 * cos[i] - x1 * sin[i];
                x[i1] = x0 * sin[i] + x1 * cos[i];
            }
        }
        float[] out = new float[x.length];
        Dequantizer.dequantize(type, Quantizer.quantize(type, x), 0, out, 0, x.length);
        return out;
    }
}
