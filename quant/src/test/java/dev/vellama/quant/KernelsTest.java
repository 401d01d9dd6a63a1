package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

import dev.vellama.gguf.GgmlType;

/** The scalar reference against the definitions, the pool, and the startup selection. */
class KernelsTest {

    @Test
    void scalarMatvecAndMatmulFollowTheDefinition() {
        WeightMatrix w = SyntheticWeights.heap(GgmlType.Q4_K, 9, 512, 3);
        float[] x = KernelTestSupport.randomFloats(3 * 512, 4);
        float[] row = new float[512];
        try (Kernels k = Kernels.scalar(2)) {
            float[] mv = new float[9];
            float[] mm = new float[3 * 9];
            k.matvec(w, x, mv);
            k.matmul(w, x, 3, mm);
            for (int r = 0; r < 9; r++) {
                k.dequantizeRow(w, r, row, 0);
                for (int t = 0; t < 3; t++) {
                    double want = 0;
                    for (int c = 0; c < 512; c++) {
                        want += (double) row[c] * x[t * 512 + c];
                    }
                    assertEquals(want, mm[t * 9 + r], 1e-4 * Math.max(1, Math.abs(want)), "matmul row " + r + " token " + t);
                    if (t == 0) {
                        assertEquals(mm[r], mv[r], "matvec equals the first matmul column");
                    }
                }
            }
        }
    }

    @Test
    void scalarRopeRotatesPairs() {
        try (Kernels k = Kernels.scalar(1)) {
            float[] x = {1, 2, 3, 4, 5};
            k.rope(x, 0, 1, 4, 4, new float[] {0, 1}, new float[] {1, 0}, false);
            // Pair (0,1) rotates by 90°, pair (2,3) by 0°; element 4 is outside the head.
            assertEquals(-2, x[0]);
            assertEquals(1, x[1]);
            assertEquals(3, x[2]);
            assertEquals(4, x[3]);
            float[] y = {1, 2, 3, 4};
            k.rope(y, 0, 1, 4, 4, new float[] {0, 1}, new float[] {1, 0}, true);
            // neox pairs (0,2) by 90° and (1,3) by 0°.
            assertEquals(-3, y[0]);
            assertEquals(2, y[1]);
            assertEquals(1, y[2]);
            assertEquals(4, y[3]);
        }
    }

    @Test
    void parallelForCoversEveryIndexOnce() {
        for (int threads : new int[] {1, 2, 3}) {
            try (Kernels k = Kernels.create(threads)) {
                for (int count : new int[] {0, 1, 2, 5, 1000}) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(1, count));
                    for (int rep = 0; rep < 20; rep++) {
                        k.parallelFor(count, (start, end) -> {
                            for (int i = start; i < end; i++) {
                                seen.incrementAndGet(i);
                            }
                        });
                    }
                    for (int i = 0; i < count; i++) {
                        assertEquals(20, seen.get(i), "index " + i + " of " + count + " with " + threads + " threads");
                    }
                }
            }
        }
    }

    /** A job limited to fewer parts still covers every index once, and one part runs on the calling thread. */
    @Test
    void poolRunsOnFewerPartsWhenAsked() {
        try (WorkerPool pool = new WorkerPool(3, "test-pool")) {
            for (int maxParts : new int[] {1, 2, 3, 7}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(100);
                java.util.Set<Thread> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
                pool.run(100, maxParts, (part, start, end) -> {
                    threads.add(Thread.currentThread());
                    for (int i = start; i < end; i++) {
                        seen.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < 100; i++) {
                    assertEquals(1, seen.get(i), "index " + i + " with at most " + maxParts + " parts");
                }
                assertTrue(threads.size() <= Math.min(3, maxParts), threads.size() + " threads for " + maxParts + " parts");
                if (maxParts == 1) {
                    assertEquals(java.util.Set.of(Thread.currentThread()), threads);
                }
            }
        }
    }

    @Test
    void parallelForRethrowsAPartsFailure() {
        try (Kernels k = Kernels.create(2)) {
            var e = assertThrows(IllegalStateException.class, () -> k.parallelFor(10, (start, end) -> {
                if (start > 0) {
                    throw new IllegalStateException("part failed");
                }
            }));
            assertEquals("part failed", e.getMessage());
            // The pool still works afterwards.
            int[] sum = new int[1];
            k.parallelFor(1, (start, end) -> sum[0] = end);
            assertEquals(1, sum[0]);
        }
    }

    @Test
    void createPicksVectorKernelsAndDescribesThem() {
        try (Kernels k = Kernels.create(2)) {
            assertEquals(2, k.threads());
            assertTrue(k.description().startsWith("Vector API, "), k.description());
            assertTrue(k.description().endsWith("-bit floats, C2, 2 threads") || k.description().contains("C1")
                    || k.description().contains("interpreter"), k.description());
        }
        try (Kernels k = Kernels.scalar(1)) {
            assertEquals("scalar, 1 thread", k.description());
        }
    }

    @Test
    void forcedWidthIsHonouredAndBadWidthRejected() {
        assertEquals(256, VectorKernelsFactory.species("256").vectorBitSize());
        assertEquals(128, VectorKernelsFactory.species("128").vectorBitSize());
        assertThrows(IllegalArgumentException.class, () -> VectorKernelsFactory.species("100"));
    }

    @Test
    void shapeMismatchIsRejected() {
        WeightMatrix w = SyntheticWeights.heap(GgmlType.Q8_0, 4, 64, 1);
        try (Kernels k = Kernels.scalar(1)) {
            assertThrows(IllegalArgumentException.class, () -> k.matvec(w, new float[32], new float[4]));
            assertThrows(IllegalArgumentException.class, () -> k.matmul(w, new float[64], 2, new float[8]));
        }
    }
}
