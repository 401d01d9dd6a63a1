package dev.vellama.quant;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels written with the Vector API, parameterized by one float species: the same code runs at 128, 256 or
 * 512 bits. Weight rows are read straight from their memory segment by {@link RowKernels}; element-wise kernels
 * run on the calling thread.
 */
final class VectorKernels extends PooledKernels {
    private final VectorSpecies<Float> fs;
    private final VectorSpecies<Integer> is;
    private final VectorSpecies<Short> ss;
    private final RowKernels rowKernels;

    /** Tests build one per width; {@link Kernels#create} picks the preferred one. */
    VectorKernels(VectorSpecies<Float> species, int threads) {
        super(threads, "vellama-vector");
        this.fs = species;
        this.is = IntVector.SPECIES_PREFERRED.withShape(species.vectorShape()).check(int.class);
        this.ss = ShortVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(Math.max(64, species.vectorBitSize() / 2)))
                .check(short.class);
        this.rowKernels = new RowKernels(species);
    }

    VectorSpecies<Float> species() {
        return fs;
    }

    @Override
    public String description() {
        return "Vector API, " + fs.vectorBitSize() + "-bit floats, " + KernelSelector.compilerDescription() + ", "
                + threads() + (threads() == 1 ? " thread" : " threads");
    }

    @Override
    public void matvec(WeightMatrix w, float[] x, float[] out) {
        checkMatvec(w, x, out);
        RowKernels.Prepared prepared = rowKernels.prepare(w, x, 1);
        pool.run(w.rows(), (part, start, end) -> rowKernels.matvecRange(prepared, w, x, out, start, end, rowScratch(part, w.cols())));
    }

    @Override
    public void matmul(WeightMatrix w, float[] x, int n, float[] out) {
        checkMatmul(w, x, n, out);
        if (n == 1) {
            matvec(w, x, out);
            return;
        }
        int tile = RowKernels.TILE_ROWS;
        int tiles = (w.rows() + tile - 1) / tile;
        pool.run(tiles, (part, start, end) -> rowKernels.matmulTiles(w, x, n, out, start * tile,
                Math.min(w.rows(), end * tile), rowScratch(part, tile * w.cols())));
    }

    @Override
    public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        int upper = fs.loopBound(n);
        FloatVector acc = FloatVector.zero(fs);
        int i = 0;
        for (; i < upper; i += fs.length()) {
            FloatVector v = FloatVector.fromArray(fs, x, xOff + i);
            acc = v.fma(v, acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float v = x[xOff + i];
            sum += v * v;
        }
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        i = 0;
        for (; i < upper; i += fs.length()) {
            FloatVector v = FloatVector.fromArray(fs, x, xOff + i).mul(scale);
            if (weight != null) {
                v = v.mul(FloatVector.fromArray(fs, weight, i));
            }
            v.intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            float v = x[xOff + i] * scale;
            out[outOff + i] = weight == null ? v : v * weight[i];
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        int upper = fs.loopBound(n);
        FloatVector mv = FloatVector.broadcast(fs, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < upper; i += fs.length()) {
            mv = mv.max(FloatVector.fromArray(fs, x, off + i));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        FloatVector sv = FloatVector.zero(fs);
        i = 0;
        for (; i < upper; i += fs.length()) {
            FloatVector e = FloatVector.fromArray(fs, x, off + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            sv = sv.add(e);
        }
        double sum = sv.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        scale(x, off, n, (float) (1.0 / sum));
    }

    @Override
    public void swiglu(float[] gate, float[] up, int n) {
        int upper = fs.loopBound(n);
        int i = 0;
        for (; i < upper; i += fs.length()) {
            FloatVector g = FloatVector.fromArray(fs, gate, i);
            FloatVector denom = g.neg().lanewise(VectorOperators.EXP).add(1f);
            g.div(denom).mul(FloatVector.fromArray(fs, up, i)).intoArray(gate, i);
        }
        for (; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1.0f + (float) Math.exp(-g)) * up[i];
        }
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        int upper = fs.loopBound(n);
        int i = 0;
        for (; i < upper; i += fs.length()) {
            FloatVector v = FloatVector.fromArray(fs, x, off + i);
            FloatVector inner = v.mul(v).mul(ScalarKernels.GELU_COEF_A).add(1f).mul(v).mul(ScalarKernels.SQRT_2_OVER_PI);
            v.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f)).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            float v = x[off + i];
            x[off + i] = 0.5f * v * (1.0f + (float) Math.tanh(ScalarKernels.SQRT_2_OVER_PI * v * (1.0f + ScalarKernels.GELU_COEF_A * v * v)));
        }
    }

    @Override
    public void add(float[] dst, int dstOff, float[] src, int srcOff, int n) {
        int upper = fs.loopBound(n);
        int i = 0;
        for (; i < upper; i += fs.length()) {
            FloatVector.fromArray(fs, dst, dstOff + i).add(FloatVector.fromArray(fs, src, srcOff + i)).intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) {
            dst[dstOff + i] += src[srcOff + i];
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float s) {
        int upper = fs.loopBound(n);
        int i = 0;
        for (; i < upper; i += fs.length()) {
            FloatVector.fromArray(fs, x, off + i).mul(s).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= s;
        }
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return RowKernels.dotF32(fs, a, aOff, b, bOff, n);
    }

    @Override
    public float dotF16(short[] a, int aOff, float[] b, int bOff, int n) {
        int upper = fs.loopBound(n);
        FloatVector acc = FloatVector.zero(fs);
        int i = 0;
        for (; i < upper; i += fs.length()) {
            acc = halvesToFloats(a, aOff + i).fma(FloatVector.fromArray(fs, b, bOff + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += Float.float16ToFloat(a[aOff + i]) * b[bOff + i];
        }
        return s;
    }

    @Override
    public void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        int upper = fs.loopBound(n);
        int i = 0;
        for (; i < upper; i += fs.length()) {
            FloatVector.fromArray(fs, x, xOff + i).fma(FloatVector.broadcast(fs, a), FloatVector.fromArray(fs, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    @Override
    public void axpyF16(float a, short[] x, int xOff, float[] y, int yOff, int n) {
        int upper = fs.loopBound(n);
        int i = 0;
        for (; i < upper; i += fs.length()) {
            halvesToFloats(x, xOff + i).fma(FloatVector.broadcast(fs, a), FloatVector.fromArray(fs, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a * Float.float16ToFloat(x[xOff + i]);
        }
    }

    /**
     * Exact IEEE half → float for one vector of lanes: the magnitude bits shifted into float position and scaled
     * by 2^112 (exact, subnormals included); the all-ones exponent (inf/NaN) is patched, the sign copied.
     */
    private FloatVector halvesToFloats(short[] h, int off) {
        IntVector bits = (IntVector) ShortVector.fromArray(ss, h, off).convertShape(VectorOperators.S2I, is, 0);
        IntVector mag = bits.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        FloatVector scaled = mag.reinterpretAsFloats().mul(0x1p112f);
        var special = bits.and(0x7C00).compare(VectorOperators.EQ, 0x7C00);
        IntVector fixed = scaled.reinterpretAsInts().blend(mag.or(0x7F800000), special);
        return fixed.or(sign).reinterpretAsFloats();
    }

    @Override
    public void rope(float[] x, int off, int nHeads, int headDim, int nRot, float[] cos, float[] sin, boolean neox) {
        int half = nRot / 2;
        if (!neox) {
            // Interleaved pairs gain little from vectors at head sizes; the scalar loop is exact and short.
            for (int h = 0; h < nHeads; h++) {
                int base = off + h * headDim;
                for (int i = 0; i < half; i++) {
                    float x0 = x[base + 2 * i];
                    float x1 = x[base + 2 * i + 1];
                    x[base + 2 * i] = x0 * cos[i] - x1 * sin[i];
                    x[base + 2 * i + 1] = x0 * sin[i] + x1 * cos[i];
                }
            }
            return;
        }
        int upper = fs.loopBound(half);
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            int i = 0;
            for (; i < upper; i += fs.length()) {
                FloatVector x0 = FloatVector.fromArray(fs, x, base + i);
                FloatVector x1 = FloatVector.fromArray(fs, x, base + i + half);
                FloatVector c = FloatVector.fromArray(fs, cos, i);
                FloatVector s = FloatVector.fromArray(fs, sin, i);
                x0.mul(c).sub(x1.mul(s)).intoArray(x, base + i);
                x0.mul(s).add(x1.mul(c)).intoArray(x, base + i + half);
            }
            for (; i < half; i++) {
                float x0 = x[base + i];
                float x1 = x[base + i + half];
                x[base + i] = x0 * cos[i] - x1 * sin[i];
                x[base + i + half] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
