package dev.vellama.quant;

/**
 * The reference implementation: plain loops, rows dequantized to floats and dotted in order. Matrix products
 * split rows across the pool; every other kernel runs on the calling thread.
 */
final class ScalarKernels extends PooledKernels {
    /** ggml's constants for the tanh form of GELU. */
    static final float GELU_COEF_A = 0.044715f;
    static final float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;

    /** Why the scalar kernels run, for {@link #description()}; empty when they were asked for. */
    private final String reason;

    ScalarKernels(int threads) {
        this(threads, "");
    }

    ScalarKernels(int threads, String reason) {
        super(threads, "vellama-scalar");
        this.reason = reason;
    }

    @Override
    public String description() {
        return "scalar" + (reason.isEmpty() ? "" : " (" + reason + ")") + ", " + threads() + (threads() == 1 ? " thread" : " threads");
    }

    @Override
    public void matvec(WeightMatrix w, float[] x, float[] out) {
        checkMatvec(w, x, out);
        runMatrixJob(w, x, 1, out, w.rows());
    }

    @Override
    public void matmul(WeightMatrix w, float[] x, int n, float[] out) {
        checkMatmul(w, x, n, out);
        runMatrixJob(w, x, n, out, w.rows());
    }

    /** The scalar matmul already computes each token as its own matvec would. */
    @Override
    public void matvecMany(WeightMatrix w, float[] x, int n, float[] out) {
        matmul(w, x, n, out);
    }

    @Override
    protected void manyPart(WeightMatrix w, float[] x, int n, float[] out, int part, int start, int end) {
        matrixPart(w, x, n, out, part, start, end);
    }

    /** Rows [start, end): each row decoded once, then dotted with every activation row in order. */
    @Override
    protected void matrixPart(WeightMatrix w, float[] x, int n, float[] out, int part, int start, int end) {
        int cols = w.cols();
        int rows = w.rows();
        float[] row = rowScratch(part, cols);
        for (int r = start; r < end; r++) {
            Dequantizer.dequantizeRow(w, r, row, 0);
            for (int t = 0; t < n; t++) {
                out[t * rows + r] = dotPlain(row, 0, x, t * cols, cols);
            }
        }
    }

    static float dotPlain(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    @Override
    public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            sum += v * v;
        }
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i] * scale;
            out[outOff + i] = weight == null ? v : v * weight[i];
        }
    }

    @Override
    public void dotRows(float[] a, int aOff, int aStride, int count, float[] m, int mOff, int n, int cols, float[] y, int yOff,
            int yStride) {
        for (int c = 0; c < count; c++) {
            for (int j = 0; j < n; j++) {
                float sum = 0;
                for (int d = 0; d < cols; d++) {
                    sum += a[aOff + c * aStride + d] * m[mOff + j * cols + d];
                }
                y[yOff + c * yStride + j] = sum;
            }
        }
    }

    @Override
    public void deltaRule(float[] s, int sOff, int dim, float decay, float beta, float[] k, int kOff, float[] v, int vOff,
            float[] q, int qOff, float scale, float[] o, int oOff) {
        for (int j = 0; j < dim; j++) {
            int row = sOff + j * dim;
            float sk = 0;
            for (int i = 0; i < dim; i++) {
                s[row + i] *= decay;
                sk += s[row + i] * k[kOff + i];
            }
            float delta = (v[vOff + j] - sk) * beta;
            float sq = 0;
            for (int i = 0; i < dim; i++) {
                s[row + i] += delta * k[kOff + i];
                sq += s[row + i] * q[qOff + i];
            }
            o[oOff + j] = sq * scale;
        }
    }

    @Override
    public float max(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        return max;
    }

    @Override
    public float expShifted(float[] x, int off, int n, float shift) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - shift);
            x[off + i] = e;
            sum += e;
        }
        return (float) sum;
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        float inv = 1f / expShifted(x, off, n, max(x, off, n));
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    @Override
    public void swiglu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1.0f + (float) Math.exp(-g)) * up[i];
        }
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        GeluTable.apply(x, off, n);
    }

    @Override
    public void add(float[] dst, int dstOff, float[] src, int srcOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] += src[srcOff + i];
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float s) {
        for (int i = 0; i < n; i++) {
            x[off + i] *= s;
        }
    }

    @Override
    public void vecmat(float[] a, int aOff, int rows, float[] m, int mOff, int stride, float[] y, int yOff, int n) {
        for (int r = 0; r < rows; r++) {
            float ar = a[aOff + r];
            int row = mOff + r * stride;
            for (int j = 0; j < n; j++) {
                y[yOff + j] += ar * m[row + j];
            }
        }
    }

    @Override
    public void vecmatBatch(float[] a, int aOff, int aStride, int count, int rows, float[] m, int mOff, int stride,
            float[] y, int yOff, int yStride, int n) {
        for (int c = 0; c < count; c++) {
            vecmat(a, aOff + c * aStride, rows, m, mOff, stride, y, yOff + c * yStride, n);
        }
    }

    @Override
    public void rope(float[] x, int off, int nHeads, int headDim, int nRot, float[] cos, float[] sin, boolean neox) {
        int half = nRot / 2;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                int i0 = neox ? base + i : base + 2 * i;
                int i1 = neox ? base + i + half : base + 2 * i + 1;
                float x0 = x[i0];
                float x1 = x[i1];
                x[i0] = x0 * cos[i] - x1 * sin[i];
                x[i1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
