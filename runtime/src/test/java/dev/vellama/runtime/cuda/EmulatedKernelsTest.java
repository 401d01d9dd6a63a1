package dev.vellama.runtime.cuda;

import static dev.vellama.runtime.cuda.CudaTestSupport.nmse;
import static dev.vellama.runtime.cuda.CudaTestSupport.randomFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.Kernels;
import dev.vellama.quant.SyntheticWeights;
import dev.vellama.quant.WeightMatrix;

/**
 * The CUDA kernels, built for the host with nvcc and run by the thread-per-CUDA-thread emulator of
 * {@code src/test/cuda}, with the launch shapes of {@link CudaKernels}, against the CPU kernels. This checks the
 * kernels' indexing, reductions and shuffles on machines without a GPU; skipped where nvcc is missing.
 */
class EmulatedKernelsTest {
    static Path work;
    static Path program;
    static Kernels cpu;

    @BeforeAll
    static void build() throws IOException, InterruptedException {
        Path nvcc = NvccCompileTest.nvcc();
        work = Files.createTempDirectory("kernel-emulation");
        program = work.resolve("kernel_emulation");
        run(nvcc.toString(), "-std=c++20", "-O1", "-o", program.toString(), "src/test/cuda/kernel_emulation.cpp");
        cpu = Kernels.scalar(1);
    }

    @AfterAll
    static void clean() throws IOException {
        if (cpu != null) {
            cpu.close();
        }
        if (work != null) {
            try (Stream<Path> s = Files.walk(work)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K", "Q6_K", "F16"})
    void matvecAndMatmulGiveTheDotProductsOfTheDecodedRows(GgmlType type) throws Exception {
        int rows = 67; // two 64-row tiles of the batched kernel
        int cols = 512;
        WeightMatrix w = SyntheticWeights.heap(type, rows, cols, 100 + type.ordinal());
        float[][] dequant = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            Dequantizer.dequantizeRow(w, r, dequant[r], 0);
        }
        for (int n : new int[] {1, 3, 8, 11, 70}) { // 70 crosses a 64-token tile; up to 8 also runs matvecn
            float[] x = randomFloats(n * cols, 7 + n);
            float[] want = new float[n * rows];
            for (int t = 0; t < n; t++) {
                for (int r = 0; r < rows; r++) {
                    double s = 0;
                    for (int c = 0; c < cols; c++) {
                        s += (double) dequant[r][c] * x[t * cols + c];
                    }
                    want[t * rows + r] = (float) s;
                }
            }
            bytes("w.bin", w.data().asSlice(0, w.byteSize()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            floats("x.bin", x);
            run(program.toString(), "matmul", work.toString(), suffix(type), "" + rows, "" + cols, "" + n);
            float[] got = floats("y.bin");
            assertTrue(nmse(want, got) < 1e-10, type + " n=" + n + " NMSE " + nmse(want, got));
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K", "Q6_K", "F16"})
    void getRowsDecodesTheRequestedRows(GgmlType type) throws Exception {
        WeightMatrix w = SyntheticWeights.heap(type, 9, 256, 200 + type.ordinal());
        int[] ids = {8, 0, 3};
        bytes("w.bin", w.data().asSlice(0, w.byteSize()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        ByteBuffer b = ByteBuffer.allocate(4 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int id : ids) {
            b.putInt(id);
        }
        bytes("ids.bin", b.array());
        run(program.toString(), "get_rows", work.toString(), suffix(type), "256", "" + ids.length);
        float[] want = new float[ids.length * 256];
        for (int t = 0; t < ids.length; t++) {
            Dequantizer.dequantizeRow(w, ids[t], want, t * 256);
        }
        assertArrayEquals(want, floats("out.bin"));
    }

    @ParameterizedTest
    @ValueSource(ints = {64, 288, 1000})
    void rmsnormAndSoftmaxMatchTheCpu(int n) throws Exception {
        int rows = 3;
        float[] x = randomFloats(rows * n, n);
        float[] weight = randomFloats(n, n + 1);
        float[] want = new float[rows * n];
        float[] soft = x.clone();
        for (int r = 0; r < rows; r++) {
            cpu.rmsnorm(want, r * n, x, r * n, weight, n, 1e-6f);
            cpu.softmax(soft, r * n, n);
        }
        floats("x.bin", x);
        floats("w.bin", weight);
        run(program.toString(), "rmsnorm", work.toString(), "" + rows, "" + n, Float.toString(1e-6f));
        assertTrue(nmse(want, floats("out.bin")) < 1e-12, "rmsnorm NMSE " + nmse(want, floats("out.bin")));
        run(program.toString(), "softmax", work.toString(), "" + rows, "" + n);
        assertTrue(nmse(soft, floats("out.bin")) < 1e-12, "softmax NMSE " + nmse(soft, floats("out.bin")));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void ropeMatchesTheCpu(boolean neox) throws Exception {
        int n = 3;
        int heads = 5;
        int headDim = 64;
        int nRot = 32;
        int pos0 = 9;
        int pairs = nRot / 2;
        float[] cos = new float[(pos0 + n) * pairs];
        float[] sin = new float[(pos0 + n) * pairs];
        for (int i = 0; i < cos.length; i++) {
            double theta = (i / pairs) * Math.pow(10000, -2.0 * (i % pairs) / nRot);
            cos[i] = (float) Math.cos(theta);
            sin[i] = (float) Math.sin(theta);
        }
        float[] x = randomFloats(n * heads * headDim, 3);
        float[] want = x.clone();
        for (int t = 0; t < n; t++) {
            int p = (pos0 + t) * pairs;
            cpu.rope(want, t * heads * headDim, heads, headDim, nRot, Arrays.copyOfRange(cos, p, p + pairs),
                    Arrays.copyOfRange(sin, p, p + pairs), neox);
        }
        floats("x.bin", x);
        floats("cos.bin", cos);
        floats("sin.bin", sin);
        run(program.toString(), "rope", work.toString(), "" + n, "" + heads, "" + headDim, "" + nRot, "" + pos0,
                neox ? "1" : "0");
        assertArrayEquals(want, floats("out.bin"));
    }

    @Test
    void elementwiseKernelsMatchTheCpu() throws Exception {
        int width = 300;
        int n = 4 * width;
        float[] g = randomFloats(n, 21);
        float[] u = randomFloats(n, 22);
        float[] b = randomFloats(width, 23);
        float[] glu = g.clone();
        cpu.swiglu(glu, u, n);
        float[] sum = g.clone();
        cpu.add(sum, 0, u, 0, n);
        float[] biased = g.clone();
        for (int t = 0; t < 4; t++) {
            cpu.add(biased, t * width, b, 0, width);
        }
        floats("g.bin", g);
        floats("u.bin", u);
        floats("b.bin", b);
        run(program.toString(), "elementwise", work.toString(), "" + n, "" + width);
        assertTrue(nmse(glu, floats("glu.bin")) < 1e-12);
        assertArrayEquals(sum, floats("sum.bin"));
        assertArrayEquals(biased, floats("bias.bin"));
        // the CUDA kernel evaluates the tanh form, as llama.cpp's CUDA backend does; the CPU kernels round through
        // llama.cpp's F16 table instead, so the expected values are the formula's
        float[] gg = new float[n];
        for (int i = 0; i < n; i++) {
            float x = g[i];
            gg[i] = 0.5f * x * (1.0f + (float) Math.tanh(0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x)));
        }
        float[] scaled = g.clone();
        cpu.scale(scaled, 0, n, 1.5f);
        float[] capped = new float[n];
        for (int i = 0; i < n; i++) {
            gg[i] *= u[i];
            capped[i] = 2f * (float) Math.tanh(g[i] / 2f);
        }
        assertTrue(nmse(gg, floats("geglu.bin")) < 1e-12, "geglu NMSE " + nmse(gg, floats("geglu.bin")));
        assertArrayEquals(scaled, floats("scaled.bin"));
        assertTrue(nmse(capped, floats("capped.bin")) < 1e-12);
    }

    private static String suffix(GgmlType type) {
        return type.name().toLowerCase();
    }

    private static void bytes(String name, byte[] data) throws IOException {
        Files.write(work.resolve(name), data);
    }

    private static void floats(String name, float[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        Files.write(work.resolve(name), b.array());
    }

    private static float[] floats(String name) throws IOException {
        byte[] bytes = Files.readAllBytes(work.resolve(name));
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    private static void run(String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " timed out");
        }
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + log);
    }
}
