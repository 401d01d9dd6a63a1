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

/** Batched products (prompt processing): {@code tokens} activation rows against one weight matrix. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:PerBytecodeTrapLimit=1000", "-XX:PerMethodTrapLimit=100000", "-Xmx8g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class MatmulBenchmark {
    @Param({"Q4_0", "Q8_0", "Q4_K", "Q6_K"})
    public String type;

    @Param({"2048x2048"})
    public String shape;

    @Param({"32"})
    public int tokens;

    @Param({"2"})
    public int threads;

    @Param({"vector"})
    public String impl;

    private KernelState state;
    private float[] x;
    private float[] out;

    @Setup
    public void setup() {
        state = new KernelState(type, shape, threads, impl);
        x = KernelState.activations(tokens * state.w.cols());
        out = new float[tokens * state.w.rows()];
    }

    @TearDown
    public void tearDown() {
        state.close();
    }

    @Benchmark
    public float matmul(Throughput t) {
        state.kernels.matmul(state.w, x, tokens, out);
        t.add(state.w.byteSize(), 2L * tokens * state.w.rows() * state.w.cols());
        return out[0];
    }
}
