package dev.vellama.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The mean activations of two sets of texts (say, positive and negative reviews) at one {@link ActivationPoint} of
 * every layer, and at each layer's output: what finds a "sentiment neuron" ({@link #rank}) and a steering vector
 * ({@link #steeringVector}). Each text is evaluated alone, from position 0; its mean runs over its tokens after
 * BOS (BOS is the same in every text).
 */
public final class ContrastiveActivations {
    private final ActivationPoint point;
    private final int layers;
    // [text][layer][neuron]: the point's mean activations, and the residual's
    private final float[][][] positive;
    private final float[][][] negative;
    private final float[][][] positiveResidual;
    private final float[][][] negativeResidual;

    private ContrastiveActivations(ActivationPoint point, int layers, float[][][] positive, float[][][] negative,
            float[][][] positiveResidual, float[][][] negativeResidual) {
        this.point = point;
        this.layers = layers;
        this.positive = positive;
        this.negative = negative;
        this.positiveResidual = positiveResidual;
        this.negativeResidual = negativeResidual;
    }

    /**
     * Evaluates every text on {@code session} (which forgets its conversation) and keeps each text's mean
     * activations at {@code point} and at each layer's output.
     *
     * @param session  the session to evaluate on
     * @param point    where the neurons are read
     * @param positive the positive texts
     * @param negative the negative texts
     * @return the texts' mean activations
     * @throws dev.vellama.VellamaException when a set is empty or a text does not fit the session's context
     */
    public static ContrastiveActivations collect(Session session, ActivationPoint point, List<String> positive, List<String> negative) {
        if (positive.isEmpty() || negative.isEmpty()) {
            throw new dev.vellama.VellamaException("both sets need at least one text (" + positive.size() + " positive, "
                    + negative.size() + " negative)");
        }
        int layers = session.model().config().layerCount();
        float[][][] pr = new float[positive.size()][][];
        float[][][] nr = new float[negative.size()][][];
        float[][][] p = means(session, point, positive, pr, layers);
        float[][][] n = means(session, point, negative, nr, layers);
        return new ContrastiveActivations(point, layers, p, n, pr, nr);
    }

    private static float[][][] means(Session session, ActivationPoint point, List<String> texts, float[][][] residualOut, int layers) {
        float[][][] out = new float[texts.size()][][];
        int bos = session.model().tokenizer().bos();
        for (int i = 0; i < texts.size(); i++) {
            int[] tokens = session.tokenize(texts.get(i));
            int from = tokens.length > 1 && tokens[0] == bos ? 1 : 0;
            double[][] sum = new double[layers][];
            double[][] rsum = new double[layers][];
            try (Session.Hook a = session.observe(point, (l, pt, pos, v, off, len) -> add(sum, l, pos, from, v, off, len));
                 Session.Hook r = session.observe(ActivationPoint.RESIDUAL, (l, pt, pos, v, off, len) -> add(rsum, l, pos, from, v, off, len))) {
                session.evaluateAll(tokens);
            }
            out[i] = divide(sum, tokens.length - from);
            residualOut[i] = divide(rsum, tokens.length - from);
        }
        session.reset();
        return out;
    }

    private static void add(double[][] sum, int layer, int pos, int from, float[] v, int off, int len) {
        if (pos < from) {
            return;
        }
        if (sum[layer] == null) {
            sum[layer] = new double[len];
        }
        for (int j = 0; j < len; j++) {
            sum[layer][j] += v[off + j];
        }
    }

    private static float[][] divide(double[][] sum, int count) {
        float[][] mean = new float[sum.length][];
        for (int l = 0; l < sum.length; l++) {
            if (sum[l] != null) {
                mean[l] = new float[sum[l].length];
                for (int j = 0; j < sum[l].length; j++) {
                    mean[l][j] = (float) (sum[l][j] / count);
                }
            }
        }
        return mean;
    }

    /** {@return the point the neurons were read at} */
    public ActivationPoint point() {
        return point;
    }

    /**
     * The {@code top} neurons that separate the two sets best, at one layer ({@code layer} ≥ 0) or all (−1): by
     * one-threshold accuracy, then by the size of the effect.
     *
     * @param layer one layer, or −1 for all
     * @param top   how many to return
     * @return the best neurons, best first
     */
    public List<NeuronScore> rank(int layer, int top) {
        List<NeuronScore> all = new ArrayList<>();
        for (int l = layer < 0 ? 0 : layer; l < (layer < 0 ? layers : layer + 1); l++) {
            if (positive[0][l] == null) {
                continue; // a mixture of experts' layer has no ffn_act
            }
            for (int j = 0; j < positive[0][l].length; j++) {
                all.add(score(l, j));
            }
        }
        all.sort(Comparator.comparingDouble(NeuronScore::accuracy).reversed()
                .thenComparing(Comparator.comparingDouble((NeuronScore s) -> Math.abs(s.effectSize())).reversed()));
        return List.copyOf(all.subList(0, Math.min(top, all.size())));
    }

    private NeuronScore score(int l, int j) {
        int np = positive.length;
        int nn = negative.length;
        double[] v = new double[np + nn];
        boolean[] isPositive = new boolean[np + nn];
        double mp = 0;
        double mn = 0;
        for (int i = 0; i < np; i++) {
            v[i] = positive[i][l][j];
            isPositive[i] = true;
            mp += v[i] / np;
        }
        for (int i = 0; i < nn; i++) {
            v[np + i] = negative[i][l][j];
            mn += v[np + i] / nn;
        }
        double ss = 0;
        for (int i = 0; i < np + nn; i++) {
            double d = v[i] - (isPositive[i] ? mp : mn);
            ss += d * d;
        }
        double pooled = Math.sqrt(ss / Math.max(1, np + nn - 2));
        double effect = pooled > 0 ? (mp - mn) / pooled : 0;
        return new NeuronScore(l, j, thresholdAccuracy(v, isPositive, np), effect, mp, mn);
    }

    /** The best share of right answers of "positive above t" or "positive below t", over every threshold t. */
    private static double thresholdAccuracy(double[] v, boolean[] isPositive, int np) {
        Integer[] order = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
        int n = v.length;
        int nn = n - np;
        // threshold below everything: all called positive
        int posBelow = 0;
        int negBelow = 0;
        int best = Math.max(np, nn);
        for (int k = 0; k < n; k++) {
            if (isPositive[order[k]]) {
                posBelow++;
            } else {
                negBelow++;
            }
            if (k + 1 < n && v[order[k]] == v[order[k + 1]]) {
                continue; // a threshold cannot split equal values
            }
            int above = negBelow + (np - posBelow); // positive above the threshold, negative below
            best = Math.max(best, Math.max(above, n - above));
        }
        return (double) best / n;
    }

    /**
     * The difference of the two sets' mean residuals at each layer's output, from layer 1 on (mean of the positive
     * texts' means less the negative ones'): a control vector that pushes towards the positive set.
     *
     * @return the steering vector, directions for layers 1 and up
     */
    public ControlVector steeringVector() {
        if (layers < 2) {
            throw new dev.vellama.VellamaException("a one-layer model has no layer a control vector reaches (they start at layer 1)");
        }
        Map<Integer, float[]> dirs = new HashMap<>();
        for (int l = 1; l < layers; l++) {
            int d = positiveResidual[0][l].length;
            float[] dir = new float[d];
            for (int j = 0; j < d; j++) {
                double p = 0;
                double n = 0;
                for (float[][] t : positiveResidual) {
                    p += t[l][j];
                }
                for (float[][] t : negativeResidual) {
                    n += t[l][j];
                }
                dir[j] = (float) (p / positiveResidual.length - n / negativeResidual.length);
            }
            dirs.put(l, dir);
        }
        return ControlVector.of(positiveResidual[0][1].length, dirs);
    }
}
