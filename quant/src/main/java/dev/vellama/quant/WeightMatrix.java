package dev.vellama.quant;

import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufTensor;

/**
 * A 2-D weight matrix (rows × cols, cols contiguous: ggml's ne[0]) in any supported type, read in place from
 * {@code data}. Row {@code r} starts at byte {@code r * rowBytes()}.
 *
 * <p>Equal when name, type, data, rows and columns are. A matrix also carries one slot where a kernel
 * implementation keeps a layout it derived from {@code data} for its own use (the Vector API kernels' packed
 * Q4_0, Q4_K and Q6_K copies), made once on first use and dropped with the matrix.
 */
public final class WeightMatrix {

    private final String name;
    private final GgmlType type;
    private final MemorySegment data;
    private final int rows;
    private final int cols;
    /** A kernel's derived layout of {@code data}, built on first use; see {@link #derived}. */
    private volatile Derived derived;

    /** The types every kernel implementation can read. */
    public static final Set<GgmlType> SUPPORTED_TYPES = Set.copyOf(EnumSet.of(
            GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
            GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
            GgmlType.IQ4_NL, GgmlType.IQ4_XS, GgmlType.MXFP4));

    /**
     * Checks the matrix: a supported type, a positive shape, whole blocks per row, and enough bytes in
     * {@code data}.
     *
     * @param name tensor name, as in the GGUF file (used in error messages)
     * @param type storage type; must be one of {@link #SUPPORTED_TYPES}
     * @param data the tensor's bytes, usually a slice of the mapped file; not copied, and must hold at least
     *             {@code rows * rowBytes()} bytes
     * @param rows number of rows (output features for a projection), at least 1
     * @param cols elements per row (input features, ggml's ne[0]), a positive multiple of the type's block size
     * @throws UnsupportedTensorTypeException if {@code type} is not in {@link #SUPPORTED_TYPES}
     * @throws IllegalArgumentException if the shape is empty, a row is not whole blocks, or {@code data} is short
     */
    public WeightMatrix(String name, GgmlType type, MemorySegment data, int rows, int cols) {
        if (!SUPPORTED_TYPES.contains(type)) {
            throw new UnsupportedTensorTypeException(type, name);
        }
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("tensor " + name + " has shape " + rows + "×" + cols);
        }
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": " + cols + " columns is not a multiple of "
                    + type + "'s block size " + type.blockSize());
        }
        long need = (long) rows * type.byteSize(cols);
        if (data.byteSize() < need) {
            throw new IllegalArgumentException("tensor " + name + " has " + data.byteSize() + " bytes, " + type + " "
                    + rows + "×" + cols + " needs " + need);
        }
        this.name = name;
        this.type = type;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    /**
     * Views a tensor as a matrix: a 1-D tensor is one row; higher dimensions fold into rows.
     *
     * @param t a tensor of a loaded GGUF file; its data is shared, not copied
     * @return a matrix over the tensor's data
     * @throws UnsupportedTensorTypeException if the tensor's type has no kernel
     * @throws IllegalArgumentException if rows or columns exceed {@code Integer.MAX_VALUE}, or the shape is invalid
     */
    public static WeightMatrix of(GgufTensor t) {
        if (!SUPPORTED_TYPES.contains(t.type())) {
            throw new UnsupportedTensorTypeException(t.type(), t.name());
        }
        long rows = t.rows();
        long cols = t.columns();
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + t.name() + " is too large: " + rows + "×" + cols);
        }
        return new WeightMatrix(t.name(), t.type(), t.data(), (int) rows, (int) cols);
    }

    /** {@return the tensor name, as in the GGUF file} */
    public String name() {
        return name;
    }

    /** {@return the storage type} */
    public GgmlType type() {
        return type;
    }

    /** {@return the matrix's bytes in the file's layout, row after row} */
    public MemorySegment data() {
        return data;
    }

    /** {@return number of rows (output features for a projection)} */
    public int rows() {
        return rows;
    }

    /** {@return elements per row (input features, ggml's ne[0])} */
    public int cols() {
        return cols;
    }

    /**
     * The layout a kernel implementation derived from this matrix under {@code key} (what the layout depends on,
     * such as a vector width), made by {@code make} on the first call and kept with the matrix. The matrix keeps
     * one derived layout: a call with another key replaces it (kernels of two widths on one matrix, as tests do).
     */
    @SuppressWarnings("unchecked")
    <T> T derived(Object key, Supplier<T> make) {
        Derived d = derived;
        if (d == null || !d.key.equals(key)) {
            synchronized (this) {
                d = derived;
                if (d == null || !d.key.equals(key)) {
                    d = new Derived(key, make.get());
                    derived = d;
                }
            }
        }
        return (T) d.value;
    }

    private record Derived(Object key, Object value) {
    }

    /** {@return bytes of one row: blocks per row × the type's bytes per block} */
    public long rowBytes() {
        return (long) (cols / type.blockSize()) * type.bytesPerBlock();
    }

    /**
     * Byte offset of row {@code row} in {@link #data()}.
     *
     * @param row row index, 0-based
     * @return the offset in bytes, {@code row * rowBytes()}
     */
    public long rowOffset(int row) {
        return row * rowBytes();
    }

    /** {@return bytes of weights the matrix holds, rows × {@link #rowBytes()}} */
    public long byteSize() {
        return rows * rowBytes();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightMatrix m && Objects.equals(name, m.name) && type == m.type && Objects.equals(data, m.data)
                && rows == m.rows && cols == m.cols;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, data, rows, cols);
    }

    @Override
    public String toString() {
        return "WeightMatrix[" + name + ", " + type + ", " + rows + "×" + cols + "]";
    }
}
