package dev.vellama.quant;

/**
 * Compute kernels, chosen once at startup: the Vector API implementation when usable, else the scalar reference.
 * Owns a fixed pool of {@link #threads()} threads (the calling thread counts as one of them).
 */
public interface Kernels extends AutoCloseable {

    /**
     * The best available implementation. {@code -Dvellama.kernels=scalar} forces the scalar one;
     * {@code -Dvellama.vector.bits=128|256|512} forces the float vector width.
     */
    static Kernels create(int threads) {
        return KernelSelector.create(threads);
    }

    /** The scalar reference implementation. */
    static Kernels scalar(int threads) {
        return new ScalarKernels(threads);
    }

    /** For example "Vector API, 512-bit floats, C2, 2 threads". */
    String description();

    int threads();

    /** out[r] = Σ_c W[r,c]·x[c], r &lt; rows. */
    void matvec(WeightMatrix w, float[] x, float[] out);

    /**
     * Batch of n activation rows: x is n×cols row-major, out is n×rows row-major:
     * out[t*rows+r] = Σ_c W[r,c]·x[t*cols+c]. Each weight block is read once for all n tokens.
     */
    void matmul(WeightMatrix w, float[] x, int n, float[] out);

    /**
     * n matrix-vector products in one job, x and out laid out as in {@link #matmul}: each token's
     * {@code out[t*rows .. t*rows+rows)} is bit for bit what {@link #matvec} gives for it alone, however many tokens
     * share the call, while the weights are read from memory once for all. Continuous batching decodes with it, so
     * a sequence's numbers do not depend on which others run beside it.
     */
    void matvecMany(WeightMatrix w, float[] x, int n, float[] out);

    /** Dequantizes one row (embedding lookup). */
    void dequantizeRow(WeightMatrix w, int row, float[] dst, int dstOffset);

    /** out = x / sqrt(mean(x²) + eps) * weight (weight may be null: no scaling); out may alias x. */
    void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps);

    /** In place, max-subtracted. */
    void softmax(float[] x, int off, int n);

    /**
     * y_c[j] = Σ_d a_c[d]·m[mOff + j·cols + d] for c &lt; count, j &lt; n: row vectors (a_c at {@code aOff + c·aStride})
     * dotted with the rows of a row-major matrix (attention: queries times keys stored position by position), into
     * y_c at {@code yOff + c·yStride}.
     */
    void dotRows(float[] a, int aOff, int aStride, int count, float[] m, int mOff, int n, int cols, float[] y, int yOff,
            int yStride);

    /** The largest of x[off .. off+n) (negative infinity for n = 0). */
    float max(float[] x, int off, int n);

    /** x[i] = exp(x[i] − shift) in place for i in [off, off+n); returns their sum (an online softmax's step). */
    float expShifted(float[] x, int off, int n, float shift);

    /** gate[i] = silu(gate[i]) * up[i]. */
    void swiglu(float[] gate, float[] up, int n);

    /** GELU, tanh approximation as ggml uses, in place. */
    void gelu(float[] x, int off, int n);

    /** dst += src. */
    void add(float[] dst, int dstOff, float[] src, int srcOff, int n);

    void scale(float[] x, int off, int n, float s);

    /**
     * y[j] += Σ_r a[r]·m[r·stride + j] for r &lt; rows, j &lt; n: a row vector times a matrix whose rows lie
     * {@code stride} apart (attention: a query times keys stored dimension by dimension, probabilities times
     * values). Vectorized along j, so no horizontal sums.
     */
    void vecmat(float[] a, int aOff, int rows, float[] m, int mOff, int stride, float[] y, int yOff, int n);

    /**
     * {@link #vecmat} for {@code count} row vectors at once, a_c at {@code aOff + c·aStride} into y_c at
     * {@code yOff + c·yStride}: each load of the matrix serves several of them (attention over a chunk of tokens).
     */
    void vecmatBatch(float[] a, int aOff, int aStride, int count, int rows, float[] m, int mOff, int stride,
            float[] y, int yOff, int yStride, int n);

    /**
     * RoPE on nHeads heads of headDim at x[off..]; only the first nRot dims of each head rotate; cos/sin hold
     * nRot/2 values for this position. neox=false pairs (2i, 2i+1), neox=true pairs (i, i+nRot/2).
     */
    void rope(float[] x, int off, int nHeads, int headDim, int nRot, float[] cos, float[] sin, boolean neox);

    /** Runs task(start, end) over [0, count) split across the pool; returns when all parts are done. */
    void parallelFor(int count, RangeTask task);

    @Override
    void close();

    /** One worker's share of a {@link #parallelFor}: the indices from {@code start} up to, not including, {@code end}. */
    @FunctionalInterface
    interface RangeTask {
        void run(int start, int end);
    }
}
