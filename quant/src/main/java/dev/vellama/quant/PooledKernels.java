package dev.vellama.quant;

/** What every implementation shares: the worker pool and per-thread scratch rows. */
abstract class PooledKernels implements Kernels {
    protected final WorkerPool pool;
    private final float[][] rowScratch;
    private final byte[][] byteScratch;

    PooledKernels(int threads, String name) {
        this.pool = new WorkerPool(threads, name);
        this.rowScratch = new float[threads][];
        this.byteScratch = new byte[threads][];
    }

    @Override
    public int threads() {
        return pool.threads();
    }

    /** A float buffer of at least {@code size} owned by pool part {@code part}; grows once, then is reused. */
    protected final float[] rowScratch(int part, int size) {
        float[] s = rowScratch[part];
        if (s == null || s.length < size) {
            s = new float[size];
            rowScratch[part] = s;
        }
        return s;
    }

    /** A byte buffer of at least {@code size} owned by pool part {@code part}; grows once, then is reused. */
    protected final byte[] byteScratch(int part, int size) {
        byte[] s = byteScratch[part];
        if (s == null || s.length < size) {
            s = new byte[size];
            byteScratch[part] = s;
        }
        return s;
    }

    @Override
    public void parallelFor(int count, RangeTask task) {
        pool.run(count, task);
    }

    @Override
    public void dequantizeRow(WeightMatrix w, int row, float[] dst, int dstOffset) {
        if (row < 0 || row >= w.rows()) {
            throw new IndexOutOfBoundsException("row " + row + " of " + w.name() + " with " + w.rows() + " rows");
        }
        Dequantizer.dequantizeRow(w, row, dst, dstOffset);
    }

    protected static void checkMatvec(WeightMatrix w, float[] x, float[] out) {
        if (x.length < w.cols() || out.length < w.rows()) {
            throw new IllegalArgumentException("matvec " + w.name() + " " + w.rows() + "×" + w.cols() + " with x["
                    + x.length + "], out[" + out.length + "]");
        }
    }

    protected static void checkMatmul(WeightMatrix w, float[] x, int n, float[] out) {
        if (n < 0 || x.length < (long) n * w.cols() || out.length < (long) n * w.rows()) {
            throw new IllegalArgumentException("matmul " + w.name() + " " + w.rows() + "×" + w.cols() + " with n=" + n
                    + ", x[" + x.length + "], out[" + out.length + "]");
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
