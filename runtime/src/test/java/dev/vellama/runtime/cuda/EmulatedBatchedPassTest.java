package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Kernels;
import dev.vellama.runtime.model.BatchedPass.Segment;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.KvCache;

/**
 * {@link CudaForwardPass#forwardBatch} (continuous batching on the GPU) on the stand-in driver whose kernels run in
 * host emulation: three sequences in three cache slots, prompt chunks and decode rows mixed in one call. Each
 * sequence's logits equal, bit for bit, those of a GPU pass running that sequence alone (decode rows go through the
 * few-token matrix-vector kernel, prompt chunks through their own matmul), and are within the GPU's usual bound of
 * the CPU pass. Whole model on the GPU and half offloaded (the CPU layers then run the batch with a cache per slot).
 * Skipped where nvcc is missing.
 */
class EmulatedBatchedPassTest {
    private static final int CONTEXT = 16;
    private static final double BOUND = 2e-3; // as EmulatedForwardPassTest: GPU F32 products against CPU int8 ones

    @ParameterizedTest(name = "{0} with --gpu-layers {1}, {2} cache")
    // plain; soft-caps and tied output; fused, half offloaded; slots of a Q8_0 cache (rows of 34-byte blocks)
    @CsvSource({"llama, 99, F16", "gemma2, 99, F16", "phi3, 1, F16", "llama, 99, Q8_0"})
    void eachSequenceGetsItsLoneLogits(String arch, int gpuLayers, GgmlType cache) throws Exception {
        TinyModel.with(arch, 11, (c, w, driver) -> {
            try (Kernels k = Kernels.create(1)) {
                int v = TinyModel.VOCAB;
                ForwardPass[] cpu = new ForwardPass[3];
                CudaForwardPass[] alone = new CudaForwardPass[3];
                for (int i = 0; i < 3; i++) {
                    cpu[i] = new ForwardPass(c, w, k, KvCache.of(c, 0, CONTEXT, cache, cache), 8);
                    alone[i] = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 1, CONTEXT, 8, gpuLayers, 1,
                            cache, cache, s -> { });
                }
                try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 3, CONTEXT, 10,
                        gpuLayers, 1, cache, cache, s -> { })) {
                    Lone lone = (slot, tokens, pos) -> {
                        float[] want = alone[slot].forwardLast(tokens, 0, tokens.length, pos).clone();
                        float[] reference = cpu[slot].forwardLast(tokens, 0, tokens.length, pos);
                        double e = CudaTestSupport.nmse(Arrays.copyOf(reference, v), Arrays.copyOf(want, v));
                        assertTrue(e < BOUND, arch + " slot " + slot + " at " + pos + " against the CPU: NMSE " + e);
                        return want;
                    };
                    // step 1: slot 0's prompt of 5 and slot 2's prompt of 3; logits of each last row
                    int[] p0 = {3, 17, 95, 0, 42};
                    int[] p2 = {5, 9, 11};
                    int[] rows = {3, 17, 95, 0, 42, 5, 9, 11};
                    float[] got = gpu.forwardBatch(rows, 8, new Segment[] {new Segment(0, 0, 5, 0), new Segment(2, 5, 3, 0)},
                            2, new int[] {4, 7}, 2);
                    check(lone.logits(0, p0, 0), got, 0, v, arch + " slot 0 prompt");
                    check(lone.logits(2, p2, 0), got, 1, v, arch + " slot 2 prompt");
                    // step 2: slot 0 and 2 decode a token each, slot 1 starts a prompt of 2
                    got = gpu.forwardBatch(new int[] {7, 2, 8, 1}, 4, new Segment[] {new Segment(0, 0, 1, 5),
                            new Segment(2, 1, 1, 3), new Segment(1, 2, 2, 0)}, 3, new int[] {0, 1, 3}, 3);
                    got = got.clone();
                    check(lone.logits(0, new int[] {7}, 5), got, 0, v, arch + " slot 0 decode");
                    check(lone.logits(2, new int[] {2}, 3), got, 1, v, arch + " slot 2 decode");
                    check(lone.logits(1, new int[] {8, 1}, 0), got, 2, v, arch + " slot 1 prompt");
                    // step 3: one row alone (a matrix-vector product on the GPU), slot 1 at position 2
                    got = gpu.forwardBatch(new int[] {13}, 1, new Segment[] {new Segment(1, 0, 1, 2)}, 1, new int[] {0}, 1);
                    got = got.clone();
                    check(lone.logits(1, new int[] {13}, 2), got, 0, v, arch + " slot 1 decode");
                } finally {
                    for (CudaForwardPass p : alone) {
                        p.close();
                    }
                }
            }
        });
    }

    /**
     * A server slot's context shift on the GPU touches only its own rows and ring origin: two slots of gemma2 (rings
     * of 11 rows for the sliding layers) fill 16 positions in shared steps, slot 1 forgets 6 after 2, and the next
     * steps' decode rows of both slots equal, bit for bit, lone GPU passes fed and shifted the same way.
     */
    @Test
    void aSlotsShiftLeavesTheOtherSlotsAlone() throws Exception {
        TinyModel.with("gemma2", 19, (c, w, driver) -> {
            int v = TinyModel.VOCAB;
            int context = 32;
            int[][] tokens = new int[2][19];
            for (int s = 0; s < 2; s++) {
                for (int i = 0; i < 19; i++) {
                    tokens[s][i] = (i * 13 + 29 * s + 1) % v;
                }
            }
            try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 2, context, 8, 99, 1,
                    s -> { });
                 CudaForwardPass alone0 = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, context, 8, 99, 1,
                         s -> { });
                 CudaForwardPass alone1 = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, context, 8, 99, 1,
                         s -> { })) {
                for (int pos = 0; pos < 16; pos += 4) {
                    int[] rows = new int[8];
                    System.arraycopy(tokens[0], pos, rows, 0, 4);
                    System.arraycopy(tokens[1], pos, rows, 4, 4);
                    gpu.forwardBatch(rows, 8, new Segment[] {new Segment(0, 0, 4, pos), new Segment(1, 4, 4, pos)}, 2,
                            new int[] {3, 7}, 2);
                    alone0.forwardLast(tokens[0], pos, 4, pos);
                    alone1.forwardLast(tokens[1], pos, 4, pos);
                }
                assertTrue(gpu.shiftSlot(1, 2, 6, 16));
                assertTrue(alone1.shiftCache(2, 6, 16));
                for (int i = 16; i < 19; i++) {
                    float[] got = gpu.forwardBatch(new int[] {tokens[0][i], tokens[1][i]}, 2,
                            new Segment[] {new Segment(0, 0, 1, i), new Segment(1, 1, 1, i - 6)}, 2, new int[] {0, 1}, 2);
                    got = got.clone();
                    check(alone0.forwardLast(tokens[0], i, 1, i), got, 0, v, "slot 0 at " + i + ", not shifted");
                    check(alone1.forwardLast(tokens[1], i, 1, i - 6), got, 1, v, "slot 1 at " + (i - 6) + " after its shift");
                }
            }
        });
    }

    /**
     * A server slot saved and restored on the GPU (`/slots`): slot 0's cells copied into a heap cache and from it into
     * slot 2, after which both slots decode the same token to the same logits, bit for bit; for gemma2 the sliding
     * layers' rings (11 rows) have wrapped, for a Q8_0 cache the rows are blocks.
     */
    @ParameterizedTest(name = "{0}, {1} cache")
    @CsvSource({"llama, F16", "gemma2, F16", "llama, Q8_0"})
    void aSlotCopiedOutAndIntoAnotherGoesOnTheSame(String arch, GgmlType cache) throws Exception {
        TinyModel.with(arch, 23, (c, w, driver) -> {
            int v = TinyModel.VOCAB;
            int context = 32;
            int n = 14;
            int[] prompt = new int[n];
            for (int i = 0; i < n; i++) {
                prompt[i] = (i * 7 + 3) % v;
            }
            try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 3, context, 2 * n, 99, 1,
                    cache, cache, s -> { })) {
                int[] other = new int[n]; // slot 2 first holds another prompt, which the restore replaces
                for (int i = 0; i < n; i++) {
                    other[i] = (i * 5 + 1) % v;
                }
                int[] both = Arrays.copyOf(prompt, 2 * n);
                System.arraycopy(other, 0, both, n, n);
                gpu.forwardBatch(both, 2 * n, new Segment[] {new Segment(0, 0, n, 0), new Segment(2, n, n, 0)}, 2,
                        new int[] {n - 1, 2 * n - 1}, 2);
                float[] before = gpu.forwardBatch(new int[] {9, 9}, 2, new Segment[] {new Segment(0, 0, 1, n),
                        new Segment(2, 1, 1, n)}, 2, new int[] {0, 1}, 2).clone();
                assertTrue(!Arrays.equals(Arrays.copyOf(before, v), Arrays.copyOfRange(before, v, 2 * v)),
                        "a control: the two slots differ before the restore");
                assertTrue(gpu.copiesSlots());
                KvCache host = KvCache.of(c, 0, context, cache, cache);
                assertTrue(gpu.copySlotTo(0, host, n));
                assertTrue(gpu.copySlotFrom(2, host, n));
                float[] got = gpu.forwardBatch(new int[] {9, 9}, 2, new Segment[] {new Segment(0, 0, 1, n),
                        new Segment(2, 1, 1, n)}, 2, new int[] {0, 1}, 2).clone();
                check(Arrays.copyOfRange(got, 0, v), got, 1, v, arch + ": the restored slot decodes as the saved one");
                check(Arrays.copyOfRange(before, 0, v), got, 0, v, arch + ": slot 0 is as it was");
            }
        });
    }

    @Test
    void refusesBatchesItCannotRun() throws Exception {
        TinyModel.with("llama", 3, (c, w, driver) -> {
            try (CudaForwardPass gpu = CudaForwardPass.create(CudaContext.open(driver, 0), c, w, 2, CONTEXT, 4, 99, 1,
                    s -> { })) {
                int[] t = {1, 2};
                int[] last = {1};
                assertThrows(IllegalArgumentException.class, () -> gpu.forwardBatch(t, 2,
                        new Segment[] {new Segment(0, 0, 1, 0), new Segment(0, 1, 1, 1)}, 2, last, 1), "one slot twice");
                assertThrows(IllegalArgumentException.class, () -> gpu.forwardBatch(t, 2,
                        new Segment[] {new Segment(2, 0, 2, 0)}, 1, last, 1), "no slot 2");
                assertThrows(IllegalArgumentException.class, () -> gpu.forwardBatch(t, 2,
                        new Segment[] {new Segment(1, 0, 2, CONTEXT - 1)}, 1, last, 1), "past the slot's positions");
                assertThrows(IllegalArgumentException.class, () -> gpu.forwardBatch(t, 2,
                        new Segment[] {new Segment(1, 0, 1, 0)}, 1, last, 1), "rows left uncovered");
                assertThrows(IllegalArgumentException.class, () -> gpu.forwardBatch(new int[] {1, TinyModel.VOCAB}, 2,
                        new Segment[] {new Segment(1, 0, 2, 0)}, 1, last, 1), "a token outside the vocabulary");
            }
        });
    }

    /** A sequence's tokens through its lone GPU pass (checked against the CPU pass): the logits of the last. */
    private interface Lone {
        float[] logits(int slot, int[] tokens, int pos);
    }

    /** Row {@code row} of the batch's logits is one sequence's lone logits, bit for bit. */
    private static void check(float[] want, float[] got, int row, int v, String what) {
        assertArrayEquals(Arrays.copyOf(want, v), Arrays.copyOfRange(got, row * v, (row + 1) * v), what);
    }
}
