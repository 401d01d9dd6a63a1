package dev.vellama.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Secondary results JMH normalizes per second: {@code weightGB} becomes GB/s of weights read and {@code gflop}
 * GFLOP/s (2 flops per weight per token).
 */
@AuxCounters(AuxCounters.Type.OPERATIONS)
@State(Scope.Thread)
public class Throughput {
    public double weightGB;
    public double gflop;

    @Setup(Level.Iteration)
    public void reset() {
        weightGB = 0;
        gflop = 0;
    }

    void add(long weightBytes, long flops) {
        weightGB += weightBytes * 1e-9;
        gflop += flops * 1e-9;
    }
}
