package dev.vellama.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.WeightMatrix;

/**
 * A weight matrix in device memory. Q4_0, Q8_0, Q4_K, Q6_K and F16 are uploaded as they are in the file; every
 * other type is dequantized on the host and uploaded as F16.
 */
public final class GpuMatrix implements AutoCloseable {
    /** The formats the GPU kernels decode, with the suffix of their kernel names. */
    public enum Format {
        Q4_0("q4_0"), Q8_0("q8_0"), Q4_K("q4_k"), Q6_K("q6_k"), F16("f16");

        final String suffix;

        Format(String suffix) {
            this.suffix = suffix;
        }

        /** The format a type is uploaded in as it is, or null when it must be converted to F16. */
        static Format of(GgmlType t) {
            return switch (t) {
                case Q4_0 -> Q4_0;
                case Q8_0 -> Q8_0;
                case Q4_K -> Q4_K;
                case Q6_K -> Q6_K;
                case F16 -> F16;
                default -> null;
            };
        }
    }

    private final Format format;
    private final DeviceBuffer data;
    private final long offset; // bytes into data where row 0 starts: non-zero for a view of some rows
    private final int rows;
    private final int cols;
    private final boolean view;

    private GpuMatrix(Format format, DeviceBuffer data, long offset, int rows, int cols, boolean view) {
        this.format = format;
        this.data = data;
        this.offset = offset;
        this.rows = rows;
        this.cols = cols;
        this.view = view;
    }

    /**
     * Uploads a matrix. {@code notices} hears about a matrix that had to be converted to F16 (one line each).
     *
     * @throws IllegalArgumentException for an F16 conversion of rows not a multiple of 32 wide
     */
    public static GpuMatrix upload(CudaContext ctx, WeightMatrix w, Consumer<String> notices) {
        Format f = Format.of(w.type());
        if (f != null) {
            DeviceBuffer buf = ctx.allocate(w.byteSize());
            MemorySegment src = w.data().asSlice(0, w.byteSize());
            if (src.isNative()) {
                ctx.upload(src, buf, 0);
            } else {
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment copy = a.allocate(src.byteSize());
                    copy.copyFrom(src);
                    ctx.upload(copy, buf, 0);
                }
            }
            return new GpuMatrix(f, buf, 0, w.rows(), w.cols(), false);
        }
        if (w.cols() % 32 != 0) {
            throw new IllegalArgumentException("tensor " + w.name() + " (" + w.type() + ") has " + w.cols()
                    + " columns; the GPU F16 kernels need a multiple of 32");
        }
        notices.accept("tensor " + w.name() + " is " + w.type() + ", which has no GPU kernel: converted to F16 at upload");
        DeviceBuffer buf = ctx.allocate(2L * w.rows() * w.cols());
        float[] row = new float[w.cols()];
        // convert in slabs of rows so that a large matrix never needs a full F32 copy on the host
        int slab = Math.max(1, (16 << 20) / (2 * w.cols()));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment halves = a.allocate(2L * slab * w.cols(), 2);
            for (int r0 = 0; r0 < w.rows(); r0 += slab) {
                int n = Math.min(slab, w.rows() - r0);
                for (int r = 0; r < n; r++) {
                    Dequantizer.dequantizeRow(w, r0 + r, row, 0);
                    long base = (long) r * w.cols();
                    for (int c = 0; c < w.cols(); c++) {
                        halves.setAtIndex(ValueLayout.JAVA_SHORT, base + c, Float.floatToFloat16(row[c]));
                    }
                }
                ctx.upload(halves.asSlice(0, 2L * n * w.cols()), buf, 2L * r0 * w.cols());
            }
        }
        return new GpuMatrix(Format.F16, buf, 0, w.rows(), w.cols(), false);
    }

    /** Bytes {@link #upload} will allocate for a matrix. */
    public static long deviceBytes(WeightMatrix w) {
        return Format.of(w.type()) != null ? w.byteSize() : 2L * w.rows() * w.cols();
    }

    /**
     * Rows {@code first .. first+count-1} as a matrix of their own, sharing this one's memory: the parts of a fused
     * projection (q|k|v, gate|up). Closing a view frees nothing.
     */
    public GpuMatrix rows(int first, int count) {
        if (first < 0 || count < 1 || first + count > rows) {
            throw new IllegalArgumentException("rows " + first + ".." + (first + count) + " of a matrix of " + rows);
        }
        return new GpuMatrix(format, data, offset + first * rowBytes(), count, cols, true);
    }

    /** Bytes of one row on the device. */
    public long rowBytes() {
        return switch (format) {
            case Q4_0 -> cols / 32 * 18L;
            case Q8_0 -> cols / 32 * 34L;
            case Q4_K -> cols / 256 * 144L;
            case Q6_K -> cols / 256 * 210L;
            case F16 -> 2L * cols;
        };
    }

    /** The device address of row 0. */
    public long pointer() {
        return data.pointer() + offset;
    }

    public Format format() {
        return format;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    @Override
    public void close() {
        if (!view) {
            data.close();
        }
    }
}
