package dev.vellama.runtime.model;

import java.util.List;
import java.util.Map;

import dev.vellama.quant.Kernels;
import dev.vellama.quant.WeightMatrix;

/**
 * What LoRA adapters add to a forward pass's products: for each adapted weight (by tensor name) its terms, each
 * adding scale·base·B·(A·x) to W·x for every row, where base is alpha / r and the scale is the adapter's: the
 * pass's default, or per row when the rows of a batch belong to requests with scales of their own
 * ({@link #rowScales}). A is kept as r rows of the weight's input width and B transposed, as r rows of its output
 * width, both as floats: A·x is r dot products and B·(A·x) r vector updates of the output row (no horizontal sum
 * per output element, which a kernel made for long rows pays on B's rows of r values). Each row is computed alone,
 * so a row's numbers do not depend on the batch it runs in. The products are small, so they run on the calling
 * thread through single-threaded kernels. Holds scratch buffers: one instance per forward pass.
 */
public final class LoraProducts {
    /**
     * One adapter's pair for a weight.
     *
     * @param a       A, r rows of {@code in} values
     * @param bt      B transposed, r rows of {@code out} values
     * @param rank    r
     * @param in      the weight's input width
     * @param out     the weight's output width
     * @param adapter the adapter's index, into the scales
     * @param base    alpha / r (1 when the adapter has no alpha)
     */
    public record Term(float[] a, float[] bt, int rank, int in, int out, int adapter, float base) {}

    private final Map<String, List<Term>> terms;
    private final float[] defaults;
    private final Kernels serial;
    private float[] rowScales;  // [row][adapter] for the next call, null: the defaults for every row
    private float[] down = new float[0];

    /**
     * @param terms    each adapted weight's terms, by tensor name
     * @param defaults each adapter's scale for rows without scales of their own
     * @param serial   single-threaded kernels, which the pairs' products run on
     */
    public LoraProducts(Map<String, List<Term>> terms, float[] defaults, Kernels serial) {
        this.terms = Map.copyOf(terms);
        this.defaults = defaults.clone();
        this.serial = serial;
    }

    /** The number of adapters, the width of a row of {@link #rowScales}. */
    public int adapters() {
        return defaults.length;
    }

    /** Each row's scales ([row][adapter]) for the calls that follow; null: every row takes the defaults. */
    public void rowScales(float[] scales) {
        this.rowScales = scales;
    }

    /**
     * Adds the adapters' products for weight {@code m} to {@code dst} ([rows][m.rows()]) for {@code in}
     * ([rows][m.cols()]); row i is row {@code rowMap[i]} of the batch (null: row i).
     */
    void add(WeightMatrix m, float[] in, int rows, float[] dst, int[] rowMap) {
        List<Term> list = terms.get(m.name());
        if (list == null) {
            return;
        }
        for (Term t : list) {
            int r = t.rank();
            if (down.length < r) {
                down = new float[r];
            }
            for (int row = 0; row < rows; row++) {
                int batchRow = rowMap == null ? row : rowMap[row];
                float scale = rowScales == null ? defaults[t.adapter()] : rowScales[batchRow * defaults.length + t.adapter()];
                if (scale == 0) {
                    continue;
                }
                serial.dotRows(in, row * t.in(), t.in(), 1, t.a(), 0, r, t.in(), down, 0, r);
                serial.scale(down, 0, r, scale * t.base());
                serial.vecmat(down, 0, r, t.bt(), 0, t.out(), dst, row * t.out(), t.out());
            }
        }
    }
}
