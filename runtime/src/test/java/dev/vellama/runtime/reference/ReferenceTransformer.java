package dev.vellama.runtime.reference;

import java.io.IOException;
import java.nio.file.Path;

import dev.vellama.gguf.GgufFile;

/**
 * A deliberately naive forward pass in double precision over a model's F32 weights, one small method per step,
 * written from llama.cpp's documented behaviour rather than from the engine: embedding (× √n_embd for Gemma),
 * per layer RMSNorm → q/k/v (fused or not, optional biases) → optional per-head q/k RMSNorm → RoPE → keys and
 * values rounded to F16 as an F16 KV cache holds them → causal (and sliding-window) attention with GQA, optional
 * soft-cap → output projection → optional post-norm → residual; then the feed-forward block (SiLU or GELU gate)
 * likewise; final RMSNorm, output projection, optional logit soft-cap. Qwen3.5's linear-attention layers run the
 * gated delta rule over a causal convolution instead of attending ({@link #linearAttention}), and its attention
 * layers gate each head's output.
 *
 * <p>Gemma 4 ({@link #gemma4Block} and the steps it names): each layer has its own head size, kv heads and rotated
 * dimensions; scores are not scaled; values are RMS-normed per head without a weight (and are the keys' projection
 * where a layer has no attn_v); the last layers attend over an earlier layer's keys and values; experts run beside
 * the dense block; each layer adds its per-layer input and scales its whole output by a scalar.
 *
 * <p>Gemma 3n ({@link #altUpLayers}): four residual streams, which each layer predicts from one another before
 * attention and the feed-forward block run on the prediction of stream 0, with LAuReL beside attention, and corrects
 * by what they changed; the first ten layers' gates sparsified; per-layer inputs added to streams 1–3; the streams
 * merged back into one before the output norm. Scores are not scaled and values are RMS-normed, as in Gemma 4.
 */
final class ReferenceTransformer {
    private final ReferenceConfig c;
    private final ReferenceWeights w;
    private final ReferenceRope[] ropes;

    /**
     * @param contextSize the session's context: phi3 picks its long RoPE factors when it exceeds the original
     *                    training context
     */
    ReferenceTransformer(Path model, int contextSize) throws IOException {
        try (GgufFile file = GgufFile.open(model)) {
            this.c = new ReferenceConfig(file.metadata());
            this.w = new ReferenceWeights(file, c);
        }
        float[] factors = ropeFactors(contextSize);
        ropes = new ReferenceRope[c.layers];
        for (int l = 0; l < c.layers; l++) {
            boolean sliding = c.slidingLayer[l];
            // Gemma 4: only the global layers divide by rope_freqs ("proportional" RoPE)
            float[] layerFactors = c.architecture.equals("gemma4") && sliding ? null : factors;
            ropes[l] = new ReferenceRope(c, c.layerRopeDims[l], sliding ? c.swaRopeBase : c.ropeBase,
                    sliding ? c.swaFreqScale : c.freqScale, c.freqScale, layerFactors);
        }
    }

    ReferenceConfig config() {
        return c;
    }

    private float[] ropeFactors(int contextSize) {
        if (w.ropeFreqs != null) {
            return w.ropeFreqs;
        }
        if (w.ropeFactorsLong != null && contextSize > c.originalContext) {
            return w.ropeFactorsLong;
        }
        return w.ropeFactorsShort;
    }

    /** Logits of every position of {@code tokens} evaluated from position 0: [position][vocab]. */
    double[][] logits(int[] tokens) {
        double[][] x = embed(tokens);
        double[][][] perLayer = c.perLayerInput > 0 ? perLayerInputs(tokens, x) : null;
        // each layer's keys and values over the whole sequence, [layer][position][kv features]
        double[][][] keys = new double[c.layers][][];
        double[][][] values = new double[c.layers][][];
        if (c.altUpStreams > 0) {
            x = altUpLayers(x, perLayer, keys, values);
        } else {
            for (int l = 0; l < c.layers; l++) {
                ReferenceWeights.Layer layer = w.layers[l];
                double[][] attn = c.linearLayer[l] ? linearAttention(layer, x) : attention(l, layer, x, keys, values);
                addResidual(x, layer.postAttnNorm() == null ? attn : rmsNormAll(attn, layer.postAttnNorm()));
                double[][] ffn = feedForward(layer, x);
                addResidual(x, layer.postFfwNorm() == null ? ffn : rmsNormAll(ffn, layer.postFfwNorm()));
                if (layer.gemma4() != null) {
                    gemma4Block(l, layer.gemma4(), x, perLayer);
                }
            }
        }
        double[][] out = new double[tokens.length][];
        for (int t = 0; t < tokens.length; t++) {
            out[t] = softcap(w.output.times(rmsNorm(x[t], w.outputNorm)), c.finalSoftcap);
        }
        return out;
    }

    private double[][] embed(int[] tokens) {
        double[][] x = new double[tokens.length][];
        for (int t = 0; t < tokens.length; t++) {
            x[t] = w.tokenEmbedding.row(tokens[t]);
            scale(x[t], c.embeddingScale);
        }
        return x;
    }

    /**
     * Attention of layer l over the sequence. A layer with a cache of its own computes its keys and values and
     * leaves them in {@code keys[l]} and {@code values[l]}; a layer without (Gemma 4's last ones) attends over those
     * of the layer {@link ReferenceConfig#kvLayer} names, which ran before it.
     */
    private double[][] attention(int l, ReferenceWeights.Layer layer, double[][] x, double[][][] keys, double[][][] values) {
        int n = x.length;
        int headDim = c.layerHeadDim[l];
        int headsKv = c.layerHeadsKv[l];
        boolean ownsCache = c.kvLayer[l] == l;
        double[][] q = new double[n][];
        double[][] k = new double[n][];
        double[][] v = new double[n][];
        double[][] gate = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] h = rmsNorm(x[t], layer.attnNorm());
            q[t] = addBias(layer.wq().times(h), layer.bq());
            if (c.gatedAttention) {
                gate[t] = new double[c.queryDim()];
                q[t] = splitQueryAndGate(q[t], gate[t]);
            }
            if (layer.qNorm() != null) {
                normHeads(q[t], c.heads, headDim, layer.qNorm());
            }
            if (c.ropeLayer[l]) {
                ropes[l].apply(q[t], c.heads, headDim, t);
            }
            if (c.l2NormQk && c.ropeLayer[l]) {
                normHeads(q[t], c.heads, headDim, null);
            }
            if (c.attnTemperature != 0 && (!c.chunked || !c.ropeLayer[l])) {
                scale(q[t], Math.log(Math.floor((t + c.attnTemperatureOffset) / c.attnTemperatureFloor) + 1) * c.attnTemperature + 1);
            }
            if (!ownsCache) {
                continue;
            }
            k[t] = addBias(layer.wk().times(h), layer.bk());
            // Gemma 4 without attn_v: the values are the keys' projection, taken before the keys' norm and RoPE
            v[t] = layer.wv() == null ? k[t].clone() : addBias(layer.wv().times(h), layer.bv());
            if (layer.kNorm() != null) {
                normHeads(k[t], headsKv, headDim, layer.kNorm());
            }
            if (c.valueNorm) {
                normHeads(v[t], headsKv, headDim, null);
            }
            if (c.ropeLayer[l]) {
                ropes[l].apply(k[t], headsKv, headDim, t);
            }
            if (c.l2NormQk && c.ropeLayer[l]) {
                normHeads(k[t], headsKv, headDim, null);
            }
            roundToHalf(k[t]);
            roundToHalf(v[t]);
        }
        if (ownsCache) {
            keys[l] = k;
            values[l] = v;
        } else {
            k = keys[c.kvLayer[l]];
            v = values[c.kvLayer[l]];
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] heads = new double[c.queryDim(l)];
            for (int h = 0; h < c.heads; h++) {
                attendHead(l, h, t, q[t], k, v, heads);
            }
            if (c.gatedAttention) {
                for (int i = 0; i < heads.length; i++) {
                    heads[i] *= sigmoid(gate[t][i]);
                }
            }
            out[t] = addBias(layer.wo().times(heads), layer.bo());
        }
        return out;
    }

    /**
     * Qwen3.5's attn_q rows: per head, the head's query and then its output gate. Returns the queries of all heads
     * and writes the gates, in the same head order, into {@code gate}.
     */
    private double[] splitQueryAndGate(double[] joint, double[] gate) {
        double[] q = new double[c.queryDim()];
        for (int h = 0; h < c.heads; h++) {
            System.arraycopy(joint, 2 * h * c.headDim, q, h * c.headDim, c.headDim);
            System.arraycopy(joint, (2 * h + 1) * c.headDim, gate, h * c.headDim, c.headDim);
        }
        return q;
    }

    /**
     * A Qwen3.5 linear-attention layer over the whole sequence from position 0, as llama.cpp's qwen35 graph and
     * ggml's ssm_conv and gated_delta_net compute it. For each token: the RMS-normed input gives the mixed channels
     * (q, k, v), the gate z, β = σ(W_β·h) and the log-decay g = a·softplus(W_α·h + dt_bias) per value head. Each
     * channel goes through a causal depthwise convolution over itself and its conv_kernel − 1 predecessors (zeros
     * before the first token), then SiLU. q and k are L2-normed per key head, x / max(‖x‖, ε). Value head h, which
     * reads key head h mod (key heads), keeps a state S (key dimension × value dimension), zero at first:
     * S ← e^g·S, then S ← S + k ⊗ β(v − Sᵀk), and its output is Sᵀq / √(key head size). Each head's output is
     * RMS-normed with ssm_norm and multiplied by SiLU(z); ssm_out projects the result.
     */
    private double[][] linearAttention(ReferenceWeights.Layer layer, double[][] x) {
        ReferenceWeights.DeltaNet d = layer.deltaNet();
        int n = x.length;
        int dk = c.deltaKeyDim;
        int dv = c.deltaValueDim;
        int keyHeads = c.deltaKeyHeads;
        int valueHeads = c.deltaValueHeads;
        int keyWidth = keyHeads * dk;
        double[][] mixed = new double[n][];
        double[][] z = new double[n][];
        double[][] beta = new double[n][];
        double[][] logDecay = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] h = rmsNorm(x[t], layer.attnNorm());
            mixed[t] = d.qkv().times(h);
            z[t] = d.gate().times(h);
            beta[t] = d.beta().times(h);
            double[] alpha = d.alpha().times(h);
            logDecay[t] = new double[valueHeads];
            for (int vh = 0; vh < valueHeads; vh++) {
                beta[t][vh] = sigmoid(beta[t][vh]);
                logDecay[t][vh] = d.a()[vh] * softplus(alpha[vh] + d.dtBias()[vh]);
            }
        }
        if (d.conv().columns() != c.convKernel) {
            throw new IllegalArgumentException("a convolution of " + d.conv().columns() + " taps; ssm.conv_kernel says " + c.convKernel);
        }
        double[][] conv = causalConvolution(d.conv(), mixed);
        double[][][] state = new double[valueHeads][dk][dv];
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] ch = conv[t];
            for (int i = 0; i < ch.length; i++) {
                ch[i] = silu(ch[i]);
            }
            double[] q = java.util.Arrays.copyOfRange(ch, 0, keyWidth);
            double[] k = java.util.Arrays.copyOfRange(ch, keyWidth, 2 * keyWidth);
            l2NormHeads(q, keyHeads, dk);
            l2NormHeads(k, keyHeads, dk);
            double[] y = new double[valueHeads * dv];
            for (int vh = 0; vh < valueHeads; vh++) {
                int kh = vh % keyHeads;
                double[] qh = java.util.Arrays.copyOfRange(q, kh * dk, (kh + 1) * dk);
                double[] kv = java.util.Arrays.copyOfRange(k, kh * dk, (kh + 1) * dk);
                double[] vv = java.util.Arrays.copyOfRange(ch, 2 * keyWidth + vh * dv, 2 * keyWidth + (vh + 1) * dv);
                double[] o = deltaStep(state[vh], qh, kv, vv, logDecay[t][vh], beta[t][vh]);
                double[] zh = java.util.Arrays.copyOfRange(z[t], vh * dv, (vh + 1) * dv);
                double[] normed = rmsNorm(o, d.norm());
                for (int j = 0; j < dv; j++) {
                    y[vh * dv + j] = normed[j] * silu(zh[j]);
                }
            }
            out[t] = d.out().times(y);
        }
        return out;
    }

    /**
     * One token of the gated delta rule on state S[key][value], in place: decay, then the delta update that reads
     * the decayed state, then the output read from the updated state. Returns Sᵀq / √(key size).
     */
    private static double[] deltaStep(double[][] s, double[] q, double[] k, double[] v, double logDecay, double beta) {
        int dk = k.length;
        int dv = v.length;
        double decay = Math.exp(logDecay);
        for (int i = 0; i < dk; i++) {
            for (int j = 0; j < dv; j++) {
                s[i][j] *= decay;
            }
        }
        double[] delta = new double[dv];
        for (int j = 0; j < dv; j++) {
            double predicted = 0;
            for (int i = 0; i < dk; i++) {
                predicted += s[i][j] * k[i];
            }
            delta[j] = beta * (v[j] - predicted);
        }
        for (int i = 0; i < dk; i++) {
            for (int j = 0; j < dv; j++) {
                s[i][j] += k[i] * delta[j];
            }
        }
        double[] o = new double[dv];
        for (int j = 0; j < dv; j++) {
            double sum = 0;
            for (int i = 0; i < dk; i++) {
                sum += s[i][j] * q[i];
            }
            o[j] = sum / Math.sqrt(dk);
        }
        return o;
    }

    /**
     * ggml's ssm_conv over the sequence from its start: channel ch of token t is Σ_i w[ch][i]·x[t − (taps−1) + i]
     * over the taps i, the last tap on the token itself, inputs before the first token being 0.
     */
    private static double[][] causalConvolution(ReferenceWeights.Matrix taps, double[][] x) {
        int n = x.length;
        int channels = taps.rows();
        int width = taps.columns();
        double[][] out = new double[n][channels];
        for (int t = 0; t < n; t++) {
            for (int ch = 0; ch < channels; ch++) {
                double sum = 0;
                for (int i = 0; i < width; i++) {
                    int p = t - (width - 1) + i;
                    if (p >= 0) {
                        sum += taps.values()[ch * width + i] * x[p][ch];
                    }
                }
                out[t][ch] = sum;
            }
        }
        return out;
    }

    /** Each head of {@code size} divided by max(its L2 norm, ε), in place (ggml's l2_norm with the RMS ε). */
    private void l2NormHeads(double[] x, int heads, int size) {
        for (int h = 0; h < heads; h++) {
            double sum = 0;
            for (int i = 0; i < size; i++) {
                sum += x[h * size + i] * x[h * size + i];
            }
            double inv = 1 / Math.max(Math.sqrt(sum), c.rmsEps);
            for (int i = 0; i < size; i++) {
                x[h * size + i] *= inv;
            }
        }
    }

    /** Query head h of position t over the visible positions; writes the head's output into {@code out}. */
    private void attendHead(int l, int h, int t, double[] q, double[][] k, double[][] v, double[] out) {
        int headDim = c.layerHeadDim[l];
        int kvHead = h / (c.heads / c.layerHeadsKv[l]);
        int qo = h * headDim;
        int ko = kvHead * headDim;
        double[] scores = new double[t + 1];
        for (int p = 0; p <= t; p++) {
            if (!visible(l, t, p)) {
                scores[p] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double dot = 0;
            for (int i = 0; i < headDim; i++) {
                dot += q[qo + i] * k[p][ko + i];
            }
            scores[p] = softcap(dot * c.queryScale, c.attnSoftcap);
        }
        softmax(scores, sinks(l) == null ? Double.NEGATIVE_INFINITY : sinks(l)[h]);
        for (int p = 0; p <= t; p++) {
            for (int i = 0; i < headDim; i++) {
                out[qo + i] += scores[p] * v[p][ko + i];
            }
        }
    }

    private float[] sinks(int l) {
        return w.layers[l].sinks();
    }

    /** Causal mask, narrowed to the last {@code window} positions on sliding-window layers. */
    private boolean visible(int l, int t, int p) {
        if (c.chunked && c.slidingLayer[l]) {
            return p <= t && p >= t / c.window * c.window;
        }
        return p <= t && (!c.slidingLayer[l] || t - p < c.window);
    }

    private double[][] feedForward(ReferenceWeights.Layer layer, double[][] x) {
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double[] h = rmsNorm(x[t], layer.ffnNorm());
            if (c.expertsBesideDense) {
                out[t] = denseAndExperts(layer, x[t], h);
                continue;
            }
            out[t] = layer.experts() != null ? mixtureOfExperts(layer.experts(), h)
                    : gatedFeedForward(layer.gate(), layer.up(), layer.down(), h);
        }
        return out;
    }

    /**
     * Gemma 4 with experts, for one token with residual {@code r} (after attention) and {@code h} = r normed with
     * ffn_norm: the dense block on h, normed with post_ffw_norm_1, plus the experts, normed with post_ffw_norm_2.
     * The router reads r RMS-normed without a weight, times 1/√n_embd and the router's input scale; a softmax over
     * all experts, the {@code used} most probable, their probabilities divided by their sum. Expert e reads r normed
     * with pre_ffw_norm_2: down_e · (GELU(gate_e · x) ⊙ up_e · x), times its down scale and its weight. (Dividing
     * the weights by their sum scales a token's experts by one factor, which post_ffw_norm_2 takes out again: llama.cpp
     * does it, and no logit shows it.)
     */
    private double[] denseAndExperts(ReferenceWeights.Layer layer, double[] r, double[] h) {
        ReferenceWeights.Gemma4 g = layer.gemma4();
        ReferenceWeights.Experts e = layer.experts();
        double[] dense = rmsNorm(gatedFeedForward(layer.gate(), layer.up(), layer.down(), h), g.densePostNorm());

        double[] routerIn = rmsNorm(r, null);
        for (int i = 0; i < routerIn.length; i++) {
            routerIn[i] *= g.routerScale()[i] / Math.sqrt(c.embedding);
        }
        double[] probs = e.router().times(routerIn);
        softmax(probs, Double.NEGATIVE_INFINITY);
        Integer[] order = new Integer[probs.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
        double total = 0;
        for (int s = 0; s < c.expertsUsed; s++) {
            total += probs[order[s]];
        }
        double[] in = rmsNorm(r, g.expertPreNorm());
        double[] experts = new double[r.length];
        for (int s = 0; s < c.expertsUsed; s++) {
            int ex = order[s];
            double weight = probs[ex] / total * g.downScale()[ex];
            double[] y = gatedFeedForward(e.gate()[ex], e.up()[ex], e.down()[ex], in);
            for (int i = 0; i < y.length; i++) {
                experts[i] += weight * y[i];
            }
        }
        double[] routed = rmsNorm(experts, g.expertPostNorm());
        for (int i = 0; i < dense.length; i++) {
            dense[i] += routed[i];
        }
        return dense;
    }

    /**
     * Gemma 3n's layers over the scaled embeddings {@code x}, returning the merged stream the output norm reads.
     * Stream 0 is the embedding; stream i (1 to 3) is altup_proj_i · x rescaled to x's magnitude (Euclidean norm).
     * Per layer and token:
     * <ol>
     * <li>predict: the modalities m = tanh(router · (router_norm(X_0) / n_embd)) of stream 0, c = predict_coef · m,
     *     and P_j = X_j + Σ_a c[4j + a]·X_a for every stream j;</li>
     * <li>attention on P_0 (attn_norm, per-head q/k norms, values normed without weight, RoPE, unscaled scores),
     *     post-normed and added to P_0; LAuReL on h = attn_norm(P_0): laurel_norm(laurel_r · laurel_l · h) + h;
     *     their sum times 1/√2 is A;</li>
     * <li>the feed-forward block on ffn_norm(A), its gate sparsified in the first {@link ReferenceConfig#sparseLayers}
     *     layers ({@link #gaussianTopK}), post-normed and added to A: the layer's output O;</li>
     * <li>correct: modalities of O, c = correct_coef · m, X_j = P_j + (O − P_0)·(c[j] + 1);</li>
     * <li>the per-layer input: post_norm(proj · (GELU(inp_gate · (X_0 ⊙ correct_scale)) ⊙ this layer's input)) added
     *     to streams 1–3 (not to stream 0).</li>
     * </ol>
     * Last, stream i (1 to 3) through altup_unembd_proj_i, rescaled to stream 0's magnitude; the four averaged.
     */
    private double[][] altUpLayers(double[][] x, double[][][] perLayer, double[][][] keys, double[][][] values) {
        int n = x.length;
        int streams = c.altUpStreams;
        double[][][] s = new double[n][streams][];
        for (int t = 0; t < n; t++) {
            s[t][0] = x[t].clone();
            for (int i = 1; i < streams; i++) {
                s[t][i] = rescaled(w.altUpProjection[i - 1].times(x[t]), magnitude(x[t]));
            }
        }
        for (int l = 0; l < c.layers; l++) {
            ReferenceWeights.Layer layer = w.layers[l];
            ReferenceWeights.Gemma3n g = layer.gemma3n();
            double[][][] predicted = new double[n][streams][];
            double[][] active = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] coef = g.predictCoef().times(modalities(g, s[t][0]));
                for (int j = 0; j < streams; j++) {
                    double[] p = s[t][j].clone();
                    for (int a = 0; a < streams; a++) {
                        for (int i = 0; i < p.length; i++) {
                            p[i] += coef[j * streams + a] * s[t][a][i];
                        }
                    }
                    predicted[t][j] = p;
                }
                active[t] = predicted[t][0];
            }
            double[][] attn = attention(l, layer, active, keys, values);
            for (int t = 0; t < n; t++) {
                double[] h = rmsNorm(active[t], layer.attnNorm());
                double[] laurel = rmsNorm(g.laurelRight().times(g.laurelLeft().times(h)), g.laurelPostNorm());
                double[] attended = rmsNorm(attn[t], layer.postAttnNorm());
                double[] out = new double[h.length];
                for (int i = 0; i < out.length; i++) {
                    out[i] = (attended[i] + active[t][i] + laurel[i] + h[i]) / Math.sqrt(2);
                }
                double[] ffIn = rmsNorm(out, layer.ffnNorm());
                double[] gate = layer.gate().times(ffIn);
                if (l < c.sparseLayers) {
                    gaussianTopK(gate);
                }
                double[] up = layer.up().times(ffIn);
                for (int i = 0; i < gate.length; i++) {
                    gate[i] = gelu(gate[i]) * up[i];
                }
                double[] ffn = rmsNorm(layer.down().times(gate), layer.postFfwNorm());
                for (int i = 0; i < out.length; i++) {
                    out[i] += ffn[i];
                }

                double[] coef = g.correctCoef().times(modalities(g, out));
                for (int j = 0; j < streams; j++) {
                    double[] corrected = new double[out.length];
                    for (int i = 0; i < out.length; i++) {
                        corrected[i] = predicted[t][j][i] + (out[i] - predicted[t][0][i]) * (coef[j] + 1);
                    }
                    s[t][j] = corrected;
                }

                double[] gatedIn = s[t][0].clone();
                for (int i = 0; i < gatedIn.length; i++) {
                    gatedIn[i] *= g.correctScale()[i];
                }
                double[] perLayerGate = g.perLayerGate().times(gatedIn);
                for (int i = 0; i < perLayerGate.length; i++) {
                    perLayerGate[i] = gelu(perLayerGate[i]) * perLayer[t][l][i];
                }
                double[] added = rmsNorm(g.perLayerProjection().times(perLayerGate), g.perLayerPostNorm());
                for (int j = 1; j < streams; j++) {
                    for (int i = 0; i < added.length; i++) {
                        s[t][j][i] += added[i];
                    }
                }
            }
        }
        double[][] merged = new double[n][];
        for (int t = 0; t < n; t++) {
            double target = magnitude(s[t][0]);
            double[] sum = s[t][0].clone();
            for (int i = 1; i < streams; i++) {
                double[] back = rescaled(w.altUpUnembedding[i - 1].times(s[t][i]), target);
                for (int e = 0; e < sum.length; e++) {
                    sum[e] += back[e];
                }
            }
            scale(sum, 1.0 / streams);
            merged[t] = sum;
        }
        return merged;
    }

    /** Gemma 3n's AltUp modalities of one row: tanh(router · (router_norm(x) / n_embd)), one per stream. */
    private double[] modalities(ReferenceWeights.Gemma3n g, double[] x) {
        double[] in = rmsNorm(x, g.routerNorm());
        scale(in, 1.0 / c.embedding);
        double[] m = g.router().times(in);
        for (int i = 0; i < m.length; i++) {
            m[i] = Math.tanh(m[i]);
        }
        return m;
    }

    /**
     * Gemma 3n's activation sparsity on one token's gate, in place: with μ the mean of its values and σ their standard
     * deviation (over n − 1), each value becomes max(0, x − (μ + σ·{@link ReferenceConfig#sparsityStdMultiplier})).
     */
    private void gaussianTopK(double[] x) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double squares = 0;
        for (double v : x) {
            squares += (v - mean) * (v - mean);
        }
        double cutoff = mean + Math.sqrt(squares / (x.length - 1)) * c.sparsityStdMultiplier;
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.max(0, x[i] - cutoff);
        }
    }

    /** √(Σ x²). */
    private static double magnitude(double[] x) {
        double sum = 0;
        for (double v : x) {
            sum += v * v;
        }
        return Math.sqrt(sum);
    }

    /** {@code x} scaled in place to the Euclidean norm {@code target}; returns it. */
    private static double[] rescaled(double[] x, double target) {
        scale(x, target / magnitude(x));
        return x;
    }

    /**
     * Gemma 4's and Gemma 3n's per-layer inputs, [position][layer][slice]: the token's row of per_layer_token_embd cut into one
     * slice per layer, times √(slice width); plus per_layer_model_proj · (the scaled embedding {@code x}) times
     * 1/√n_embd, cut likewise and each slice RMS-normed with per_layer_proj_norm; the sum times 1/√2.
     */
    private double[][][] perLayerInputs(int[] tokens, double[][] x) {
        int width = c.perLayerInput;
        double[][][] out = new double[tokens.length][c.layers][];
        for (int t = 0; t < tokens.length; t++) {
            double[] row = w.perLayerTokenEmbedding.row(tokens[t]);
            double[] projected = w.perLayerModelProjection.times(x[t]);
            for (int l = 0; l < c.layers; l++) {
                double[] slice = java.util.Arrays.copyOfRange(projected, l * width, (l + 1) * width);
                scale(slice, 1 / Math.sqrt(c.embedding));
                double[] normed = rmsNorm(slice, w.perLayerProjectionNorm);
                double[] in = new double[width];
                for (int i = 0; i < width; i++) {
                    in[i] = (row[l * width + i] * Math.sqrt(width) + normed[i]) / Math.sqrt(2);
                }
                out[t][l] = in;
            }
        }
        return out;
    }

    /**
     * The end of a Gemma 4 layer, in place on the residual stream {@code x} after the FFN: with per-layer inputs,
     * x += post_norm(proj · (GELU(inp_gate · x) ⊙ this layer's input)); then the whole stream times the layer's
     * output scalar.
     */
    private void gemma4Block(int l, ReferenceWeights.Gemma4 g, double[][] x, double[][][] perLayer) {
        for (int t = 0; t < x.length; t++) {
            if (perLayer != null) {
                double[] gate = g.perLayerGate().times(x[t]);
                for (int i = 0; i < gate.length; i++) {
                    gate[i] = gelu(gate[i]) * perLayer[t][l][i];
                }
                double[] added = rmsNorm(g.perLayerProjection().times(gate), g.perLayerPostNorm());
                for (int i = 0; i < added.length; i++) {
                    x[t][i] += added[i];
                }
            }
            scale(x[t], g.outputScale());
        }
    }

    /**
     * llama.cpp's build_moe_ffn with softmax gating: the router's softmax over all experts, the {@code used} most
     * probable, their probabilities (divided by their sum for qwen3moe) weighting each chosen expert's SiLU-gated
     * output; plus, for qwen2moe, the shared expert times sigmoid(shared router · h).
     */
    private double[] mixtureOfExperts(ReferenceWeights.Experts e, double[] h) {
        double[] probs = addBias(e.router().times(h), e.routerBias());
        if (c.sigmoidGating) {
            for (int i = 0; i < probs.length; i++) {
                probs[i] = 1 / (1 + Math.exp(-probs[i]));
            }
        } else if (!c.softmaxOverChosen) {
            softmax(probs, Double.NEGATIVE_INFINITY);
        }
        // what chooses: the scores, plus the selection bias where the layer has one (weights stay unbiased)
        double[] choose = e.selectionBias() == null ? probs : addBias(probs.clone(), e.selectionBias());
        Integer[] order = new Integer[probs.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(choose[b], choose[a]));
        if (c.softmaxOverChosen) {
            double[] chosen = new double[c.expertsUsed];
            for (int s = 0; s < chosen.length; s++) {
                chosen[s] = probs[order[s]];
            }
            softmax(chosen, Double.NEGATIVE_INFINITY);
            for (int s = 0; s < chosen.length; s++) {
                probs[order[s]] = chosen[s];
            }
        }
        double total = 0;
        for (int s = 0; s < c.expertsUsed; s++) {
            total += probs[order[s]];
        }
        double[] out = new double[h.length];
        for (int s = 0; s < c.expertsUsed; s++) {
            int ex = order[s];
            double weight = (c.normalizeExpertWeights ? probs[ex] / total : probs[ex]) * c.expertWeightsScale;
            double[] in = h;
            if (c.weightInputs) { // the weight scales the expert's input, and its output counts in full
                in = h.clone();
                scale(in, weight);
                weight = 1;
            }
            double[] y = e.gateBias() == null ? gatedFeedForward(e.gate()[ex], e.up()[ex], e.down()[ex], in)
                    : biasedExpert(e, ex, in);
            for (int i = 0; i < out.length; i++) {
                out[i] += weight * y[i];
            }
        }
        if (e.sharedGate() != null) {
            double logit = 0;
            for (int i = 0; e.sharedRouter() != null && i < h.length; i++) {
                logit += e.sharedRouter()[i] * h[i];
            }
            // behind a sigmoid gate of its own (qwen2moe), or always on (glm4moe)
            double gate = e.sharedRouter() == null ? 1 : 1 / (1 + Math.exp(-logit));
            double[] y = gatedFeedForward(e.sharedGate(), e.sharedUp(), e.sharedDown(), h);
            for (int i = 0; i < out.length; i++) {
                out[i] += gate * y[i];
            }
        }
        return out;
    }

    /** An expert with biases (gpt-oss): down · act(gate · h + bg, up · h + bu) + bd. */
    private double[] biasedExpert(ReferenceWeights.Experts e, int ex, double[] h) {
        double[] g = addBias(e.gate()[ex].times(h), e.gateBias()[ex]);
        double[] u = addBias(e.up()[ex].times(h), e.upBias()[ex]);
        for (int i = 0; i < g.length; i++) {
            g[i] = c.clampedSwiglu ? clampedSwiglu(g[i], u[i]) : silu(g[i]) * u[i];
        }
        return addBias(e.down()[ex].times(g), e.downBias()[ex]);
    }

    /** gpt-oss's SwiGLU: min(g, 7)·σ(1.702·min(g, 7))·(clamp(u, −7, 7) + 1). */
    private static double clampedSwiglu(double g, double u) {
        double x = Math.min(g, 7);
        double y = Math.max(-7, Math.min(u, 7));
        return x / (1 + Math.exp(-1.702 * x)) * (y + 1);
    }

    /** down · (act(gate · h) ⊙ up · h), act GELU for Gemma and SiLU for the others: a dense block or one expert. */
    private double[] gatedFeedForward(ReferenceWeights.Matrix gate, ReferenceWeights.Matrix up,
                                      ReferenceWeights.Matrix down, double[] h) {
        double[] g = gate.times(h);
        double[] u = up.times(h);
        for (int i = 0; i < g.length; i++) {
            g[i] = (c.geluGate ? gelu(g[i]) : silu(g[i])) * u[i];
        }
        return down.times(g);
    }

    /** x / RMS(x), times {@code weight} element by element unless it is null. */
    private double[] rmsNorm(double[] x, float[] weight) {
        double sum = 0;
        for (double v : x) {
            sum += v * v;
        }
        double inv = 1 / Math.sqrt(sum / x.length + c.rmsEps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] * inv * (weight == null ? 1 : weight[i]);
        }
        return y;
    }

    private double[][] rmsNormAll(double[][] x, float[] weight) {
        double[][] y = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            y[t] = rmsNorm(x[t], weight);
        }
        return y;
    }

    /** Per-head RMSNorm (Qwen3, Gemma 3) over heads of {@code size}, in place; without a weight when it is null. */
    private void normHeads(double[] x, int heads, int size, float[] weight) {
        for (int h = 0; h < heads; h++) {
            double[] head = java.util.Arrays.copyOfRange(x, h * size, (h + 1) * size);
            System.arraycopy(rmsNorm(head, weight), 0, x, h * size, size);
        }
    }

    private static double[] addBias(double[] x, float[] bias) {
        if (bias != null) {
            for (int i = 0; i < x.length; i++) {
                x[i] += bias[i];
            }
        }
        return x;
    }

    private static void addResidual(double[][] x, double[][] delta) {
        for (int t = 0; t < x.length; t++) {
            for (int i = 0; i < x[t].length; i++) {
                x[t][i] += delta[t][i];
            }
        }
    }

    /** What an F16 KV cache keeps of a value. */
    private static void roundToHalf(double[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = Float.float16ToFloat(Float.floatToFloat16((float) x[i]));
        }
    }

    /**
     * Softmax in place; a finite {@code sink} is one more logit in the denominator that has no output of its own
     * (gpt-oss's attention sinks).
     */
    private static void softmax(double[] x, double sink) {
        double max = sink;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double sum = sink == Double.NEGATIVE_INFINITY ? 0 : Math.exp(sink - max);
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < x.length; i++) {
            x[i] /= sum;
        }
    }

    /** cap·tanh(x/cap); no change for cap 0. */
    private static double softcap(double x, double cap) {
        return cap == 0 ? x : cap * Math.tanh(x / cap);
    }

    private static double[] softcap(double[] x, double cap) {
        for (int i = 0; i < x.length; i++) {
            x[i] = softcap(x[i], cap);
        }
        return x;
    }

    private static void scale(double[] x, double s) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= s;
        }
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    /** ln(1 + e^x), without overflow for large x. */
    private static double softplus(double x) {
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    private static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /**
     * GELU as ggml's CPU backend computes it: the input rounded to F16, looked up in a table whose entries are the
     * tanh form evaluated in single precision (as ggml_init fills it) and rounded to F16; 0 below -10 and the
     * identity above 10.
     */
    private static double gelu(double x) {
        if (x <= -10) {
            return 0;
        }
        if (x >= 10) {
            return x;
        }
        float h = Float.float16ToFloat(Float.floatToFloat16((float) x));
        float inner = 0.79788456080286535587989211986876f * h * (1.0f + 0.044715f * h * h);
        float y = 0.5f * h * (1.0f + (float) StrictMath.tanh(inner));
        return Float.float16ToFloat(Float.floatToFloat16(y));
    }
}
