package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;

import dev.vellama.quant.Kernels;

/** {@link BatchedPass} on the CPU: one {@link ForwardPass} and a {@link KvCache} per slot on the Java heap. */
public final class CpuBatchedPass implements BatchedPass {
    private final ForwardPass pass;
    private final KvCache[] caches;
    private final int capacity;
    private final int maxBatch;
    private ForwardPass.Segment[] segments = new ForwardPass.Segment[0];

    public CpuBatchedPass(ModelConfig c, ModelWeights w, Kernels k, int slots, int slotCapacity, int maxBatch,
                          dev.vellama.gguf.GgmlType cacheType) {
        this.pass = new ForwardPass(c, w, k, slotCapacity, maxBatch);
        this.caches = new KvCache[slots];
        for (int i = 0; i < slots; i++) {
            caches[i] = KvCache.of(c, 0, slotCapacity, cacheType, cacheType, maxBatch);
        }
        this.capacity = slotCapacity;
        this.maxBatch = maxBatch;
    }

    @Override
    public String description() {
        return pass.description();
    }

    @Override
    public int slots() {
        return caches.length;
    }

    @Override
    public int slotCapacity() {
        return capacity;
    }

    @Override
    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public float[] forwardBatch(int[] tokens, int rows, Segment[] batch, int count, int[] logitRows, int logitCount) {
        BatchedPass.checkSlots(batch, count, caches.length, capacity);
        if (segments.length < count) {
            segments = new ForwardPass.Segment[count];
        }
        for (int i = 0; i < count; i++) {
            Segment s = batch[i];
            segments[i] = new ForwardPass.Segment(caches[s.slot()], s.row(), s.n(), s.pos());
        }
        return pass.forwardBatch(tokens, rows, segments, count, logitRows, logitCount);
    }

    @Override
    public boolean canContinueAt(int slot, int pos) {
        return caches[slot].canContinueAt(pos);
    }

    @Override
    public int maxDiscard(int slot, int keep, int length) {
        return caches[slot].maxDiscard(keep, length);
    }

    @Override
    public boolean shiftSlot(int slot, int keep, int discard, int length) {
        pass.shiftCache(caches[slot], keep, discard, length);
        return true;
    }

    @Override
    public boolean adapters(LoraProducts products) {
        pass.adapters(products);
        return true;
    }

    @Override
    public void adapterRowScales(float[] scales) {
        pass.adapterRowScales(scales);
    }

    @Override
    public KvCache hostCache(int slot) {
        return caches[slot];
    }

    /** The heap caches go with the pass; the kernels belong to the model. */
    @Override
    public void close() {
    }
}
