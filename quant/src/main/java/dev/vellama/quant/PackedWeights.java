package dev.vellama.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.vellama.gguf.GgmlType;

/**
 * Quantized rows packed side by side for the Vector API kernels: groups of {@code groupRows} rows (one per short
 * lane of the kernels' vectors), so that one lane holds one row and a block's products add up in place. Per
 * group, the file's blocks follow one another, each as one "group-block" of {@link #blockBytes} bytes:
 * <ul>
 * <li>Q4_0 (32 values): the rows' scales as floats (exact from half); then for each pair of the block's 16 bytes
 *     k, k + 1 (k even), the rows' two bytes side by side, row i's at 2i and 2i + 1 (byte k holds element k in its
 *     low nibble, element k + 16 in its high one): a little-endian short lane holds one row's four nibbles.
 * <li>Q4_K (256 values): the rows' d, then their dmin, as floats; the eight 6-bit scales, scale s of every row
 *     side by side (s·G + row), then the eight mins likewise; then for each of the 128 nibble bytes (byte 32j + k
 *     holds element k of sub-block 2j low and of sub-block 2j + 1 high) the rows' bytes side by side.
 * <li>Q5_K (256 values): d, dmin, scales and mins as for Q4_K; then each sub-block's 5-bit quants (0..31) three
 *     to a little-endian short (q[k] | q[k + 1] &lt;&lt; 5 | q[k + 2] &lt;&lt; 10), in halves of 16 elements (see
 *     {@link #q5_KShortOffset}): 200 bytes per row against 176 in the file, and the kernel takes each short with
 *     two shifts and no mask.
 * <li>Q6_K (256 values): the rows' d as floats; the 16 int8 scales, scale s of every row side by side; then
 *     for each of the 256 values in order, the rows' 6-bit quants (0..63, before the −32) side by side, a byte
 *     each (276 bytes per row against 210 in the file: no bit assembly in the kernel).
 * </ul>
 * The copy is made once per matrix, on its first product, kept with it and freed with it; the matrix's pages of
 * a mapped file are then released from the process.
 */
final class PackedWeights {
    /** Bytes of a mapped matrix's rows packed before their file pages are released. */
    private static final long UNLOAD_BYTES = 4L << 20;
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private PackedWeights() {
    }

    /** {@return whether {@code type} has a packed layout} */
    static boolean supports(GgmlType type) {
        return type == GgmlType.Q4_0 || type == GgmlType.Q4_K || type == GgmlType.Q5_K || type == GgmlType.Q6_K;
    }

    /** {@return bytes of one group-block of {@code type} for groups of {@code groupRows} rows} */
    static long blockBytes(GgmlType type, int groupRows) {
        return switch (type) {
            case Q4_0 -> groupRows * (4L + 16);
            case Q4_K -> groupRows * (4L + 4 + 8 + 8 + 128);
            case Q5_K -> groupRows * (4L + 4 + 8 + 8 + 176);
            case Q6_K -> groupRows * (4L + 16 + 256);
            default -> throw new IllegalArgumentException(type + " has no packed layout");
        };
    }

    /**
     * The packed copy of {@code w} in groups of {@code groupRows}, made on the first call (its groups shared out
     * on {@code pool}) and kept with the matrix.
     *
     * @param w a matrix of a {@link #supports supported} type whose rows are a multiple of {@code groupRows}
     */
    static MemorySegment of(WeightMatrix w, int groupRows, WorkerPool pool) {
        return w.derived(groupRows, () -> {
            int groups = w.rows() / groupRows;
            long groupBytes = w.cols() / w.type().blockSize() * blockBytes(w.type(), groupRows);
            MemorySegment dst = LargePageMemory.allocate(groups * groupBytes);
            pool.run(groups, pool.threads(), (part, start, end) -> pack(w, groupRows, dst, start, end));
            LargePageMemory.collapseLater(dst);
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

    /**
     * Groups [g0, g1): each group is assembled in a heap buffer and copied into {@code dst} in one piece (byte
     * stores into an array are cheap where each store into a segment is checked).
     */
    private static void pack(WeightMatrix w, int groupRows, MemorySegment dst, int g0, int g1) {
        MemorySegment src = w.data();
        int blocks = w.cols() / w.type().blockSize();
        long rowBytes = w.rowBytes();
        int blockBytes = (int) blockBytes(w.type(), groupRows);
        long groupBytes = (long) blocks * blockBytes;
        long released = (long) g0 * groupRows * rowBytes;
        boolean q4_0 = w.type() == GgmlType.Q4_0;
        // Q4_0 moves whole shorts (a scale, then pairs of quant bytes), so its groups go in and out as shorts
        short[] rows = q4_0 ? new short[(int) (groupRows * rowBytes / 2)] : null;
        short[] out = q4_0 ? new short[(int) (groupBytes / 2)] : null;
        byte[] group = q4_0 ? null : new byte[(int) groupBytes];
        byte[] row = q4_0 ? null : new byte[(int) rowBytes];
        for (int g = g0; g < g1; g++) {
            if (q4_0) {
                MemorySegment.copy(src, SHORT_LE, (long) g * groupRows * rowBytes, rows, 0, rows.length);
                packQ4_0Group(rows, (int) (rowBytes / 2), blocks, out, groupRows);
                MemorySegment.copy(out, 0, dst, SHORT_LE, g * groupBytes, out.length);
            } else {
                for (int i = 0; i < groupRows; i++) {
                    MemorySegment.copy(src, ValueLayout.JAVA_BYTE, (long) (g * groupRows + i) * rowBytes, row, 0, row.length);
                    switch (w.type()) {
                        case Q4_K -> packQ4_KRow(row, blocks, group, blockBytes, groupRows, i);
                        case Q5_K -> packQ5_KRow(row, blocks, group, blockBytes, groupRows, i);
                        default -> packQ6_KRow(row, blocks, group, blockBytes, groupRows, i);
                    }
                }
                MemorySegment.copy(group, 0, dst, ValueLayout.JAVA_BYTE, g * groupBytes, group.length);
            }
            long packedEnd = (long) (g + 1) * groupRows * rowBytes;
            if (src.isMapped() && (packedEnd - released >= UNLOAD_BYTES || g == g1 - 1)) {
                // these rows are in the copy now: release their file pages as the packing goes, so that the file
                // and its copy are not both resident while a large matrix (a 128k-row output) is packed. In pieces
                // of a few MiB: released in pieces of a few groups, a third of the pages stayed mapped (the kernel
                // maps a file's pages in larger runs than it was asked for); a page shared with the next piece is
                // simply read again
                src.asSlice(released, packedEnd - released).unload();
                released = packedEnd;
            }
        }
    }

    /**
     * One group of Q4_0 rows ({@code rows}: the file's bytes as little-endian shorts, {@code rowShorts} per row, 9
     * per block) into {@code out} in the Q4_0 layout of this class's description, a short at a time: per block the
     * scales as floats (two shorts each, little-endian), then for each pair of quant bytes the rows' shorts side by
     * side.
     */
    private static void packQ4_0Group(short[] rows, int rowShorts, int blocks, short[] out, int groupRows) {
        for (int b = 0, base = 0; b < blocks; b++, base += 10 * groupRows) {
            for (int i = 0, r = 9 * b; i < groupRows; i++, r += rowShorts) {
                int bits = Float.floatToRawIntBits(Float.float16ToFloat(rows[r]));
                out[base + 2 * i] = (short) bits;
                out[base + 2 * i + 1] = (short) (bits >>> 16);
            }
            for (int j = 0; j < 8; j++) {
                int o = base + 2 * groupRows + j * groupRows;
                for (int i = 0, r = 9 * b + 1 + j; i < groupRows; i++, r += rowShorts) {
                    out[o + i] = rows[r];
                }
            }
        }
    }

    private static void packQ4_KRow(byte[] row, int blocks, byte[] group, int blockBytes, int groupRows, int i) {
        for (int b = 0, o = 0, base = 0; b < blocks; b++, o += 144, base += blockBytes) {
            putScalesAndMins(row, o, group, base, groupRows, i);
            for (int k = 0, q = base + 24 * groupRows + i; k < 128; k++, q += groupRows) {
                group[q] = row[o + 16 + k];
            }
        }
    }

    /**
     * Where a packed Q5_K group-block keeps element k (0..31) of sub-block s (0..7): the byte offset, from the
     * block's start, of the short that holds it in row 0's lane (row i's is 2i further). The kernel sums 16
     * elements at a time (a half: 16 products of q − 16 and an int8 fit a short), so each half's elements 0..14
     * go three to a short, in the order the kernel walks them (the five shorts of sub-block 0, ..., of sub-block
     * 7, for elements 0..2, then 3..5, ...), and the two halves' last elements (15 and 31) share one short
     * between the halves, read by both: [head 24G][half 0: 80G][the shared shorts: 16G][half 1: 80G] for G rows.
     */
    static long q5_KShortOffset(int s, int k, int groupRows) {
        int h = k / 16;
        int r = k % 16;
        long rowShorts = r == 15 ? 40 + s : 48 * h + 8 * (r / 3) + s;
        return (24L + 2 * rowShorts) * groupRows;
    }

    /** The shift that brings element k of a packed Q5_K short (see {@link #q5_KShortOffset}) to its low five bits. */
    static int q5_KShift(int k) {
        int r = k % 16;
        return r == 15 ? 5 * (k / 16) : 5 * (r % 3);
    }

    /**
     * Q5_K: d, dmin, scales and mins as for Q4_K, then the 5-bit quants at {@link #q5_KShortOffset}, written in
     * that order.
     */
    private static void packQ5_KRow(byte[] row, int blocks, byte[] group, int blockBytes, int groupRows, int i) {
        int step = 2 * groupRows;
        long[] q = new long[32];
        for (int b = 0, o = 0, base = 0; b < blocks; b++, o += 176, base += blockBytes) {
            putScalesAndMins(row, o, group, base, groupRows, i);
            for (int k = 0; k < 32; k++) {
                // element k of the eight sub-blocks, one per byte: ggml keeps it in nibble bytes 48 + 32j + k (low
                // for sub-block 2j, high for 2j + 1) and in bit s of qh[k] at 16; Long.expand (one instruction
                // where the CPU has it) spreads both into place
                int n = (row[o + 48 + k] & 0xFF) | (row[o + 80 + k] & 0xFF) << 8 | (row[o + 112 + k] & 0xFF) << 16
                        | (row[o + 144 + k] & 0xFF) << 24;
                q[k] = Long.expand(n & 0xFFFFFFFFL, 0x0F0F0F0F0F0F0F0FL) | Long.expand(row[o + 16 + k] & 0xFF, 0x1010101010101010L);
            }
            int at = base + 24 * groupRows + 2 * i;
            for (int h = 0; h < 32; h += 16) {
                for (int k = h; k < h + 15; k += 3) {
                    long a = q[k];
                    long c = q[k + 1];
                    long d = q[k + 2];
                    for (int s = 0; s < 64; s += 8, at += step) {
                        putShort(group, at, (int) ((a >>> s & 31) | (c >>> s & 31) << 5 | (d >>> s & 31) << 10));
                    }
                }
                for (int s = 0; s < 64 && h == 0; s += 8, at += step) {
                    putShort(group, at, (int) ((q[15] >>> s & 31) | (q[31] >>> s & 31) << 5));
                }
            }
        }
    }

    private static void putShort(byte[] group, int at, int v) {
        group[at] = (byte) v;
        group[at + 1] = (byte) (v >>> 8);
    }

    /**
     * A Q4_K/Q5_K block's head (at row[o]) in row i's lanes of a group-block: d and dmin as floats, then the eight
     * 6-bit scales and the eight mins unpacked to bytes.
     */
    private static void putScalesAndMins(byte[] row, int o, byte[] group, int base, int groupRows, int i) {
        putHalfAsFloat(row, o, group, base + 4 * i);
        putHalfAsFloat(row, o + 2, group, base + 4 * groupRows + 4 * i);
        long lo8 = 0;
        for (int k = 7; k >= 0; k--) {
            lo8 = lo8 << 8 | (row[o + 4 + k] & 0xFF);
        }
        int hi4 = (row[o + 12] & 0xFF) | (row[o + 13] & 0xFF) << 8 | (row[o + 14] & 0xFF) << 16 | (row[o + 15] & 0xFF) << 24;
        long scales = BlockLayouts.scalesK4(lo8, hi4);
        long mins = BlockLayouts.minsK4(lo8, hi4);
        for (int s = 0; s < 8; s++) {
            group[base + 8 * groupRows + s * groupRows + i] = (byte) (scales >>> (8 * s));
            group[base + 16 * groupRows + s * groupRows + i] = (byte) (mins >>> (8 * s));
        }
    }

    /** ggml's dequantize_row_q6_K order: value 128n + 32c + l from ql[64n + l (+32)] and qh[32n + l] bits 2c. */
    private static void packQ6_KRow(byte[] row, int blocks, byte[] group, int blockBytes, int groupRows, int i) {
        for (int b = 0, o = 0, base = 0; b < blocks; b++, o += 210, base += blockBytes) {
            putHalfAsFloat(row, o + 208, group, base + 4 * i);
            for (int s = 0; s < 16; s++) {
                group[base + 4 * groupRows + s * groupRows + i] = row[o + 192 + s];
            }
            int q = base + 20 * groupRows + i;
            for (int n = 0; n < 2; n++) {
                for (int l = 0; l < 32; l++) {
                    int a = row[o + 64 * n + l] & 0xFF;
                    int c = row[o + 64 * n + l + 32] & 0xFF;
                    int h = row[o + 128 + 32 * n + l] & 0xFF;
                    int e = 128 * n + l;
                    group[q + e * groupRows] = (byte) ((a & 15) | (h & 3) << 4);
                    group[q + (e + 32) * groupRows] = (byte) ((c & 15) | (h >> 2 & 3) << 4);
                    group[q + (e + 64) * groupRows] = (byte) ((a >> 4) | (h >> 4 & 3) << 4);
                    group[q + (e + 96) * groupRows] = (byte) ((c >> 4) | (h >> 6 & 3) << 4);
                }
            }
        }
    }

    /** The little-endian half at row[o] as a little-endian float at group[at] (exact). */
    private static void putHalfAsFloat(byte[] row, int o, byte[] group, int at) {
        int bits = Float.floatToRawIntBits(Float.float16ToFloat((short) ((row[o] & 0xFF) | row[o + 1] << 8)));
        group[at] = (byte) bits;
        group[at + 1] = (byte) (bits >>> 8);
        group[at + 2] = (byte) (bits >>> 16);
        group[at + 3] = (byte) (bits >>> 24);
    }
}
