package dev.vellama.runtime.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.quant.Dequantizer;

/**
 * The tensors of a model as float arrays (F32 copied, other types expanded by the quant module's dequantizer,
 * which is checked bit for bit against llama.cpp's), with the fused tensors of phi3 split the way llama.cpp
 * views them: {@code attn_qkv} rows are Q, then K, then V; {@code ffn_up} of 2·n_ff rows is gate then up.
 * Optional tensors are null when the file has none.
 */
final class ReferenceWeights {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final Matrix tokenEmbedding;
    final float[] outputNorm;
    final Matrix output;
    final float[] ropeFreqs;
    final float[] ropeFactorsLong;
    final float[] ropeFactorsShort;
    final Layer[] layers;

    /** A row-major matrix: {@code rows} rows of {@code columns} values. */
    record Matrix(float[] values, int rows, int columns) {
        double[] times(double[] x) {
            if (x.length != columns) {
                throw new IllegalArgumentException("vector of " + x.length + " for a matrix of " + columns + " columns");
            }
            double[] y = new double[rows];
            for (int r = 0; r < rows; r++) {
                double s = 0;
                int o = r * columns;
                for (int c = 0; c < columns; c++) {
                    s += values[o + c] * x[c];
                }
                y[r] = s;
            }
            return y;
        }

        double[] row(int r) {
            double[] out = new double[columns];
            for (int c = 0; c < columns; c++) {
                out[c] = values[r * columns + c];
            }
            return out;
        }

        Matrix rows(int from, int count) {
            return new Matrix(Arrays.copyOfRange(values, from * columns, (from + count) * columns), count, columns);
        }
    }

    record Layer(float[] attnNorm, Matrix wq, Matrix wk, Matrix wv, float[] bq, float[] bk, float[] bv,
                 float[] qNorm, float[] kNorm, Matrix wo, float[] postAttnNorm, float[] ffnNorm,
                 Matrix gate, Matrix up, Matrix down, float[] postFfwNorm, Experts experts, float[] bo, float[] sinks,
                 DeltaNet deltaNet) {}

    /**
     * A Qwen3.5 linear-attention layer: {@code qkv} gives the convolution's channels (queries of all key heads,
     * then keys, then values), {@code gate} the output gate z; the convolution's taps per channel, oldest input
     * first ({@code ssm_conv1d} of [taps, channels]); the β and α projections, dt_bias, a (= −exp(A_log)), the
     * per-head output norm and the output projection.
     */
    record DeltaNet(Matrix qkv, Matrix gate, Matrix conv, Matrix beta, Matrix alpha, float[] dtBias, float[] a,
                    float[] norm, Matrix out) {}

    /** A mixture-of-experts block: the router, each expert's matrices, and the optional shared expert. */
    record Experts(Matrix router, Matrix[] gate, Matrix[] up, Matrix[] down, float[] sharedRouter, Matrix sharedGate,
                   Matrix sharedUp, Matrix sharedDown, float[] routerBias, float[][] gateBias, float[][] upBias,
                   float[][] downBias, float[] selectionBias) {}

    ReferenceWeights(GgufFile file, ReferenceConfig c) {
        tokenEmbedding = matrix(file, "token_embd.weight");
        outputNorm = vector(file, "output_norm.weight");
        // Gemma 2 always projects with the token embedding; other models fall back to it without output.weight.
        output = file.hasTensor("output.weight") && !c.architecture.equals("gemma2")
                ? matrix(file, "output.weight") : tokenEmbedding;
        ropeFreqs = optionalVector(file, "rope_freqs.weight");
        ropeFactorsLong = optionalVector(file, "rope_factors_long.weight");
        ropeFactorsShort = optionalVector(file, "rope_factors_short.weight");
        layers = new Layer[c.layers];
        for (int i = 0; i < c.layers; i++) {
            String p = "blk." + i + ".";
            Matrix wq = null;
            Matrix wk = null;
            Matrix wv = null;
            Matrix wo = null;
            DeltaNet deltaNet = null;
            if (c.linearLayer[i]) {
                deltaNet = new DeltaNet(matrix(file, p + "attn_qkv.weight"), matrix(file, p + "attn_gate.weight"),
                        matrix(file, p + "ssm_conv1d.weight"), matrix(file, p + "ssm_beta.weight"),
                        matrix(file, p + "ssm_alpha.weight"), vector(file, p + "ssm_dt.bias"), vector(file, p + "ssm_a"),
                        vector(file, p + "ssm_norm.weight"), matrix(file, p + "ssm_out.weight"));
            } else if (file.hasTensor(p + "attn_qkv.weight")) {
                Matrix qkv = matrix(file, p + "attn_qkv.weight");
                wq = qkv.rows(0, c.queryDim());
                wk = qkv.rows(c.queryDim(), c.kvDim());
                wv = qkv.rows(c.queryDim() + c.kvDim(), c.kvDim());
            } else {
                wq = matrix(file, p + "attn_q.weight");
                wk = matrix(file, p + "attn_k.weight");
                wv = matrix(file, p + "attn_v.weight");
            }
            if (deltaNet == null) {
                wo = matrix(file, p + "attn_output.weight");
            }
            Matrix gate = null;
            Matrix up = null;
            Matrix down = null;
            Experts experts = null;
            if (file.hasTensor(p + "ffn_gate_inp.weight")) {
                boolean shared = file.hasTensor(p + "ffn_gate_shexp.weight");
                experts = new Experts(matrix(file, p + "ffn_gate_inp.weight"), stacked(file, p + "ffn_gate_exps.weight"),
                        stacked(file, p + "ffn_up_exps.weight"), stacked(file, p + "ffn_down_exps.weight"),
                        optionalVector(file, p + "ffn_gate_inp_shexp.weight"),
                        shared ? matrix(file, p + "ffn_gate_shexp.weight") : null,
                        shared ? matrix(file, p + "ffn_up_shexp.weight") : null,
                        shared ? matrix(file, p + "ffn_down_shexp.weight") : null,
                        optionalVector(file, p + "ffn_gate_inp.bias"), perExpert(file, p + "ffn_gate_exps.bias"),
                        perExpert(file, p + "ffn_up_exps.bias"), perExpert(file, p + "ffn_down_exps.bias"),
                        optionalVector(file, p + "exp_probs_b.bias"));
            } else if (file.hasTensor(p + "ffn_gate.weight")) {
                gate = matrix(file, p + "ffn_gate.weight");
                up = matrix(file, p + "ffn_up.weight");
            } else {
                Matrix fused = matrix(file, p + "ffn_up.weight");
                gate = fused.rows(0, c.feedForward);
                up = fused.rows(c.feedForward, c.feedForward);
            }
            if (experts == null) {
                down = matrix(file, p + "ffn_down.weight");
            }
            layers[i] = new Layer(vector(file, p + "attn_norm.weight"), wq, wk, wv,
                    optionalVector(file, p + "attn_q.bias"), optionalVector(file, p + "attn_k.bias"),
                    optionalVector(file, p + "attn_v.bias"),
                    optionalVector(file, p + "attn_q_norm.weight"), optionalVector(file, p + "attn_k_norm.weight"),
                    wo,
                    c.ffnNormName.equals("ffn_norm.weight") ? optionalVector(file, p + "post_attention_norm.weight") : null,
                    vector(file, p + c.ffnNormName), gate, up, down,
                    optionalVector(file, p + "post_ffw_norm.weight"), experts,
                    optionalVector(file, p + "attn_output.bias"), optionalVector(file, p + "attn_sinks.weight"),
                    deltaNet);
        }
    }

    private static float[] floats(GgufFile file, String name) {
        if (!file.hasTensor(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' is missing");
        }
        GgufTensor t = file.tensor(name);
        float[] out = new float[Math.toIntExact(t.elementCount())];
        if (t.type() == GgmlType.F32) {
            MemorySegment.copy(t.data(), F32, 0, out, 0, out.length);
        } else {
            Dequantizer.dequantize(t.type(), t.data(), 0, out, 0, out.length);
        }
        return out;
    }

    private static Matrix matrix(GgufFile file, String name) {
        float[] values = floats(file, name);
        GgufTensor t = file.tensor(name);
        return new Matrix(values, Math.toIntExact(t.rows()), Math.toIntExact(t.columns()));
    }

    /** A 3-D tensor [columns, rows, n] as n matrices of rows × columns. */
    private static Matrix[] stacked(GgufFile file, String name) {
        float[] values = floats(file, name);
        GgufTensor t = file.tensor(name);
        int columns = Math.toIntExact(t.dim(0));
        int rows = Math.toIntExact(t.dim(1));
        Matrix[] out = new Matrix[Math.toIntExact(t.dim(2))];
        for (int e = 0; e < out.length; e++) {
            out[e] = new Matrix(Arrays.copyOfRange(values, e * rows * columns, (e + 1) * rows * columns), rows, columns);
        }
        return out;
    }

    private static float[] vector(GgufFile file, String name) {
        return floats(file, name);
    }

    /** A 2-D bias tensor [width, experts] as one vector per expert, or null when the file has none. */
    private static float[][] perExpert(GgufFile file, String name) {
        if (!file.hasTensor(name)) {
            return null;
        }
        float[] values = floats(file, name);
        GgufTensor t = file.tensor(name);
        int width = Math.toIntExact(t.dim(0));
        float[][] out = new float[Math.toIntExact(t.dim(1))][];
        for (int e = 0; e < out.length; e++) {
            out[e] = Arrays.copyOfRange(values, e * width, (e + 1) * width);
        }
        return out;
    }

    private static float[] optionalVector(GgufFile file, String name) {
        return file.hasTensor(name) ? floats(file, name) : null;
    }
}
