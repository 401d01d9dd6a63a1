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

import dev.vellama.quant.Kernels;

/**
 * One query head attending over {@code positions} cached positions, as the forward pass computes it: scores as the
 * query times the keys stored dimension by dimension ({@code vecmat} over the head dimension), softmax, then the
 * probabilities times the values ({@code vecmat} over positions). {@code weightGB} counts the key and value floats
 * read, {@code gflop} the two products.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:PerBytecodeTrapLimit=1000", "-XX:PerMethodTrapLimit=100000"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class AttentionBenchmark {
    @Param({"256", "1024", "4096"})
    public int positions;

    @Param({"64"})
    public int headDim;

    @Param({"vector", "scalar"})
    public String impl;

    private Kernels kernels;
    private float[] q;
    private float[] keys;   // [dim][position]
    private float[] values; // [position][dim]
    private float[] scores;
    private float[] out;

    @Setup
    public void setup() {
        kernels = impl.equals("scalar") ? Kernels.scalar(1) : Kernels.create(1);
        q = KernelState.activations(headDim);
        keys = KernelState.activations(headDim * positions);
        values = KernelState.activations(positions * headDim);
        scores = new float[positions];
        out = new float[headDim];
    }

    @TearDown
    public void tearDown() {
        kernels.close();
    }

    @Benchmark
    public float attend(Throughput t) {
        java.util.Arrays.fill(scores, 0f);
        kernels.vecmat(q, 0, headDim, keys, 0, positions, scores, 0, positions);
        kernels.scale(scores, 0, positions, 0.125f);
        kernels.softmax(scores, 0, positions);
        java.util.Arrays.fill(out, 0f);
        kernels.vecmat(scores, 0, positions, values, 0, headDim, out, 0, headDim);
        t.add(8L * headDim * positions, 4L * headDim * positions);
        return out[0];
    }
}
