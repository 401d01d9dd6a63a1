package dev.vellama.runtime.model;

import java.util.List;
import java.util.Map;

import dev.vellama.quant.Kernels;
import dev.vellama.quant.WeightMatrix;

/**
 * What LoRA adapters add to a forward pass's products: for each adapted weight (by tensor name) its terms, each
 * adding factor·B·(A·x) to W·x for every row. Rows are multiplied one by one or through {@code matvecMany}
 * (bit for bit each row's own matvec), so a row's numbers do not depend on the batch it runs in. Holds scratch
 * buffers: one instance per forward pass.
 */
public final class LoraProducts {
    /** One adapter's pair for a weight, and its factor (the scale times alpha / r). */
    public record Term(WeightMatrix a, WeightMatrix b, float factor) {}

    private final Map<String, List<Term>> terms;
    private float[] down = new float[0];
    private float[] up = new float[0];

    public LoraProducts(Map<String, List<Term>> terms) {
        this.terms = Map.copyOf(terms);
    }

    /** A copy with scratch buffers of its own, for another pass. */
    public LoraProducts copy() {
        return new LoraProducts(terms);
    }

    /** Adds the adapters' products for weight {@code m} to {@code dst} ([rows][m.rows()]) for {@code in} ([rows][m.cols()]). */
    void add(Kernels k, WeightMatrix m, float[] in, int rows, float[] dst) {
        List<Term> list = terms.get(m.name());
        if (list == null) {
            return;
        }
        for (Term t : list) {
            int r = t.a().rows();
            int out = t.b().rows();
            if (down.length < rows * r) {
                down = new float[rows * r];
            }
            if (up.length < rows * out) {
                up = new float[rows * out];
            }
            multiply(k, t.a(), in, rows, down);
            multiply(k, t.b(), down, rows, up);
            float f = t.factor();
            for (int i = 0, n = rows * out; i < n; i++) {
                dst[i] += f * up[i];
            }
        }
    }

    private static void multiply(Kernels k, WeightMatrix w, float[] x, int rows, float[] out) {
        if (rows == 1) {
            k.matvec(w, x, out);
        } else {
            k.matvecMany(w, x, rows, out);
        }
    }
}
