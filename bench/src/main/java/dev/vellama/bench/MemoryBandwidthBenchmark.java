package dev.vellama.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
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
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's memory read bandwidth as a Java program sees it: 1 GiB off-heap, summed with the widest long
 * vectors, split in contiguous ranges across the same worker pool the kernels use. The ceiling for matvec.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:PerBytecodeTrapLimit=1000", "-XX:PerMethodTrapLimit=100000"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class MemoryBandwidthBenchmark {
    private static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;
    private static final long SIZE = 1L << 30;
    private static final int CHUNKS = 1 << 12;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private MemorySegment buffer;
    private Kernels kernels;
    private final long[] partial = new long[CHUNKS];

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        buffer = arena.allocate(SIZE, 64);
        for (long o = 0; o < SIZE; o += 8) {
            buffer.set(java.lang.foreign.ValueLayout.JAVA_LONG, o, o);
        }
        kernels = Kernels.create(threads);
    }

    @TearDown
    public void tearDown() {
        kernels.close();
        arena.close();
    }

    @Benchmark
    public long readAll(Throughput t) {
        kernels.parallelFor(CHUNKS, (start, end) -> {
            long chunk = SIZE / CHUNKS;
            for (int c = start; c < end; c++) {
                partial[c] = sum(buffer, c * chunk, chunk);
            }
        });
        t.add(SIZE, 0);
        long s = 0;
        for (long p : partial) {
            s += p;
        }
        return s;
    }

    private static long sum(MemorySegment seg, long off, long len) {
        LongVector a0 = LongVector.zero(LS);
        LongVector a1 = LongVector.zero(LS);
        long step = LS.vectorByteSize();
        for (long o = off; o < off + len; o += 2 * step) {
            a0 = a0.add(LongVector.fromMemorySegment(LS, seg, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(LongVector.fromMemorySegment(LS, seg, o + step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }
}
