package dev.vellama.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q4_0 rows packed side by side for the Vector API matvec: groups of {@code groupRows} rows (one per short lane
 * of the kernel's vectors), and per group and block, the rows' scales as floats (exact from half), then for each
 * of the block's 16 bytes k the group's bytes k next to each other (byte k holds element k in its low nibble and
 * element k + 16 in its high one, as in the file). A group-block is {@link #blockBytes} long; group g's blocks
 * follow one another. The copy is made once per matrix, on its first product, kept with it and freed with it;
 * the matrix's pages of a mapped file are then released from the process.
 */
final class PackedQ4_0 {
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private PackedQ4_0() {
    }

    /** {@return bytes of one block of a group of {@code groupRows} rows: their scales, then their 16 bytes each} */
    static long blockBytes(int groupRows) {
        return groupRows * (4L + 16);
    }

    /**
     * The packed copy of {@code w} in groups of {@code groupRows}, made on the first call (its groups shared out
     * on {@code pool}) and kept with the matrix.
     *
     * @param w a Q4_0 matrix whose rows are a multiple of {@code groupRows}
     */
    static MemorySegment of(WeightMatrix w, int groupRows, WorkerPool pool) {
        return w.derived(groupRows, () -> {
            int groups = w.rows() / groupRows;
            MemorySegment dst = Arena.ofAuto().allocate(groups * (w.cols() / 32) * blockBytes(groupRows), 64);
            pool.run(groups, pool.threads(), (part, start, end) -> pack(w, groupRows, dst, start, end));
            if (w.data().isMapped()) {
                // every product now reads the copy: the file's pages go back to the page cache instead of
                // counting twice in the process's memory (a later read, such as an embedding row, maps them again)
                w.data().unload();
            }
            return dst;
        });
    }

    /** The copy {@link #of} made; a pool's parts read it this way so that none of them packs. */
    static MemorySegment made(WeightMatrix w, int groupRows) {
        return w.derived(groupRows, () -> {
            throw new IllegalStateException("matrix " + w.name() + " was not packed before its job");
        });
    }

    private static void pack(WeightMatrix w, int groupRows, MemorySegment dst, int g0, int g1) {
        MemorySegment src = w.data();
        int blocks = w.cols() / 32;
        long rowBytes = w.rowBytes();
        long blockBytes = blockBytes(groupRows);
        for (int g = g0; g < g1; g++) {
            for (int b = 0; b < blocks; b++) {
                long base = ((long) g * blocks + b) * blockBytes;
                for (int i = 0; i < groupRows; i++) {
                    long o = (long) (g * groupRows + i) * rowBytes + b * 18L;
                    dst.set(FLOAT_LE, base + 4L * i, BlockLayouts.f16(src, o));
                    long lo = src.get(BlockLayouts.LONG_LE, o + 2);
                    long hi = src.get(BlockLayouts.LONG_LE, o + 10);
                    long at = base + 4L * groupRows + i;
                    for (int k = 0; k < 8; k++) {
                        dst.set(ValueLayout.JAVA_BYTE, at + (long) k * groupRows, (byte) (lo >>> (8 * k)));
                        dst.set(ValueLayout.JAVA_BYTE, at + (long) (k + 8) * groupRows, (byte) (hi >>> (8 * k)));
                    }
                }
            }
        }
    }
}
