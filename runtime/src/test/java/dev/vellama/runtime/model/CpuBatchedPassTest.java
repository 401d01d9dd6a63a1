package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import dev.vellama.gguf.GgufFile;
import dev.vellama.testdata.TestData;
import dev.vellama.quant.Kernels;

/** The CPU batched pass refuses what the GPU one refuses: unknown slots, a slot twice, positions past a slot. */
class CpuBatchedPassTest {
    @Test
    void refusesBatchesItCannotRun() throws Exception {
        try (GgufFile file = GgufFile.open(TestData.model("stories-llama2-q8_0.gguf")); Kernels k = Kernels.create(1)) {
            ModelConfig c = ModelConfig.fromGguf(file.metadata(), (int) file.tensor("token_embd.weight").rows());
            CpuBatchedPass pass = new CpuBatchedPass(c, new ModelWeights(file, c), k, 2, 16, 4, dev.vellama.gguf.GgmlType.F16);
            int[] t = {1, 2};
            int[] last = {1};
            assertThrows(IllegalArgumentException.class, () -> pass.forwardBatch(t, 2, new BatchedPass.Segment[] {
                    new BatchedPass.Segment(0, 0, 1, 0), new BatchedPass.Segment(0, 1, 1, 1)}, 2, last, 1), "one slot twice");
            assertThrows(IllegalArgumentException.class, () -> pass.forwardBatch(t, 2, new BatchedPass.Segment[] {
                    new BatchedPass.Segment(2, 0, 2, 0)}, 1, last, 1), "no slot 2");
            assertThrows(IllegalArgumentException.class, () -> pass.forwardBatch(t, 2, new BatchedPass.Segment[] {
                    new BatchedPass.Segment(1, 0, 2, 15)}, 1, last, 1), "past the slot's positions");
        }
    }
}
