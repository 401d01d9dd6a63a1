package dev.vellama.runtime.model;

/**
 * What continuous batching needs from a device: a forward pass over the rows of several sequences at once, each
 * sequence in a KV cache slot the pass holds, so each weight matrix is read once per call for all of them. The CPU
 * has {@link CpuBatchedPass}; the CUDA pass in {@code dev.vellama.runtime.cuda} is one too.
 */
public interface BatchedPass extends AutoCloseable {

    /**
     * One sequence's part of a batch: rows {@code [row, row + n)} are its tokens at positions
     * {@code pos .. pos + n - 1}, attending over (and stored into) cache slot {@code slot}.
     */
    record Segment(int slot, int row, int n, int pos) {
        public Segment {
            if (n < 1 || row < 0 || pos < 0 || slot < 0) {
                throw new IllegalArgumentException("segment of " + n + " rows from row " + row + " at position " + pos
                        + " in slot " + slot);
            }
        }
    }

    /**
     * Checks what every implementation needs of a batch's segments: slots that exist, each used once (two segments
     * in one slot would write the same cache cells), positions within a slot.
     */
    static void checkSlots(Segment[] segments, int count, int slots, int slotCapacity) {
        if (count < 1 || count > slots) {
            throw new IllegalArgumentException(count + " segments for " + slots + " slots");
        }
        for (int i = 0; i < count; i++) {
            Segment s = segments[i];
            if (s.slot() >= slots) {
                throw new IllegalArgumentException("slot " + s.slot() + " of " + slots);
            }
            if (s.pos() + s.n() > slotCapacity) {
                throw new IllegalArgumentException("positions up to " + (s.pos() + s.n()) + " exceed the slot's "
                        + slotCapacity);
            }
            for (int j = 0; j < i; j++) {
                if (segments[j].slot() == s.slot()) {
                    throw new IllegalArgumentException("two segments in slot " + s.slot());
                }
            }
        }
    }

    /** Where and how it computes, for people. */
    String description();

    /** Cache slots: sequences it holds at once. */
    int slots();

    /** Positions each slot holds. */
    int slotCapacity();

    /** The most rows one call takes. */
    int maxBatch();

    /**
     * Runs {@code tokens[0 .. rows)} through the model; {@code segments[0 .. count)} say which slot and positions
     * each run of rows belongs to (they cover the rows in order, each exactly once, at most one per slot). Returns
     * the logits of rows {@code logitRows[0 .. logitCount)}, row-major [i][vocab]: a buffer reused by the next call.
     */
    float[] forwardBatch(int[] tokens, int rows, Segment[] segments, int count, int[] logitRows, int logitCount);

    /**
     * A context shift of one slot: forgets its positions {@code [keep, keep + discard)} of {@code length}, the later
     * ones moved down with their keys re-rotated. False when this pass cannot (the slot then stops at a full context).
     */
    default boolean shiftSlot(int slot, int keep, int discard, int length) {
        return false;
    }

    /** Whether slot {@code slot} can go on at position {@code pos}; see {@link TransformerPass#canContinueAt}. */
    default boolean canContinueAt(int slot, int pos) {
        return true;
    }

    /** The most cells a context shift of a slot may forget; see {@link TransformerPass#maxDiscard}. */
    default int maxDiscard(int slot, int keep, int length) {
        return length - keep;
    }

    /**
     * The cache of slot {@code slot} on the Java heap, which a slot's saved file is written from and read into;
     * null when the pass keeps its caches on a device (slots cannot be saved there).
     */
    default KvCache hostCache(int slot) {
        return null;
    }

    /** Whether {@link #copySlotTo} and {@link #copySlotFrom} work (a device pass); a CPU pass has {@link #hostCache}. */
    default boolean copiesSlots() {
        return false;
    }

    /**
     * Copies slot {@code slot}'s cells of positions [0, length) into a heap cache of every layer (a device pass's way
     * of saving a slot; a pass with {@link #hostCache} needs none); false when this pass cannot.
     */
    default boolean copySlotTo(int slot, KvCache into, int length) {
        return false;
    }

    /** Replaces slot {@code slot}'s cells with positions [0, length) of a heap cache; false when this pass cannot. */
    default boolean copySlotFrom(int slot, KvCache from, int length) {
        return false;
    }

    /**
     * Adds LoRA adapters' products to every dense product from the next call on (null: none); false when this pass
     * cannot (the batched CUDA pass).
     */
    default boolean adapters(LoraProducts products) {
        return false;
    }

    /** Each batch row's adapter scales ([row][adapter]) for the next calls; null: the adapters' defaults. */
    default void adapterRowScales(float[] scales) {
    }

    /** Frees what the pass holds beyond the Java heap. */
    @Override
    void close();
}
