package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.Architecture;
import dev.vellama.runtime.RopeScaling;
import dev.vellama.runtime.UnsupportedModelException;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.UnsupportedTensorTypeException;
import dev.vellama.quant.WeightMatrix;

/**
 * The tensors of a model, named as llama.cpp names them. Matrices stay in the mapped file in their own type;
 * small vectors (norms, biases, rope factors) are read once into float arrays. Every shape is checked against the
 * configuration at load, so a wrong file fails here with a message instead of in the middle of a forward pass.
 */
public final class ModelWeights {
    public final WeightMatrix tokenEmbedding;
    public final float[] outputNorm;
    /** The output projection; the token embedding itself when the model ties them. */
    public final WeightMatrix output;
    /** llama3-style RoPE frequency factors (rope_freqs.weight), or null. */
    public final float[] ropeFactors;
    /** LongRoPE factors for contexts beyond / within the original one (Phi-3), or null. */
    public final float[] ropeFactorsLong;
    public final float[] ropeFactorsShort;
    public final Layer[] layers;

    /**
     * One transformer block. Optional parts are null when the architecture has none: with a fused {@code wqkv}
     * there are no wq/wk/wv, and with a fused gate|up in {@code up} there is no {@code gate}.
     */
    public record Layer(float[] attnNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wqkv,
                        WeightMatrix wo, float[] bq, float[] bk, float[] bv, float[] qNorm, float[] kNorm,
                        float[] postAttnNorm, float[] ffnNorm, WeightMatrix gate, WeightMatrix up, WeightMatrix down,
                        float[] postFfnNorm) {}

    public ModelWeights(GgufFile file, ModelConfig c) {
        try {
            int d = c.embeddingLength();
            tokenEmbedding = matrix(file, "token_embd.weight", c.vocabSize(), d);
            outputNorm = vector(file, "output_norm.weight", d);
            Architecture a = c.architecture();
            boolean separateOutput = !a.tiedOutput() && file.hasTensor("output.weight");
            output = separateOutput ? matrix(file, "output.weight", c.vocabSize(), d) : tokenEmbedding;
            ropeFactors = file.hasTensor("rope_freqs.weight") ? vector(file, "rope_freqs.weight", c.ropeDims() / 2) : null;
            boolean longRope = c.ropeScaling().type() == RopeScaling.Type.LONGROPE || file.hasTensor("rope_factors_long.weight");
            ropeFactorsLong = longRope ? vector(file, "rope_factors_long.weight", c.ropeDims() / 2) : null;
            ropeFactorsShort = longRope ? vector(file, "rope_factors_short.weight", c.ropeDims() / 2) : null;
            layers = new Layer[c.layerCount()];
            for (int i = 0; i < layers.length; i++) {
                String p = "blk." + i + ".";
                int ff = c.feedForwardLength()[i];
                boolean bias = a.requiresQkvBias() || file.hasTensor(p + "attn_q.bias");
                boolean fused = a.fusedQkv();
                layers[i] = new Layer(
                        vector(file, p + "attn_norm.weight", d),
                        fused ? null : matrix(file, p + "attn_q.weight", c.queryDim(), d),
                        fused ? null : matrix(file, p + "attn_k.weight", c.kvDim(), d),
                        fused ? null : matrix(file, p + "attn_v.weight", c.kvDim(), d),
                        fused ? matrix(file, p + "attn_qkv.weight", c.queryDim() + 2 * c.kvDim(), d) : null,
                        matrix(file, p + "attn_output.weight", d, c.queryDim()),
                        bias ? vector(file, p + "attn_q.bias", c.queryDim()) : null,
                        bias ? vector(file, p + "attn_k.bias", c.kvDim()) : null,
                        bias ? vector(file, p + "attn_v.bias", c.kvDim()) : null,
                        a.qkNorm() ? vector(file, p + "attn_q_norm.weight", c.headDim()) : null,
                        a.qkNorm() ? vector(file, p + "attn_k_norm.weight", c.headDim()) : null,
                        a.postNorms() ? vector(file, p + "post_attention_norm.weight", d) : null,
                        vector(file, p + "ffn_norm.weight", d),
                        a.fusedGateUp() ? null : matrix(file, p + "ffn_gate.weight", ff, d),
                        matrix(file, p + "ffn_up.weight", a.fusedGateUp() ? 2 * ff : ff, d),
                        matrix(file, p + "ffn_down.weight", d, ff),
                        a.postNorms() ? vector(file, p + "post_ffw_norm.weight", d) : null);
            }
        } catch (UnsupportedTensorTypeException e) {
            throw new UnsupportedModelException(e.getMessage(), e);
        }
    }

    static GgufTensor tensor(GgufFile file, String name) {
        if (!file.hasTensor(name)) {
            throw new UnsupportedModelException("tensor '" + name + "' is missing: the file does not have the "
                    + file.architecture() + " layout this runtime expects");
        }
        return file.tensor(name);
    }

    static WeightMatrix matrix(GgufFile file, String name, int rows, int cols) {
        GgufTensor t = tensor(file, name);
        if (t.dimensions() != 2 || t.rows() != rows || t.columns() != cols) {
            throw new UnsupportedModelException("tensor '" + name + "' has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected [" + cols + ", " + rows + "]");
        }
        return WeightMatrix.of(t);
    }

    static float[] vector(GgufFile file, String name, int n) {
        GgufTensor t = tensor(file, name);
        if (t.elementCount() != n) {
            throw new UnsupportedModelException("tensor '" + name + "' has " + t.elementCount() + " values, expected " + n);
        }
        if (t.type() != GgmlType.F32 && t.type() != GgmlType.F16 && t.type() != GgmlType.BF16) {
            throw new UnsupportedModelException("tensor '" + name + "' is " + t.type() + "; norms and biases must be F32, F16 or BF16");
        }
        float[] out = new float[n];
        Dequantizer.dequantize(t.type(), t.data(), 0, out, 0, n);
        return out;
    }

    /** Bytes of weights read for one token of decode: every matrix once, the output projection included. */
    public long bytesPerToken() {
        long sum = output.byteSize();
        for (Layer l : layers) {
            for (WeightMatrix m : new WeightMatrix[] {l.wq, l.wk, l.wv, l.wqkv, l.wo, l.gate, l.up, l.down}) {
                sum += m == null ? 0 : m.byteSize();
            }
        }
        return sum;
    }
}
