package dev.vellama.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its name, type, shape in ggml order ({@code shape[0]} is the contiguous dimension,
 * so a weight matrix has {@code shape[1]} rows of {@code shape[0]} values) and its bytes, a zero-copy slice of
 * the mapped file.
 *
 * @param name       the GGUF tensor name, such as {@code blk.0.attn_q.weight}
 * @param type       how the data are encoded
 * @param shape      dimension sizes in ggml order (1 to 4 of them in a GGUF file); copied in and out
 * @param fileOffset absolute byte offset of the data in its file
 * @param data       the tensor's bytes; in a parsed file a slice of the mapping, valid until the file is closed
 */
public record GgufTensor(String name, GgmlType type, long[] shape, long fileOffset, MemorySegment data) {

    /** Copies {@code shape}, so the caller's array can change without changing the tensor. */
    public GgufTensor {
        shape = shape.clone();
    }

    /** {@return a copy of the dimension sizes in ggml order, the contiguous one first} */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** {@return the number of stored dimensions (1 to 4 in a GGUF file)} */
    public int dimensions() {
        return shape.length;
    }

    /**
     * Size of one dimension in ggml order.
     *
     * @param i dimension index, 0 for the contiguous one; may lie beyond the stored dimensions
     * @return its size; 1 beyond the stored dimensions, as ggml's {@code ne[]} pads them
     */
    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    /** {@return the number of values: the product of all dimensions} */
    public long elementCount() {
        return elementCount(shape);
    }

    /** {@return the size of the data in bytes} */
    public long byteSize() {
        return data.byteSize();
    }

    /** {@return values per row: the size of the contiguous dimension} */
    public long columns() {
        return dim(0);
    }

    /** {@return the number of rows: the product of all dimensions but the first} */
    public long rows() {
        return shape.length == 0 ? 1 : elementCount() / Math.max(1, shape[0]);
    }

    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensor t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                && fileOffset == t.fileOffset && data.byteSize() == t.data.byteSize();
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
