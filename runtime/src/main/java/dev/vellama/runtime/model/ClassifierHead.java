package dev.vellama.runtime.model;

import dev.vellama.gguf.GgufFile;
import dev.vellama.quant.Kernels;
import dev.vellama.quant.WeightMatrix;

/**
 * A reranker's classification head on an encoder, as llama.cpp's rank pooling computes it: the first token's
 * hidden state ([CLS]) through {@code cls} (a dense layer with bias) and tanh, then, where the file has one,
 * {@code cls.output} (a dense layer with bias to the scores); the first value is the pair's relevance score. A head
 * without {@code cls.output} (jina-reranker-v1-tiny) scores with the first value of the tanh layer.
 */
public final class ClassifierHead {
    private final Kernels k;
    private final WeightMatrix dense;
    private final float[] denseBias;
    private final WeightMatrix out;
    private final float[] outBias;

    private ClassifierHead(Kernels k, WeightMatrix dense, float[] denseBias, WeightMatrix out, float[] outBias) {
        this.k = k;
        this.dense = dense;
        this.denseBias = denseBias;
        this.out = out;
        this.outBias = outBias;
    }

    /**
     * The file's head, or null when it has no {@code cls.weight}.
     *
     * @param d the encoder's hidden size
     * @throws dev.vellama.runtime.UnsupportedModelException for a head of the wrong shape or one without its biases
     */
    public static ClassifierHead of(GgufFile file, int d, Kernels kernels) {
        if (!file.hasTensor("cls.weight")) {
            return null;
        }
        WeightMatrix dense = ModelWeights.matrix(file, "cls.weight", d, d);
        float[] denseBias = ModelWeights.vector(file, "cls.bias", d);
        if (!file.hasTensor("cls.output.weight")) {
            return new ClassifierHead(kernels, dense, denseBias, null, null);
        }
        int labels = (int) ModelWeights.tensor(file, "cls.output.weight").rows();
        return new ClassifierHead(kernels, dense, denseBias, ModelWeights.matrix(file, "cls.output.weight", labels, d),
                ModelWeights.vector(file, "cls.output.bias", labels));
    }

    /** {@return the score of the sequence whose first token's hidden state lies at hidden[at, at + d)} */
    public float score(float[] hidden, int at) {
        int d = denseBias.length;
        float[] x = java.util.Arrays.copyOfRange(hidden, at, at + d);
        float[] h = new float[d];
        k.matmul(dense, x, 1, h);
        for (int i = 0; i < d; i++) {
            h[i] = (float) Math.tanh(h[i] + denseBias[i]);
        }
        if (out == null) {
            return h[0];
        }
        float[] scores = new float[outBias.length];
        k.matmul(out, h, 1, scores);
        return scores[0] + outBias[0];
    }
}
