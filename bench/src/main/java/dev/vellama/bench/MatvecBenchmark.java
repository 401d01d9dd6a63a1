package dev.vellama.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Matrix-vector products (one token of decode) at Llama-3.2-1B shapes (rows×cols): attention 2048×2048, FFN up
 * 8192×2048, FFN down 2048×8192, output 128256×2048.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:PerBytecodeTrapLimit=1000", "-XX:PerMethodTrapLimit=100000", "-Xmx8g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class MatvecBenchmark {
    @Param({"Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    public String type;

    @Param({"2048x8192"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    @Param({"vector"})
    public String impl;

    /** Distinct matrices used in turn: 1 (cache-resident) or e.g. 16 (weights read from memory, as in decode). */
    @Param({"1"})
    public int copies;

    /** Tokens per call: 1 is a matvec, more a {@code matvecMany} (the decode step of that many batched sequences). */
    @Param({"1"})
    public int tokens;

    private KernelState state;
    private float[] x;
    private float[] out;

    @Setup
    public void setup() {
        state = new KernelState(type, shape, threads, impl, copies);
        x = KernelState.activations(tokens * state.w.cols());
        out = new float[tokens * state.w.rows()];
    }

    @TearDown
    public void tearDown() {
        state.close();
    }

    @Benchmark
    public float matvec(Throughput t) {
        var w = state.nextMatrix();
        if (tokens == 1) {
            state.kernels.matvec(w, x, out);
        } else {
            state.kernels.matvecMany(w, x, tokens, out);
        }
        t.add(w.byteSize(), 2L * tokens * w.rows() * w.cols());
        return out[0];
    }
}
