package dev.vellama.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its name, type, shape in ggml order ({@code shape[0]} is the contiguous dimension,
 * so a weight matrix has {@code shape[1]} rows of {@code shape[0]} values) and its bytes, a zero-copy slice of
 * the mapped file.
 *
 * @param fileOffset absolute byte offset of the data in its file
 */
public record GgufTensor(String name, GgmlType type, long[] shape, long fileOffset, MemorySegment data) {

    public GgufTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int dimensions() {
        return shape.length;
    }

    /** Size of dimension {@code i} in ggml order; 1 beyond the stored dimensions. */
    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    public long elementCount() {
        return elementCount(shape);
    }

    public long byteSize() {
        return data.byteSize();
    }

    /** Values per row (the contiguous dimension). */
    public long columns() {
        return dim(0);
    }

    /** Rows: the product of all dimensions but the first. */
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
