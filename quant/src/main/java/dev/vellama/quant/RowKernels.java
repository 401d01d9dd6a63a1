package dev.vellama.quant;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static dev.vellama.quant.BlockLayouts.f16;

/**
 * Row-level Vector API kernels for one float species: dot products of weight rows (read in place from their
 * segment) with F32 activations, and decoding rows to floats for the blocked matmul. Every Vector value stays
 * inside the method that creates it so that C2 keeps it in registers.
 */
final class RowKernels {
    /** Rows decoded together in matmul, so each activation vector load feeds this many FMAs. */
    static final int TILE_ROWS = 4;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;

    private final VectorSpecies<Float> fs;
    private final int lanes;
    /** Float vectors per 16 bytes of weights (16 / lanes). */
    private final int partsPer16;

    RowKernels(VectorSpecies<Float> fs) {
        this.fs = fs;
        this.lanes = fs.length();
        if (lanes > 16) {
            throw new IllegalArgumentException("float species wider than 512 bits: " + fs);
        }
        this.partsPer16 = 16 / lanes;
    }

    /** Per-matvec state computed once before rows are split across threads (none for the F32-activation design). */
    record Prepared() {}

    Prepared prepare(WeightMatrix w, float[] x, int n) {
        return null;
    }

    void matvecRange(Prepared p, WeightMatrix w, float[] x, float[] out, int start, int end, float[] scratch) {
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        int cols = w.cols();
        switch (w.type()) {
            case F32 -> {
                for (int r = start; r < end; r++) {
                    out[r] = dotF32Segment(seg, r * rowBytes, x, cols);
                }
            }
            case Q8_0 -> {
                for (int r = start; r < end; r++) {
                    out[r] = dotQ8_0(seg, r * rowBytes, x, cols);
                }
            }
            case Q4_0 -> {
                for (int r = start; r < end; r++) {
                    out[r] = dotQ4_0(seg, r * rowBytes, x, cols);
                }
            }
            default -> {
                for (int r = start; r < end; r++) {
                    Dequantizer.dequantizeRow(w, r, scratch, 0);
                    out[r] = dotF32(fs, scratch, 0, x, 0, cols);
                }
            }
        }
    }

    /**
     * Rows [rowStart, rowEnd) of a matmul: each tile of {@link #TILE_ROWS} rows is decoded to floats once, then
     * multiplied with every activation row, four weight rows per pass over an activation row.
     */
    void matmulTiles(WeightMatrix w, float[] x, int n, float[] out, int rowStart, int rowEnd, float[] scratch) {
        int cols = w.cols();
        int rows = w.rows();
        for (int r0 = rowStart; r0 < rowEnd; r0 += TILE_ROWS) {
            int tr = Math.min(TILE_ROWS, rowEnd - r0);
            for (int i = 0; i < tr; i++) {
                decodeRow(w, r0 + i, scratch, i * cols);
            }
            if (tr == TILE_ROWS && cols % lanes == 0) {
                for (int t = 0; t < n; t++) {
                    dot4(scratch, cols, x, t * cols, out, t * rows + r0);
                }
            } else {
                for (int t = 0; t < n; t++) {
                    for (int i = 0; i < tr; i++) {
                        out[t * rows + r0 + i] = dotF32(fs, scratch, i * cols, x, t * cols, cols);
                    }
                }
            }
        }
    }

    /** Four rows of {@code w4} (contiguous, {@code cols} each) dotted with one activation row. */
    private void dot4(float[] w4, int cols, float[] x, int xOff, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = FloatVector.zero(fs);
        FloatVector a2 = FloatVector.zero(fs);
        FloatVector a3 = FloatVector.zero(fs);
        for (int c = 0; c < cols; c += lanes) {
            FloatVector xv = FloatVector.fromArray(fs, x, xOff + c);
            a0 = FloatVector.fromArray(fs, w4, c).fma(xv, a0);
            a1 = FloatVector.fromArray(fs, w4, cols + c).fma(xv, a1);
            a2 = FloatVector.fromArray(fs, w4, 2 * cols + c).fma(xv, a2);
            a3 = FloatVector.fromArray(fs, w4, 3 * cols + c).fma(xv, a3);
        }
        out[outOff] = a0.reduceLanes(VectorOperators.ADD);
        out[outOff + 1] = a1.reduceLanes(VectorOperators.ADD);
        out[outOff + 2] = a2.reduceLanes(VectorOperators.ADD);
        out[outOff + 3] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** Decodes one row to floats, vectorized where the type has a vector decoder. */
    void decodeRow(WeightMatrix w, int row, float[] dst, int dstOff) {
        MemorySegment seg = w.data();
        long o = w.rowOffset(row);
        int blocks = w.cols() / w.type().blockSize();
        switch (w.type()) {
            case Q8_0 -> {
                for (int b = 0; b < blocks; b++, o += 34) {
                    float d = f16(seg, o);
                    for (int half = 0; half < 2; half++) {
                        ByteVector q = ByteVector.fromMemorySegment(B128, seg, o + 2 + 16 * half, LE);
                        for (int p = 0; p < partsPer16; p++) {
                            ((FloatVector) q.convertShape(VectorOperators.B2F, fs, p)).mul(d)
                                    .intoArray(dst, dstOff + 32 * b + 16 * half + p * lanes);
                        }
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < blocks; b++, o += 18) {
                    float d = f16(seg, o);
                    ByteVector q = ByteVector.fromMemorySegment(B128, seg, o + 2, LE);
                    ByteVector lo = q.and((byte) 15).sub((byte) 8);
                    ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
                    for (int p = 0; p < partsPer16; p++) {
                        ((FloatVector) lo.convertShape(VectorOperators.B2F, fs, p)).mul(d)
                                .intoArray(dst, dstOff + 32 * b + p * lanes);
                        ((FloatVector) hi.convertShape(VectorOperators.B2F, fs, p)).mul(d)
                                .intoArray(dst, dstOff + 32 * b + 16 + p * lanes);
                    }
                }
            }
            default -> Dequantizer.dequantizeRow(w, row, dst, dstOff);
        }
    }

    float dotF32Segment(MemorySegment seg, long off, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(fs);
        FloatVector acc1 = FloatVector.zero(fs);
        int upper2 = n - n % (2 * lanes);
        int i = 0;
        for (; i < upper2; i += 2 * lanes) {
            acc0 = FloatVector.fromMemorySegment(fs, seg, off + 4L * i, LE).fma(FloatVector.fromArray(fs, x, i), acc0);
            acc1 = FloatVector.fromMemorySegment(fs, seg, off + 4L * (i + lanes), LE).fma(FloatVector.fromArray(fs, x, i + lanes), acc1);
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += seg.get(BlockLayouts.FLOAT_LE, off + 4L * i) * x[i];
        }
        return s;
    }

    float dotQ8_0(MemorySegment seg, long o, float[] x, int cols) {
        FloatVector acc = FloatVector.zero(fs);
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++, o += 34) {
            FloatVector blockSum = FloatVector.zero(fs);
            for (int half = 0; half < 2; half++) {
                ByteVector q = ByteVector.fromMemorySegment(B128, seg, o + 2 + 16 * half, LE);
                for (int p = 0; p < partsPer16; p++) {
                    FloatVector qf = (FloatVector) q.convertShape(VectorOperators.B2F, fs, p);
                    blockSum = qf.fma(FloatVector.fromArray(fs, x, 32 * b + 16 * half + p * lanes), blockSum);
                }
            }
            acc = blockSum.fma(FloatVector.broadcast(fs, f16(seg, o)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    float dotQ4_0(MemorySegment seg, long o, float[] x, int cols) {
        FloatVector acc = FloatVector.zero(fs);
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++, o += 18) {
            ByteVector q = ByteVector.fromMemorySegment(B128, seg, o + 2, LE);
            ByteVector lo = q.and((byte) 15).sub((byte) 8);
            ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
            FloatVector blockSum = FloatVector.zero(fs);
            for (int p = 0; p < partsPer16; p++) {
                FloatVector lf = (FloatVector) lo.convertShape(VectorOperators.B2F, fs, p);
                FloatVector hf = (FloatVector) hi.convertShape(VectorOperators.B2F, fs, p);
                blockSum = lf.fma(FloatVector.fromArray(fs, x, 32 * b + p * lanes), blockSum);
                blockSum = hf.fma(FloatVector.fromArray(fs, x, 32 * b + 16 + p * lanes), blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(fs, f16(seg, o)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float dotF32(VectorSpecies<Float> fs, float[] a, int aOff, float[] b, int bOff, int n) {
        int lanes = fs.length();
        FloatVector acc0 = FloatVector.zero(fs);
        FloatVector acc1 = FloatVector.zero(fs);
        int upper2 = n - n % (2 * lanes);
        int i = 0;
        for (; i < upper2; i += 2 * lanes) {
            acc0 = FloatVector.fromArray(fs, a, aOff + i).fma(FloatVector.fromArray(fs, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(fs, a, aOff + i + lanes).fma(FloatVector.fromArray(fs, b, bOff + i + lanes), acc1);
        }
        int upper = fs.loopBound(n);
        for (; i < upper; i += lanes) {
            acc0 = FloatVector.fromArray(fs, a, aOff + i).fma(FloatVector.fromArray(fs, b, bOff + i), acc0);
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }
}
