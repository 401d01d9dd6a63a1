package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import dev.vellama.gguf.GgufFile;
import dev.vellama.testdata.TestData;
import dev.vellama.quant.Kernels;

/**
 * The CPU batched pass refuses what the GPU one refuses: unknown slots, a slot twice, positions past a slot; and
 * gives each sequence of a batch what it gets alone.
 */
class CpuBatchedPassTest {
    /**
     * Prompts that start in one step (long ones, whose products a packed matrix takes together, short ones and
     * single rows, which go through matvecMany) each get the logits they get alone, bit for bit, in the
     * quantization types with packed kernels and in one without.
     */
    @ParameterizedTest
    @ValueSource(strings = {"stories-llama2-q4_0.gguf", "stories-llama2-q4_k_m.gguf", "stories-llama2-q8_0.gguf"})
    void promptsThatStartTogetherGetWhatTheyGetAlone(String model) throws Exception {
        int[] lengths = {20, 1, 15, 5, 33};
        try (GgufFile file = GgufFile.open(TestData.model(model)); Kernels k = Kernels.create(2)) {
            ModelConfig c = ModelConfig.fromGguf(file.metadata(), (int) file.tensor("token_embd.weight").rows());
            ModelWeights weights = new ModelWeights(file, c);
            int rows = Arrays.stream(lengths).sum();
            int[] tokens = new int[rows];
            for (int i = 0; i < rows; i++) {
                tokens[i] = 1 + (i * 7919) % (c.vocabSize() - 1);
            }
            BatchedPass.Segment[] together = new BatchedPass.Segment[lengths.length];
            int[] last = new int[lengths.length];
            for (int i = 0, row = 0; i < lengths.length; row += lengths[i], i++) {
                together[i] = new BatchedPass.Segment(i, row, lengths[i], 0);
                last[i] = row + lengths[i] - 1;
            }
            float[] all;
            try (CpuBatchedPass pass = new CpuBatchedPass(c, weights, k, lengths.length, 64, rows, dev.vellama.gguf.GgmlType.F16)) {
                all = pass.forwardBatch(tokens, rows, together, lengths.length, last, lengths.length).clone();
            }
            int vocab = c.vocabSize();
            for (int i = 0; i < lengths.length; i++) {
                int from = together[i].row();
                int[] own = Arrays.copyOfRange(tokens, from, from + lengths[i]);
                float[] alone;
                try (CpuBatchedPass pass = new CpuBatchedPass(c, weights, k, 1, 64, lengths[i], dev.vellama.gguf.GgmlType.F16)) {
                    alone = pass.forwardBatch(own, own.length, new BatchedPass.Segment[] {
                            new BatchedPass.Segment(0, 0, own.length, 0)}, 1, new int[] {own.length - 1}, 1);
                }
                assertArrayEquals(alone, Arrays.copyOfRange(all, i * vocab, (i + 1) * vocab),
                        model + ": the " + lengths[i] + "-token prompt of the batch against alone");
            }
        }
    }

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
