package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.SyntheticWeights;
import dev.vellama.quant.WeightMatrix;

/**
 * The GPU block decoders (quant.cuh), built for the host with nvcc, give exactly the Java dequantizer's values.
 * This checks the GPU's reading of every block layout on machines with nvcc and no GPU; skipped without nvcc.
 */
class HostDecoderTest {
    static Path work;
    static Path program;

    @BeforeAll
    static void build() throws IOException, InterruptedException {
        Path nvcc = NvccCompileTest.nvcc();
        work = Files.createTempDirectory("decode-check");
        program = work.resolve("decode_check");
        run(nvcc.toString(), "-o", program.toString(), Path.of("src/test/cuda/decode_check.cu").toString());
    }

    @AfterAll
    static void clean() throws IOException {
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
    void everyElementMatchesTheJavaDequantizer(GgmlType type) throws IOException, InterruptedException {
        int rows = 7;
        int cols = 768;
        WeightMatrix w = SyntheticWeights.heap(type, rows, cols, 5 + type.ordinal());
        Path in = work.resolve(type + ".in");
        Path out = work.resolve(type + ".out");
        Files.write(in, w.data().asSlice(0, w.byteSize()).toArray(ValueLayout.JAVA_BYTE));
        run(program.toString(), type.name().toLowerCase(), Integer.toString(rows), Integer.toString(cols),
                in.toString(), out.toString());
        byte[] bytes = Files.readAllBytes(out);
        assertEquals(4L * rows * cols, bytes.length);
        float[] got = new float[rows * cols];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(got);
        float[] want = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            Dequantizer.dequantizeRow(w, r, want, r * cols);
        }
        assertArrayEquals(want, got, type + " decoded differently on the GPU path");
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " timed out");
        }
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + log);
    }
}
