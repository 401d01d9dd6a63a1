package dev.vellama.quant;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What every implementation shares: the worker pool, per-thread scratch, and an allocation-free way to run a
 * matrix product on the pool (the operands travel in fields guarded by a lock, not in a capturing lambda).
 */
abstract class PooledKernels implements Kernels {
    protected final WorkerPool pool;
    private final ReentrantLock jobLock = new ReentrantLock();
    private final WorkerPool.PartTask jobTask = this::runJobPart;
    private WeightMatrix jobW;
    private float[] jobX;
    private float[] jobOut;
    private int jobN;
    /**
     * Small matrix jobs (up to {@link #COLD_MAX_TOKENS} activation rows) left to run in the JIT's warm-up: the
     * first ones of the process run on one thread fewer than the pool has, so that a core is left to the JIT
     * compiler while the kernels still run as slow, not yet compiled code. On this 2-core machine the first token
     * of a short prompt came 0.35 s sooner (2.3–2.5 s instead of 2.7–2.9 s from process start) and the first
     * eight tokens 0.8 s sooner. Per process, as the compiled code is. {@code -Dvellama.coldJobs} overrides it.
     */
    private static final AtomicInteger COLD_JOBS = new AtomicInteger(Integer.getInteger("vellama.coldJobs", 256));
    private static final int COLD_MAX_TOKENS = 16;
    private final float[][] rowScratch;
    private final float[][] sumScratch;
    private final short[][] shortScratch;
    private final float[][] tokenScratch;
    private final float[][] outScratch;
    private boolean jobMany;

    PooledKernels(int threads, String name) {
        this.pool = new WorkerPool(threads, name);
        this.rowScratch = new float[threads][];
        this.sumScratch = new float[threads][];
        this.shortScratch = new short[threads][];
        this.tokenScratch = new float[threads][];
        this.outScratch = new float[threads][];
    }

    @Override
    public int threads() {
        return pool.threads();
    }

    /**
     * Bytes left free after each part's scratch: parts run on different cores and write their scratch in the hot
     * loop, so two scratch arrays the garbage collector places side by side must not share a cache line.
     */
    private static final int PAD_BYTES = 128;

    /** A float buffer of at least {@code size} owned by pool part {@code part}; grows once, then is reused. */
    protected final float[] rowScratch(int part, int size) {
        return grow(rowScratch, part, size);
    }

    /** A second float buffer per part (per-call sums of the activations, a matmul panel), like {@link #rowScratch}. */
    protected final float[] sumScratch(int part, int size) {
        return grow(sumScratch, part, size);
    }

    /** One token's activations, copied out of a {@link #matvecMany} batch for the single-token kernels. */
    protected final float[] tokenScratch(int part, int size) {
        return grow(tokenScratch, part, size);
    }

    /** One token's output rows in a {@link #matvecMany} batch, before they are copied to their place. */
    protected final float[] outScratch(int part, int size) {
        return grow(outScratch, part, size);
    }

    /** Part {@code part}'s buffer in {@code slots}, replaced by a larger one (padded) when it is too small. */
    private static float[] grow(float[][] slots, int part, int size) {
        float[] s = slots[part];
        if (s == null || s.length < size) {
            s = new float[size + PAD_BYTES / 4];
            slots[part] = s;
        }
        return s;
    }

    /** A short buffer of at least {@code size} owned by pool part {@code part}; grows once, then is reused. */
    protected final short[] shortScratch(int part, int size) {
        short[] s = shortScratch[part];
        if (s == null || s.length < size) {
            s = new short[size + PAD_BYTES / 2];
            shortScratch[part] = s;
        }
        return s;
    }

    /**
     * Runs {@link #matrixPart} over [0, count) on the pool for the product of {@code w} with {@code n}
     * activation rows.
     */
    protected final void runMatrixJob(WeightMatrix w, float[] x, int n, float[] out, int count) {
        runJob(w, x, n, out, count, false);
    }

    /** Runs {@link #manyPart} over [0, count) rows on the pool: n matrix-vector products in one job. */
    protected final void runManyJob(WeightMatrix w, float[] x, int n, float[] out, int count) {
        runJob(w, x, n, out, count, true);
    }

    private void runJob(WeightMatrix w, float[] x, int n, float[] out, int count, boolean many) {
        jobLock.lock();
        try {
            jobMany = many;
            jobW = w;
            jobX = x;
            jobN = n;
            jobOut = out;
            boolean cold = n <= COLD_MAX_TOKENS && COLD_JOBS.get() > 0 && COLD_JOBS.getAndDecrement() > 0;
            pool.run(count, cold ? pool.threads() - 1 : pool.threads(), jobTask);
        } finally {
            jobW = null;
            jobX = null;
            jobOut = null;
            jobLock.unlock();
        }
    }

    private void runJobPart(int part, int start, int end) {
        if (jobMany) {
            manyPart(jobW, jobX, jobN, jobOut, part, start, end);
        } else {
            matrixPart(jobW, jobX, jobN, jobOut, part, start, end);
        }
    }

    /**
     * One thread's share [start, end) of the rows of a {@link #runManyJob}: n matrix-vector products, each token's
     * rows bit-identical to what its own matvec gives.
     */
    protected abstract void manyPart(WeightMatrix w, float[] x, int n, float[] out, int part, int start, int end);

    /** One thread's share [start, end) of the job {@link #runMatrixJob} started; {@code part} picks the scratch. */
    protected abstract void matrixPart(WeightMatrix w, float[] x, int n, float[] out, int part, int start, int end);

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
