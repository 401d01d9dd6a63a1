package dev.vellama.quant;

/**
 * Compute kernels, chosen once at startup: the Vector API implementation when usable, else the scalar reference.
 * Owns a fixed pool of {@link #threads()} threads (the calling thread counts as one of them).
 */
public interface Kernels extends AutoCloseable {

    /**
     * The best available implementation. {@code -Dvellama.kernels=scalar} forces the scalar one;
     * {@code -Dvellama.vector.bits=128|256|512} forces the float vector width.
     *
     * @param threads size of the worker pool, the calling thread included; at least 1
     * @return kernels owning a new pool of {@code threads} threads; the caller closes them
     * @throws IllegalArgumentException if {@code threads} is below 1 or {@code -Dvellama.kernels} is neither
     *         {@code scalar} nor {@code vector}
     */
    static Kernels create(int threads) {
        return KernelSelector.create(threads);
    }

    /**
     * The scalar reference implementation.
     *
     * @param threads size of the worker pool, the calling thread included; at least 1
     * @return scalar kernels owning a new pool of {@code threads} threads; the caller closes them
     */
    static Kernels scalar(int threads) {
        return new ScalarKernels(threads);
    }

    /**
     * Waits until the background work on the weights' packed copies is done (their gathering into huge pages,
     * which otherwise starts once packing has been quiet for a second): a benchmark's or a server's warm-up calls
     * this so that the work does not share the cores with what comes after. An interrupt ends the wait early and
     * stays set on the thread.
     */
    static void settle() {
        LargePageMemory.awaitCollapsed();
    }

    /** {@return a one-line summary for logs, for example "Vector API, 512-bit floats, C2, 2 threads"} */
    String description();

    /** {@return the number of threads that share a job, the calling thread included} */
    int threads();

    /**
     * out[r] = Σ_c W[r,c]·x[c], r &lt; rows.
     *
     * @param w the weights, dequantized block by block as they are read
     * @param x input activations, at least {@code w.cols()} values
     * @param out receives {@code w.rows()} values from index 0
     */
    void matvec(WeightMatrix w, float[] x, float[] out);

    /**
     * Batch of n activation rows: x is n×cols row-major, out is n×rows row-major:
     * out[t*rows+r] = Σ_c W[r,c]·x[t*cols+c]. Each weight block is read once for all n tokens.
     *
     * @param w the weights
     * @param x n activation rows of {@code w.cols()} values each, row-major
     * @param n number of tokens (activation rows)
     * @param out receives n rows of {@code w.rows()} values each, row-major
     */
    void matmul(WeightMatrix w, float[] x, int n, float[] out);

    /**
     * n matrix-vector products in one job, x and out laid out as in {@link #matmul}: each token's
     * {@code out[t*rows .. t*rows+rows)} is bit for bit what {@link #matvec} gives for it alone, however many tokens
     * share the call, while the weights are read from memory once for all. Continuous batching decodes with it, so
     * a sequence's numbers do not depend on which others run beside it.
     *
     * @param w the weights
     * @param x n activation rows of {@code w.cols()} values each, row-major
     * @param n number of tokens (activation rows)
     * @param out receives n rows of {@code w.rows()} values each, row-major
     */
    void matvecMany(WeightMatrix w, float[] x, int n, float[] out);

    /**
     * Which product {@link #matmul} of n rows of w is, for a batch of sequences that must each get what they get
     * alone: the rows of two calls of the same kind (0 or more) get bit for bit the same results in one call of
     * all of them, however many they are. Kind 0 is {@link #matvecMany}'s (each row its own matvec; a one-row
     * product always is), any other kind goes through one {@link #matmul}; −1 (the default for more than one row)
     * asks for the call on its own.
     *
     * @param w the weights
     * @param n the rows a sequence's segment multiplies, at least 1
     * @return the kind, or −1
     */
    default int matmulKind(WeightMatrix w, int n) {
        return n == 1 ? 0 : -1;
    }

    /**
     * Dequantizes one row (embedding lookup).
     *
     * @param w the matrix, typically the token embedding table
     * @param row row index, 0-based (a token id for embeddings)
     * @param dst receives {@code w.cols()} floats
     * @param dstOffset index in {@code dst} of the first value written
     */
    void dequantizeRow(WeightMatrix w, int row, float[] dst, int dstOffset);

    /**
     * out = x / sqrt(mean(x²) + eps) * weight (weight may be null: no scaling); out may alias x.
     *
     * @param out receives the n normalized values
     * @param outOff index in {@code out} of the first value written
     * @param x the values to normalize
     * @param xOff index in {@code x} of the first value read
     * @param weight per-element gain read from index 0 (the norm tensor), or null for none
     * @param n number of values
     * @param eps added to the mean square before the square root (the model's rms epsilon)
     */
    void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps);

    /**
     * Softmax of x[off .. off+n) in place, max-subtracted.
     *
     * @param x the logits or attention scores, replaced by probabilities that sum to 1
     * @param off index of the first value
     * @param n number of values
     */
    void softmax(float[] x, int off, int n);

    /**
     * y_c[j] = Σ_d a_c[d]·m[mOff + j·cols + d] for c &lt; count, j &lt; n: row vectors (a_c at {@code aOff + c·aStride})
     * dotted with the rows of a row-major matrix (attention: queries times keys stored position by position), into
     * y_c at {@code yOff + c·yStride}.
     *
     * @param a the row vectors (queries)
     * @param aOff index of a_0 in {@code a}
     * @param aStride distance in {@code a} between consecutive row vectors
     * @param count number of row vectors
     * @param m the matrix (keys), row-major, rows of {@code cols} values
     * @param mOff index of the matrix's first element in {@code m}
     * @param n number of matrix rows (positions)
     * @param cols length of each row and of each row vector (the head size)
     * @param y receives count results of n values each (overwritten, not accumulated)
     * @param yOff index of y_0 in {@code y}
     * @param yStride distance in {@code y} between consecutive results
     */
    void dotRows(float[] a, int aOff, int aStride, int count, float[] m, int mOff, int n, int cols, float[] y, int yOff,
            int yStride);

    /**
     * The largest of x[off .. off+n) (negative infinity for n = 0).
     *
     * @param x the values
     * @param off index of the first value
     * @param n number of values
     * @return their maximum
     */
    float max(float[] x, int off, int n);

    /**
     * x[i] = exp(x[i] − shift) in place for i in [off, off+n); returns their sum (an online softmax's step).
     *
     * @param x the scores, replaced by their shifted exponentials
     * @param off index of the first value
     * @param n number of values
     * @param shift subtracted before exponentiating, normally the running maximum so no value overflows
     * @return the sum of the n new values
     */
    float expShifted(float[] x, int off, int n, float shift);

    /**
     * gate[i] = silu(gate[i]) * up[i], the SwiGLU feed-forward activation.
     *
     * @param gate the gate projection's output from index 0, replaced by the result
     * @param up the up projection's output from index 0
     * @param n number of values
     */
    void swiglu(float[] gate, float[] up, int n);

    /**
     * GELU, tanh approximation, as llama.cpp's CPU backend computes it (input and result rounded to F16 through a
     * table), in place.
     *
     * @param x the values, replaced by their GELU
     * @param off index of the first value
     * @param n number of values
     */
    void gelu(float[] x, int off, int n);

    /**
     * dst += src, element by element (residual connections).
     *
     * @param dst the values added to, in place
     * @param dstOff index of the first value in {@code dst}
     * @param src the values to add
     * @param srcOff index of the first value in {@code src}
     * @param n number of values
     */
    void add(float[] dst, int dstOff, float[] src, int srcOff, int n);

    /**
     * x[i] *= s in place for i in [off, off+n).
     *
     * @param x the values
     * @param off index of the first value
     * @param n number of values
     * @param s the factor
     */
    void scale(float[] x, int off, int n, float s);

    /**
     * y[j] += Σ_r a[r]·m[r·stride + j] for r &lt; rows, j &lt; n: a row vector times a matrix whose rows lie
     * {@code stride} apart (attention: a query times keys stored dimension by dimension, probabilities times
     * values). Vectorized along j, so no horizontal sums.
     *
     * @param a the row vector (a query or attention probabilities)
     * @param aOff index of a[0] in {@code a}
     * @param rows number of matrix rows, the length of the row vector
     * @param m the matrix (keys or values)
     * @param mOff index of the matrix's first element in {@code m}
     * @param stride distance in {@code m} between consecutive matrix rows
     * @param y the result, added to (not overwritten)
     * @param yOff index of y[0] in {@code y}
     * @param n number of columns, the length of {@code y}'s part
     */
    void vecmat(float[] a, int aOff, int rows, float[] m, int mOff, int stride, float[] y, int yOff, int n);

    /**
     * {@link #vecmat} for {@code count} row vectors at once, a_c at {@code aOff + c·aStride} into y_c at
     * {@code yOff + c·yStride}: each load of the matrix serves several of them (attention over a chunk of tokens).
     *
     * @param a the row vectors
     * @param aOff index of a_0 in {@code a}
     * @param aStride distance in {@code a} between consecutive row vectors
     * @param count number of row vectors
     * @param rows number of matrix rows, the length of each row vector
     * @param m the matrix (keys or values)
     * @param mOff index of the matrix's first element in {@code m}
     * @param stride distance in {@code m} between consecutive matrix rows
     * @param y the results, added to (not overwritten)
     * @param yOff index of y_0 in {@code y}
     * @param yStride distance in {@code y} between consecutive results
     * @param n number of columns, the length of each result
     */
    void vecmatBatch(float[] a, int aOff, int aStride, int count, int rows, float[] m, int mOff, int stride,
            float[] y, int yOff, int yStride, int n);

    /**
     * One token of the gated delta rule on one head's state (Qwen3.5's linear attention), as ggml's
     * {@code gated_delta_net} computes it for each of the {@code dim} rows S_j at {@code s[sOff + j·dim ..]}:
     * S_j ← decay·S_j; δ_j = β·(v_j − S_j·k); S_j ← S_j + δ_j·k; o_j = scale·(S_j·q).
     *
     * @param s the head's state, dim rows of dim, updated in place
     * @param sOff index of the state's first element
     * @param dim the head size
     * @param decay e^g, the state's decay for this token
     * @param beta the write strength β
     * @param k the key, dim values from {@code kOff}
     * @param kOff index of the key's first value
     * @param v the value, dim values from {@code vOff}
     * @param vOff index of the value's first value
     * @param q the query, dim values from {@code qOff}
     * @param qOff index of the query's first value
     * @param scale factor on the read-out (1/√dim)
     * @param o receives the head's output, dim values from {@code oOff}
     * @param oOff index of the output's first value
     */
    void deltaRule(float[] s, int sOff, int dim, float decay, float beta, float[] k, int kOff, float[] v, int vOff,
            float[] q, int qOff, float scale, float[] o, int oOff);

    /**
     * RoPE on nHeads heads of headDim at x[off..]; only the first nRot dims of each head rotate; cos/sin hold
     * nRot/2 values for this position. neox=false pairs (2i, 2i+1), neox=true pairs (i, i+nRot/2).
     *
     * @param x the query or key vectors, rotated in place
     * @param off index of the first head's first element
     * @param nHeads number of heads, stored one after another
     * @param headDim elements per head
     * @param nRot rotated dimensions per head (llama.cpp's n_rot), even and at most {@code headDim}
     * @param cos cosines of the rotation angles, nRot/2 values from index 0
     * @param sin sines of the rotation angles, nRot/2 values from index 0
     * @param neox true for the NeoX layout (halves rotate together), false for the original interleaved pairs
     */
    void rope(float[] x, int off, int nHeads, int headDim, int nRot, float[] cos, float[] sin, boolean neox);

    /**
     * Runs task(start, end) over [0, count) split across the pool; returns when all parts are done.
     *
     * @param count size of the index range
     * @param task run once per part, on the pool's threads and the calling one
     */
    void parallelFor(int count, RangeTask task);

    /** Stops the pool's threads; the kernels cannot run jobs afterwards. */
    @Override
    void close();

    /** One worker's share of a {@link #parallelFor}: the indices from {@code start} up to, not including, {@code end}. */
    @FunctionalInterface
    interface RangeTask {
        /**
         * Processes one part of the range.
         *
         * @param start first index of the part
         * @param end index after the last of the part
         */
        void run(int start, int end);
    }
}
