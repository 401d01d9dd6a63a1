package dev.vellama.runtime.model;

import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.Architecture;
import dev.vellama.runtime.ActivationHook;
import dev.vellama.runtime.ActivationPoint;

import dev.vellama.quant.Kernels;
import dev.vellama.quant.WeightMatrix;

/**
 * One transformer forward pass over a chunk of tokens, for every supported architecture: embedding, per layer
 * pre-norm attention (GQA, RoPE, optional q/k/v biases, per-head q/k norms, sliding window, soft-capping) and a
 * gated feed-forward (SiLU or GELU) or a mixture of such experts chosen per token, each with a residual connection (and optional post-norms), then the final
 * norm, the output projection and an optional logit soft-cap. {@link Architecture} says which options apply. A chunk of several tokens goes through the
 * batched matrix-matrix kernels; a single token through matrix-vector. All buffers are allocated once, for the
 * largest chunk, except attention's scratch, which doubles as the context grows; so the token loop allocates
 * nothing, but a few times in a long conversation.
 */
public final class ForwardPass implements TransformerPass {
    private final ModelConfig c;
    private final ModelWeights w;
    private final Kernels k;
    private final KvCache cache;   // the single sequence's cache; null for a pass that only runs batches
    private final Segment[] single; // forwardLast/forwardAll's one segment, reused
    private final Architecture arch;
    private final Rope rope;
    private final Rope localRope; // sliding-window layers of Gemma 3 use their own base
    private final boolean neox;
    private final int maxBatch;
    private int rowCapacity; // rows the per-row buffers below hold: grown on demand up to maxBatch (ensureRows)

    // activations, row-major [token][feature]
    private float[] x;       // residual stream
    private float[] xb;      // normed input of a block
    private float[] q;
    private float[] kv;      // new keys
    private float[] vv;      // new values
    private float[] att;     // attention output, all heads
    private float[] out;     // projection output (embedding width)
    private float[] gate;
    private float[] up;
    private float[] fused;   // fused qkv or gate|up projections before they are split
    private final TiledAttention attention;
    private final float[] cos;
    private final float[] sin;
    private final float[] logits;  // one row
    private float[] allLogits = new float[0];
    // forwardBatch's plan while it runs: its segments, and how many leading ones are single rows
    private Segment[] planSegments;
    private int planCount;
    private int planSingles;
    private java.util.function.BooleanSupplier cancelled = () -> false;
    // a session's activation hooks; null when it has none, so a pass without them checks one field per point
    private ActivationHooks hooks;
    private Segment[] hookSegments; // the running chunk's segments, for a hooked row's position
    private int hookCount;
    // what attendTask works on: set before each parallelFor, whose hand-off to the pool publishes them
    private final Kernels.RangeTask attendTask = this::attendParts;
    private int attendLayer;
    private float[] attendSinks;
    private int attendWindow;
    private boolean attendChunked;
    private Segment attendSegment;
    private float[] segmentIn = new float[0];  // planned segments' rows gathered for a projection, and its products
    private float[] segmentOut = new float[0];
    private LoraProducts lora;                  // LoRA adapters' products, null for none
    private final int[] lastRow = new int[1];   // outputLast's row map for the adapters: its one row is row n - 1
    private int[] segmentKind = new int[0];    // each planned segment's Kernels.matmulKind for the matrix at hand
    // mixture of experts: each row's router logits (then probabilities), chosen experts and their weights, [row][expert] and [row][slot]
    private final float[] routerLogits;
    private final int[] chosen;
    private final float[] chosenWeight;
    private int[] group = new int[0];          // the (row, slot) pairs that chose the expert being run
    private float[] expertIn = new float[0];   // those rows of the normed input, gathered
    private float[] expertOut = new float[0];  // their expert outputs; also the shared expert's
    private float[] slotOut = new float[0];    // every row's expert outputs by slot, [row][slot][embedding]
    private float[] selectionScore = new float[0]; // one row's choosing scores where a selection bias applies
    private float[] denseOut = new float[0];       // Gemma 4: the dense block's output beside the experts'
    private float[] onesEmbedding;                 // Gemma 4: the router's weightless norm
    // Llama 4 (but its 128-expert Maverick, as llama.cpp has it) normalises q and k of its rotated layers
    private final boolean l2NormQk;
    private final float[] ones;
    // Qwen3.5: the query projection with each head's output gate, and the gates split out, [token][query width]
    private final float[] queryAndGate;
    private final float[] attnGate;
    // Qwen3.5's linear-attention layers: projections of q|k|v, z, β and α per row, the convolved q|k|v, the heads' outputs
    private final float[] dnMixed;
    private final float[] dnZ;
    private final float[] dnBeta;
    private final float[] dnAlpha;
    private final float[] dnConv;
    private final float[] dnOut;
    // Gemma 4's per-layer inputs of the chunk, [token][layer][slice], and one layer's gated slice, [token][slice]
    private final float[] perLayerIn;
    private final float[] perLayerGate;
    private final float[] perLayerRow; // one token's row of the per-layer embedding
    // Gemma 3n: the streams, the active prediction the layer runs on, and LAuReL's input and output, [row][embedding]
    private final AltUp altUp;
    private final AltUp.Projection projection = this::project;
    private final float[] activeRows;
    private final float[] laurelIn;
    private final float[] laurelOut;
    private final Kernels.RangeTask deltaTask = this::deltaHeads;
    private int deltaLayer;
    private Segment deltaSegment;

    /**
     * One sequence's part of a batch: rows {@code [row, row + n)} of the chunk are its tokens at positions
     * {@code pos .. pos + n - 1}, attending over (and stored into) {@code cache}.
     */
    public record Segment(KvCache cache, int row, int n, int pos) {
        public Segment {
            if (n < 1 || row < 0 || pos < 0) {
                throw new IllegalArgumentException("segment of " + n + " rows from row " + row + " at position " + pos);
            }
            if (pos + n > cache.capacity()) {
                throw new IllegalArgumentException("positions up to " + (pos + n) + " exceed the cache of " + cache.capacity());
            }
            if (n > cache.maxChunk()) {
                throw new IllegalArgumentException("chunk of " + n + " tokens; the cache's sliding-window ring takes "
                        + cache.maxChunk() + " at a time");
            }
            if (!cache.canContinueAt(pos)) {
                throw new IllegalStateException("the cache no longer holds the sliding window before position " + pos
                        + " (it holds positions from " + cache.slidingFrom() + ")");
            }
        }
    }

    public ForwardPass(ModelConfig c, ModelWeights w, Kernels k, KvCache cache, int maxBatch) {
        this(c, w, k, cache, cache.capacity(), maxBatch);
    }

    /**
     * A pass for batches of several sequences, each with a cache of its own passed with every call ({@link
     * #forwardBatch}); {@code positions} is the most any of those caches holds.
     */
    public ForwardPass(ModelConfig c, ModelWeights w, Kernels k, int positions, int maxBatch) {
        this(c, w, k, null, positions, maxBatch);
    }

    private ForwardPass(ModelConfig c, ModelWeights w, Kernels k, KvCache cache, int positions, int maxBatch) {
        this.c = c;
        this.w = w;
        this.k = k;
        this.cache = cache;
        this.single = new Segment[1];
        this.arch = c.architecture();
        this.rope = Rope.of(c, w, positions);
        this.localRope = Rope.local(c, rope);
        this.neox = arch.ropeStyle() == Architecture.RopeStyle.NEOX;
        this.maxBatch = maxBatch;
        int d = c.embeddingLength();
        ensureRows(1);
        attention = new TiledAttention(c, k, maxBatch);
        cos = new float[Math.max(rope.pairs(), localRope.pairs())];
        sin = new float[Math.max(rope.pairs(), localRope.pairs())];
        logits = new float[c.vocabSize()];
        ModelConfig.Experts e = c.experts();
        routerLogits = new float[maxBatch * e.count()];
        chosen = new int[maxBatch * e.used()];
        chosenWeight = new float[maxBatch * e.used()];
        l2NormQk = arch == Architecture.LLAMA4 && e.count() != 128;
        ones = new float[c.maxHeadDim()];
        java.util.Arrays.fill(ones, 1f);
        boolean gated = arch.deltaNet();
        queryAndGate = new float[gated ? maxBatch * 2 * c.queryDim() : 0];
        attnGate = new float[gated ? maxBatch * c.queryDim() : 0];
        ModelConfig.DeltaNet dn = c.deltaNet();
        dnMixed = new float[maxBatch * dn.convChannels()];
        dnConv = new float[maxBatch * dn.convChannels()];
        dnZ = new float[maxBatch * dn.valueDim()];
        dnOut = new float[maxBatch * dn.valueDim()];
        dnBeta = new float[maxBatch * dn.valueHeads()];
        dnAlpha = new float[maxBatch * dn.valueHeads()];
        int perLayer = c.layout().perLayerInput() * c.layerCount();
        perLayerIn = new float[maxBatch * perLayer];
        perLayerGate = new float[maxBatch * c.layout().perLayerInput()];
        perLayerRow = new float[perLayer];
        boolean altup = arch == Architecture.GEMMA3N;
        altUp = altup ? new AltUp(c, k, maxBatch) : null;
        activeRows = new float[altup ? maxBatch * d : 0];
        laurelIn = new float[altup ? maxBatch * d : 0];
        laurelOut = new float[altup ? maxBatch * d : 0];
    }

    /**
     * Asked between layers: when it says true the pass stops with a {@link java.util.concurrent.CancellationException},
     * leaving the positions of the chunk it was running half written (the caller forgets them).
     */
    public void cancelWhen(java.util.function.BooleanSupplier condition) {
        this.cancelled = java.util.Objects.requireNonNull(condition);
    }

    /** Sets the activation hooks the layers run (null or empty for none). */
    @Override
    public void hooks(ActivationHooks hooks) {
        this.hooks = hooks == null || hooks.isEmpty() ? null : hooks;
    }

    @Override
    public String description() {
        return k.description();
    }

    @Override
    public int maxBatch() {
        return maxBatch;
    }

    /**
     * Runs {@code n} tokens at positions {@code pos .. pos+n-1} (their keys and values join the cache) and returns
     * the logits of the last one (a buffer reused by the next call).
     */
    @Override
    public float[] forwardLast(int[] tokens, int from, int n, int pos) {
        embed(tokens, from, n);
        runLayers(x, n, pos, 0, c.layerCount());
        return outputLast(x, n);
    }

    @Override
    public float[] forwardAll(int[] tokens, int from, int n, int pos) {
        embed(tokens, from, n);
        runLayers(x, n, pos, 0, c.layerCount());
        return outputAll(x, n);
    }

    /** Each row's products through matvecMany: bit for bit what one-token steps give (attention already is). */
    @Override
    public float[] forwardRows(int[] tokens, int from, int n, int pos) {
        rowByRow = true;
        try {
            return forwardAll(tokens, from, n, pos);
        } finally {
            rowByRow = false;
        }
    }

    @Override
    public float[] forwardHidden(int[] tokens, int from, int n, int pos) {
        embed(tokens, from, n);
        runLayers(x, n, pos, 0, c.layerCount());
        int d = c.embeddingLength();
        float[] hidden = new float[n * d];
        for (int t = 0; t < n; t++) {
            k.rmsnorm(hidden, t * d, x, t * d, w.outputNorm, d, c.rmsEps());
        }
        return hidden;
    }

    /**
     * Continuous batching: runs the rows of several sequences through the model together, so each weight matrix
     * is read once per call for all of them. {@code tokens[0 .. rows)} are the rows; {@code segments[0 .. count)}
     * say which sequence, cache and positions each run of rows belongs to (they cover the rows in order, each
     * exactly once). Returns the logits of rows {@code logitRows[0 .. logitCount)}, row-major
     * [i][vocab]; a buffer reused by the next call.
     */
    public float[] forwardBatch(int[] tokens, int rows, Segment[] segments, int count, int[] logitRows, int logitCount) {
        embed(tokens, 0, rows);
        runLayers(x, rows, segments, count, 0, c.layerCount());
        return outputRows(x, rows, logitRows, logitCount);
    }

    /**
     * Like {@link #forwardBatch} but every row's hidden state after the final norm, row-major [row][embedding]
     * (several texts' embeddings in one pass, each sequence in its own cache so none sees another).
     */
    public float[] forwardBatchHidden(int[] tokens, int rows, Segment[] segments, int count) {
        embed(tokens, 0, rows);
        runLayers(x, rows, segments, count, 0, c.layerCount());
        int d = c.embeddingLength();
        float[] hidden = new float[rows * d];
        for (int t = 0; t < rows; t++) {
            k.rmsnorm(hidden, t * d, x, t * d, w.outputNorm, d, c.rmsEps());
        }
        return hidden;
    }

    /**
     * Runs layers {@code [fromLayer, toLayer)} over {@code rows} rows of a residual stream in place, the rows
     * belonging to the sequences {@code segments[0 .. count)} say (they cover the rows in order, each exactly once):
     * the batch of {@link #forwardBatch}, or what a partly offloaded batch leaves to the CPU.
     */
    public void runLayers(float[] residual, int rows, Segment[] segments, int count, int fromLayer, int toLayer) {
        int covered = 0;
        int singles = 0;
        for (int i = 0; i < count; i++) {
            if (segments[i].row() != covered) {
                throw new IllegalArgumentException("segment " + i + " starts at row " + segments[i].row() + ", not " + covered);
            }
            if (segments[i].n() == 1 && singles == i) {
                singles++;
            }
            covered += segments[i].n();
        }
        if (covered != rows) {
            throw new IllegalArgumentException("segments cover " + covered + " of " + rows + " rows");
        }
        if (rows > maxBatch) {
            throw new IllegalArgumentException("batch of " + rows + " rows; 1 to " + maxBatch + " allowed");
        }
        ensureRows(rows);
        if (segmentKind.length < count) {
            segmentKind = new int[count];
        }
        planSegments = segments;
        planCount = count;
        planSingles = singles;
        try {
            runSegments(residual, rows, segments, count, fromLayer, toLayer);
        } finally {
            planSegments = null;
        }
    }

    /**
     * Final norm and output projection of rows {@code logitRows[0 .. logitCount)} of a residual stream of
     * {@code rows} rows, [i][vocab], each as its own matvec would give it (as a session's last prompt token or next
     * token gets it); a reused buffer.
     */
    public float[] outputRows(float[] residual, int rows, int[] logitRows, int logitCount) {
        int d = c.embeddingLength();
        ensureRows(logitCount);
        for (int i = 0; i < logitCount; i++) {
            int r = logitRows[i];
            if (r < 0 || r >= rows) {
                throw new IllegalArgumentException("logits of row " + r + " of " + rows);
            }
            k.rmsnorm(xb, i * d, residual, r * d, w.outputNorm, d, c.rmsEps());
        }
        float[] out = logitsBuffer(logitCount);
        k.matvecMany(w.output, xb, logitCount, out);
        if (lora != null) {
            lora.add(w.output, xb, logitCount, out, logitRows);
        }
        softcap(out, logitCount * c.vocabSize(), c.finalSoftcap());
        return out;
    }

    /** Final norm and output projection of the last of {@code n} rows of a residual stream; a reused buffer. */
    public float[] outputLast(float[] residual, int n) {
        int d = c.embeddingLength();
        k.rmsnorm(xb, 0, residual, (n - 1) * d, w.outputNorm, d, c.rmsEps());
        k.matvec(w.output, xb, logits);
        if (lora != null) {
            lora.add(w.output, xb, 1, logits, lastRow(n));
        }
        softcap(logits, c.vocabSize(), c.finalSoftcap());
        return logits;
    }

    /** Final norm and output projection of every row, [n][vocab]; a reused buffer. */
    public float[] outputAll(float[] residual, int n) {
        int d = c.embeddingLength();
        ensureRows(n);
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, residual, t * d, w.outputNorm, d, c.rmsEps());
        }
        float[] out = logitsBuffer(n);
        project(w.output, xb, n, out);
        softcap(out, n * c.vocabSize(), c.finalSoftcap());
        return out;
    }

    /** The buffer for n rows of logits, grown when it is too small. */
    private float[] logitsBuffer(int n) {
        int need = n * c.vocabSize();
        if (allLogits.length < need) {
            allLogits = new float[need];
        }
        return allLogits;
    }

    /**
     * Grows the per-row buffers (residual stream, projections, feed-forward) to hold {@code n} rows: they start at
     * one row and double as longer chunks come, up to the batch size, so a session that decodes and takes short
     * prompts holds kilobytes where a full batch of a 1B model needs about 60 MB.
     */
    private void ensureRows(int n) {
        if (n <= rowCapacity) {
            return;
        }
        int rows = Math.min(maxBatch, Math.max(n, 2 * rowCapacity));
        int d = c.embeddingLength();
        x = new float[rows * d];
        xb = new float[rows * d];
        out = new float[rows * d];
        q = new float[rows * c.queryDim()];
        att = new float[rows * c.queryDim()];
        kv = new float[rows * c.kvDim()];
        vv = new float[rows * c.kvDim()];
        gate = new float[rows * c.maxFeedForward()];
        up = new float[rows * c.maxFeedForward()];
        int fusedWidth = Math.max(arch.fusedQkv() ? c.queryDim() + 2 * c.kvDim() : 0, arch.fusedGateUp() ? 2 * c.maxFeedForward() : 0);
        fused = new float[rows * fusedWidth];
        rowCapacity = rows;
    }

    /** Nothing to free: the buffers are on the Java heap and the kernels belong to the session. */
    @Override
    public void close() {
    }

    /** Looks up the embeddings of n tokens into the residual stream. */
    private void embed(int[] tokens, int from, int n) {
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("chunk of " + n + " tokens; 1 to " + maxBatch + " allowed");
        }
        ensureRows(n);
        int d = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            int id = tokens[from + t];
            if (id < 0 || id >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + c.vocabSize());
            }
            k.dequantizeRow(w.tokenEmbedding, id, x, t * d);
        }
        if (arch.scaleEmbedding()) {
            k.scale(x, 0, n * d, (float) Math.sqrt(d));
        }
        if (w.perLayerEmbedding != null) {
            perLayerInputs(tokens, from, n);
        }
    }

    /**
     * Gemma 4's per-layer inputs of n tokens, as llama.cpp computes them: each layer's slice of the token's
     * per-layer embedding scaled by √slice, plus the scaled embedding's projection (times 1/√embedding) RMS-normed per
     * slice, the sum times 1/√2.
     */
    private void perLayerInputs(int[] tokens, int from, int n) {
        int d = c.embeddingLength();
        int slice = c.layout().perLayerInput();
        int width = slice * c.layerCount();
        project(w.perLayerProjection, x, n, perLayerIn);
        k.scale(perLayerIn, 0, n * width, (float) (1 / Math.sqrt(d)));
        float[] row = perLayerRow;
        for (int t = 0; t < n; t++) {
            for (int l = 0; l < c.layerCount(); l++) {
                int o = t * width + l * slice;
                k.rmsnorm(perLayerIn, o, perLayerIn, o, w.perLayerProjectionNorm, slice, c.rmsEps());
            }
            k.dequantizeRow(w.perLayerEmbedding, tokens[from + t], row, 0);
            k.scale(row, 0, width, (float) Math.sqrt(slice));
            k.add(perLayerIn, t * width, row, 0, width);
        }
        k.scale(perLayerIn, 0, n * width, (float) (1 / Math.sqrt(2)));
    }

    /**
     * A Gemma 4 layer's end: its per-layer input (the output gated through GELU by its slice, projected back, normed
     * and added) and its output scalar.
     */
    private void layerOutput(int l, ModelWeights.Layer L, float[] x, int n) {
        ModelWeights.PerLayerInputWeights in = L.perLayerInput();
        int d = c.embeddingLength();
        if (in != null) {
            int slice = c.layout().perLayerInput();
            int width = slice * c.layerCount();
            project(in.gate(), x, n, perLayerGate);
            k.gelu(perLayerGate, 0, n * slice);
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < slice; i++) {
                    perLayerGate[t * slice + i] *= perLayerIn[t * width + l * slice + i];
                }
            }
            project(in.projection(), perLayerGate, n, out);
            addResidual(x, in.postNorm(), n);
        }
        if (L.outputScale() != 1f) {
            k.scale(x, 0, n * d, L.outputScale());
        }
    }

    /**
     * Runs layers {@code [fromLayer, toLayer)} over the residual stream {@code residual} (n rows of the embedding
     * width, positions pos..pos+n-1) in place. The whole model runs them all; a partly offloaded model runs the
     * layers left on the CPU here, with a cache that holds just those.
     */
    public void runLayers(float[] residual, int n, int pos, int fromLayer, int toLayer) {
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("chunk of " + n + " tokens; 1 to " + maxBatch + " allowed");
        }
        ensureRows(n);
        if (cache == null) {
            throw new IllegalStateException("this pass runs batches of sequences with caches of their own");
        }
        single[0] = new Segment(cache, 0, n, pos);
        runSegments(residual, n, single, 1, fromLayer, toLayer);
    }

    private void runSegments(float[] residual, int rows, Segment[] segments, int count, int fromLayer, int toLayer) {
        if (rows < 1 || rows > maxBatch) {
            throw new IllegalArgumentException("chunk of " + rows + " tokens; 1 to " + maxBatch + " allowed");
        }
        hookSegments = segments;
        hookCount = count;
        if (altUp != null && fromLayer == 0) {
            altUp.expand(residual, rows, w.altupProjection, projection);
        }
        for (int l = fromLayer; l < toLayer; l++) {
            if (cancelled.getAsBoolean()) {
                throw new java.util.concurrent.CancellationException("the forward pass was cancelled at layer " + l);
            }
            if (altUp != null) {
                altUpLayer(l, w.layers[l], residual, rows, segments, count); // attention and feed-forward inside
            } else {
                if (w.layers[l].deltaNet() != null) {
                    linearAttention(l, w.layers[l], residual, rows, segments, count);
                } else {
                    attention(l, w.layers[l], residual, rows, segments, count);
                }
                feedForward(l, w.layers[l], c.feedForwardLength()[l], residual, rows);
            }
            if (arch == Architecture.GEMMA4) {
                layerOutput(l, w.layers[l], residual, rows);
            }
            if (hooks != null) {
                hook(ActivationPoint.RESIDUAL, l, residual, rows, c.embeddingLength());
            }
        }
        if (altUp != null && toLayer == c.layerCount()) {
            altUp.merge(residual, rows, w.altupUnembedding, projection);
        }
    }

    /**
     * A Gemma 3n layer over n rows whose stream 0 is {@code x}: every stream predicted; the active prediction through
     * attention with LAuReL beside it (their sum times 1/√2) and the feed-forward block; every stream corrected by the
     * result; then the per-layer input, gated by the corrected stream 0, added to the other streams.
     */
    private void altUpLayer(int l, ModelWeights.Layer L, float[] x, int n, Segment[] segments, int count) {
        ModelWeights.AltUpWeights W = L.altUp();
        int d = c.embeddingLength();
        altUp.predict(W, x, n, projection);
        System.arraycopy(altUp.active(), 0, activeRows, 0, n * d);
        for (int t = 0; t < n; t++) {
            k.rmsnorm(laurelIn, t * d, activeRows, t * d, L.attnNorm(), d, c.rmsEps());
        }
        altUp.laurel(W, laurelIn, n, laurelOut, projection);
        attention(l, L, activeRows, n, segments, count);
        k.add(activeRows, 0, laurelOut, 0, n * d);
        k.scale(activeRows, 0, n * d, (float) (1 / Math.sqrt(2)));
        feedForward(l, L, c.feedForwardLength()[l], activeRows, n);
        altUp.correct(W, x, activeRows, n, projection);
        int slice = c.layout().perLayerInput();
        int width = slice * c.layerCount();
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < d; i++) {
                laurelIn[t * d + i] = x[t * d + i] * W.correctScale()[i];
            }
        }
        ModelWeights.PerLayerInputWeights in = L.perLayerInput();
        project(in.gate(), laurelIn, n, perLayerGate);
        k.gelu(perLayerGate, 0, n * slice);
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < slice; i++) {
                perLayerGate[t * slice + i] *= perLayerIn[t * width + l * slice + i];
            }
        }
        project(in.projection(), perLayerGate, n, out);
        for (int t = 0; t < n; t++) {
            k.rmsnorm(out, t * d, out, t * d, in.postNorm(), d, c.rmsEps());
        }
        altUp.addToOthers(out, n);
    }

    /**
     * Gemma 3n's activation sparsity on n rows of a gate of width ff: each row keeps only what exceeds its mean by
     * 1.645 standard deviations (the 95th percentile of a normal fit), less that cutoff, as llama.cpp computes it.
     */
    private static void gaussianTopK(float[] gate, int n, int ff) {
        for (int t = 0; t < n; t++) {
            int o = t * ff;
            double sum = 0;
            for (int i = o; i < o + ff; i++) {
                sum += gate[i];
            }
            float mean = (float) sum / ff;
            double squares = 0;
            for (int i = o; i < o + ff; i++) {
                float dev = gate[i] - mean;
                float sq = dev * dev;
                squares += sq;
            }
            float std = (float) Math.sqrt((float) squares * (1f / (ff - 1)));
            float cutoff = mean + std * 1.6448533535003662f;
            for (int i = o; i < o + ff; i++) {
                gate[i] = Math.max(0f, gate[i] - cutoff);
            }
        }
    }

    /** Runs the hooks at {@code point} of {@code layer} on each of {@code rows} rows of {@code width} in {@code v}. */
    private void hook(ActivationPoint point, int layer, float[] v, int rows, int width) {
        for (ActivationHook h : hooks.at(point, layer)) {
            for (int si = 0; si < hookCount; si++) {
                Segment seg = hookSegments[si];
                for (int t = seg.row(); t < seg.row() + seg.n(); t++) {
                    h.onActivation(layer, point, seg.pos() + t - seg.row(), v, t * width, width);
                }
            }
        }
    }

    private void attention(int l, ModelWeights.Layer L, float[] x, int n, Segment[] segments, int count) {
        int d = c.embeddingLength();
        int qd = c.queryDim(l);
        int kvd = c.kvDim(l);
        int hd = c.headDim(l);
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, L.attnNorm(), d, c.rmsEps());
        }
        if (hooks != null) {
            hook(ActivationPoint.ATTN_NORM, l, xb, n, d);
        }
        if (L.wqkv() != null) {
            int width = qd + 2 * kvd;
            project(L.wqkv(), xb, n, fused);
            for (int t = 0; t < n; t++) {
                System.arraycopy(fused, t * width, q, t * qd, qd);
                System.arraycopy(fused, t * width + qd, kv, t * kvd, kvd);
                System.arraycopy(fused, t * width + qd + kvd, vv, t * kvd, kvd);
            }
        } else if (arch.deltaNet()) {
            // each head's query is followed by its output gate in the projection
            project(L.wq(), xb, n, queryAndGate);
            for (int t = 0; t < n; t++) {
                for (int h = 0; h < c.headCount(); h++) {
                    System.arraycopy(queryAndGate, (t * c.headCount() + h) * 2 * hd, q, t * qd + h * hd, hd);
                    System.arraycopy(queryAndGate, (t * c.headCount() + h) * 2 * hd + hd, attnGate, t * qd + h * hd, hd);
                }
            }
            project(L.wk(), xb, n, kv);
            project(L.wv(), xb, n, vv);
        } else {
            project(L.wq(), xb, n, q);
            if (L.wk() != null) { // none where the layer reads an earlier layer's cache (Gemma 4)
                project(L.wk(), xb, n, kv);
                // Gemma 4 layers without attn_v take the keys' projection as their values
                project(L.wv() != null ? L.wv() : L.wk(), xb, n, vv);
            }
        }
        boolean sliding = c.slidingLayer(l);
        Rope layerRope = sliding ? localRope : rope;
        for (int si = 0; si < count; si++) {
            Segment seg = segments[si];
            for (int t = seg.row(); t < seg.row() + seg.n(); t++) {
                prepareKeys(l, L, layerRope, t, seg.pos() + t - seg.row(), seg.cache());
            }
        }
        // causal attention of every token over its sequence's cache, query heads split across threads
        attendLayer = c.kvLayer(l);
        attendSinks = L.sinks();
        attendWindow = sliding ? c.slidingWindow() : Integer.MAX_VALUE;
        attendChunked = sliding && arch.chunkedAttention();
        for (int si = 0; si < count; si++) {
            attendSegment = segments[si];
            k.parallelFor(k.threads(), attendTask);
        }
        if (arch.deltaNet()) {
            for (int i = 0; i < n * qd; i++) {
                att[i] *= sigmoid(attnGate[i]);
            }
        }
        project(L.wo(), att, n, out);
        if (L.bo() != null) {
            for (int t = 0; t < n; t++) {
                k.add(out, t * d, L.bo(), 0, d);
            }
        }
        if (hooks != null) {
            hook(ActivationPoint.ATTN_OUT, l, out, n, d);
        }
        addResidual(x, L.postAttnNorm(), n);
    }

    /**
     * A linear-attention layer (Qwen3.5's gated delta net) over n rows: the normed rows projected to q|k|v, the
     * output gate z, β and α; per sequence, token by token, q|k|v through the causal convolution (its state carried
     * in the sequence's {@link RecurrentState}) and SiLU, q and k L2-normalised per head, the decay
     * g = a·softplus(α + dt_bias); then each value head's state takes the tokens in order (heads split across threads);
     * each head's output RMS-normed and gated by SiLU(z), projected back to the embedding and added to the residual.
     */
    private void linearAttention(int l, ModelWeights.Layer L, float[] x, int n, Segment[] segments, int count) {
        ModelConfig.DeltaNet dn = c.deltaNet();
        ModelWeights.DeltaNetWeights W = L.deltaNet();
        int d = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, L.attnNorm(), d, c.rmsEps());
        }
        if (hooks != null) {
            hook(ActivationPoint.ATTN_NORM, l, xb, n, d);
        }
        project(W.qkv(), xb, n, dnMixed);
        project(W.gate(), xb, n, dnZ);
        project(W.beta(), xb, n, dnBeta);
        project(W.alpha(), xb, n, dnAlpha);
        int heads = dn.valueHeads();
        for (int i = 0; i < n * heads; i++) {
            int h = i % heads;
            dnBeta[i] = sigmoid(dnBeta[i]);
            float a = dnAlpha[i] + W.dtBias()[h];
            float softplus = a > 20f ? a : (float) Math.log(1f + (float) Math.exp(a));
            dnAlpha[i] = (float) Math.exp(softplus * W.a()[h]); // the decay e^g
        }
        for (int si = 0; si < count; si++) {
            Segment seg = segments[si];
            RecurrentState state = seg.cache().recurrent();
            state.startAt(l, seg.pos());
            convolve(dn, W.conv(), state.conv(l), seg.row(), seg.n());
            deltaLayer = l;
            deltaSegment = seg;
            k.parallelFor(heads, deltaTask);
            state.advanceTo(l, seg.pos() + seg.n());
        }
        int hd = dn.headDim();
        int vd = dn.valueDim();
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                int o = t * vd + h * hd;
                k.rmsnorm(dnOut, o, dnOut, o, W.norm(), hd, c.rmsEps());
                for (int i = 0; i < hd; i++) {
                    float z = dnZ[o + i];
                    dnOut[o + i] *= z * sigmoid(z);
                }
            }
        }
        project(W.out(), dnOut, n, out);
        if (hooks != null) {
            hook(ActivationPoint.ATTN_OUT, l, out, n, d);
        }
        addResidual(x, null, n);
    }

    /**
     * Rows {@code [row, row + n)} of q|k|v through the causal depthwise convolution, whose window starts with the
     * {@code convKernel − 1} inputs in {@code convState} (then holding the last ones), the taps summed in order as
     * ggml's ssm_conv does; SiLU; then q and k L2-normalised per key head, into {@code dnConv}.
     */
    private void convolve(ModelConfig.DeltaNet dn, float[] weight, float[] convState, int row, int n) {
        int channels = dn.convChannels();
        int taps = dn.convKernel();
        int hd = dn.headDim();
        for (int t = row; t < row + n; t++) {
            int in = t * channels;
            for (int ch = 0; ch < channels; ch++) {
                int wo = ch * taps;
                float sum = 0f;
                for (int i = 0; i < taps - 1; i++) {
                    sum += convState[i * channels + ch] * weight[wo + i];
                }
                sum += dnMixed[in + ch] * weight[wo + taps - 1];
                dnConv[in + ch] = sum * sigmoid(sum);
            }
            if (taps > 1) {
                System.arraycopy(convState, channels, convState, 0, (taps - 2) * channels);
                System.arraycopy(dnMixed, in, convState, (taps - 2) * channels, channels);
            }
            for (int h = 0; h < 2 * dn.keyHeads(); h++) { // the q heads, then the k heads
                l2Normalize(dnConv, in + h * hd, hd, c.rmsEps());
            }
        }
    }

    /** ggml's l2_norm: x / max(‖x‖, eps), the squares summed in double. */
    private static void l2Normalize(float[] x, int off, int n, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) x[off + i] * x[off + i];
        }
        float scale = 1f / Math.max((float) Math.sqrt(sum), eps);
        for (int i = 0; i < n; i++) {
            x[off + i] *= scale;
        }
    }

    /** Value heads {@code [h0, h1)} of the layer and segment the fields name take the segment's tokens in order. */
    private void deltaHeads(int h0, int h1) {
        ModelConfig.DeltaNet dn = c.deltaNet();
        Segment seg = deltaSegment;
        float[] states = seg.cache().recurrent().delta(deltaLayer);
        int hd = dn.headDim();
        int channels = dn.convChannels();
        int heads = dn.valueHeads();
        float scale = (float) (1 / Math.sqrt(hd));
        for (int h = h0; h < h1; h++) {
            int kh = h % dn.keyHeads(); // the tiled order: value head h reads key head h mod keyHeads
            for (int t = seg.row(); t < seg.row() + seg.n(); t++) {
                int in = t * channels;
                k.deltaRule(states, h * hd * hd, hd, dnAlpha[t * heads + h], dnBeta[t * heads + h],
                        dnConv, in + dn.keyDim() + kh * hd, dnConv, in + 2 * dn.keyDim() + h * hd,
                        dnConv, in + kh * hd, scale, dnOut, t * dn.valueDim() + h * hd);
            }
        }
    }

    private static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }

    @Override
    public KvCache hostCache() {
        return cache;
    }

    @Override
    public boolean canContinueAt(int pos) {
        return cache == null || cache.canContinueAt(pos);
    }

    @Override
    public int maxDiscard(int keep, int length) {
        return cache == null ? length - keep : cache.maxDiscard(keep, length);
    }

    @Override
    public boolean shiftCache(int keep, int discard, int length) {
        if (cache == null) {
            throw new IllegalStateException("this pass runs batches of sequences with caches of their own");
        }
        shiftCache(cache, keep, discard, length);
        return true;
    }

    /** A context shift of {@code cache} (one of this model's): the keys of each layer turned by its own RoPE. */
    public void shiftCache(KvCache cache, int keep, int discard, int length) {
        float[][] turn = new float[4][Math.max(rope.pairs(), localRope.pairs())];
        rope.rotation(-discard, turn[0], turn[1]);
        localRope.rotation(-discard, turn[2], turn[3]);
        cache.shift(keep, discard, length, (layer, row) -> {
            if (!arch.ropeLayer(layer)) {
                return; // a NoPE layer's keys carry no position to turn
            }
            boolean sliding = c.slidingLayer(layer);
            k.rope(row, 0, c.headCountKv(layer), c.headDim(layer), c.ropeDims(layer), turn[sliding ? 2 : 0],
                    turn[sliding ? 3 : 1], neox);
        });
    }

    /** Row t's biases, q/k norms and RoPE at position {@code pos}; its key and value join {@code cache}. */
    private void prepareKeys(int l, ModelWeights.Layer L, Rope layerRope, int t, int pos, KvCache cache) {
        int qd = c.queryDim(l);
        int kvd = c.kvDim(l);
        int hd = c.headDim(l);
        int kvHeads = c.headCountKv(l);
        int ropeDims = c.ropeDims(l);
        boolean ownKeys = L.wk() != null || L.wqkv() != null; // a Gemma 4 layer reading an earlier layer's cache has none
        if (L.bq() != null) {
            k.add(q, t * qd, L.bq(), 0, qd);
            k.add(kv, t * kvd, L.bk(), 0, kvd);
            k.add(vv, t * kvd, L.bv(), 0, kvd);
        }
        if (L.qNorm() != null) {
            for (int h = 0; h < c.headCount(); h++) {
                k.rmsnorm(q, t * qd + h * hd, q, t * qd + h * hd, L.qNorm(), hd, c.rmsEps());
            }
            for (int h = 0; ownKeys && h < kvHeads; h++) {
                k.rmsnorm(kv, t * kvd + h * hd, kv, t * kvd + h * hd, L.kNorm(), hd, c.rmsEps());
            }
        }
        if (arch == Architecture.GEMMA4 || arch == Architecture.GEMMA3N) {
            // Gemma 3n and 4 RMS-normalise each value head, without a weight
            for (int h = 0; ownKeys && h < kvHeads; h++) {
                k.rmsnorm(vv, t * kvd + h * hd, vv, t * kvd + h * hd, ones, hd, c.rmsEps());
            }
        }
        if (arch.ropeLayer(l)) {
            layerRope.angles(pos, cos, sin);
            k.rope(q, t * qd, c.headCount(), hd, ropeDims, cos, sin, neox);
            if (ownKeys) {
                k.rope(kv, t * kvd, kvHeads, hd, ropeDims, cos, sin, neox);
            }
        }
        if (l2NormQk && arch.ropeLayer(l)) {
            // Llama 4's rotated layers: q and k RMS-normed per head, without a weight
            for (int h = 0; h < c.headCount(); h++) {
                k.rmsnorm(q, t * qd + h * hd, q, t * qd + h * hd, ones, hd, c.rmsEps());
            }
            for (int h = 0; h < kvHeads; h++) {
                k.rmsnorm(kv, t * kvd + h * hd, kv, t * kvd + h * hd, ones, hd, c.rmsEps());
            }
        }
        // the attention temperature: on every layer of Mistral 3, on Llama 4's layers without RoPE
        if (c.temperature().present() && (!arch.chunkedAttention() || !arch.ropeLayer(l))) {
            k.scale(q, t * qd, qd, c.temperature().at(pos));
        }
        if (ownKeys) {
            cache.store(l, pos, kv, t * kvd, vv, t * kvd);
        }
    }

    /** The attention job of the layer and segment the fields name, as the worker pool runs it: no lambda per call. */
    private void attendParts(int p0, int p1) {
        Segment seg = attendSegment;
        for (int part = p0; part < p1; part++) {
            attention.attend(attendLayer, part, k.threads(), seg.cache(), q, att, seg.row(), seg.n(), seg.pos(), attendWindow,
                    attendChunked, attendSinks);
        }
    }

    /** x += out, with out first normalized where the architecture has post-norms. */
    private void addResidual(float[] x, float[] postNorm, int n) {
        int d = c.embeddingLength();
        if (postNorm != null) {
            for (int t = 0; t < n; t++) {
                k.rmsnorm(out, t * d, out, t * d, postNorm, d, c.rmsEps());
            }
        }
        k.add(x, 0, out, 0, n * d);
    }

    private static void softcap(float[] v, int n, float cap) {
        if (cap > 0) {
            for (int i = 0; i < n; i++) {
                v[i] = cap * (float) Math.tanh(v[i] / cap);
            }
        }
    }

    private void feedForward(int l, ModelWeights.Layer L, int ff, float[] x, int n) {
        int d = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, L.ffnNorm(), d, c.rmsEps());
        }
        if (hooks != null) {
            hook(ActivationPoint.FFN_NORM, l, xb, n, d);
        }
        if (L.experts() != null && L.experts().gemma4() != null) {
            gemma4MixtureOfExperts(l, L, ff, x, n);
        } else if (L.experts() != null) {
            mixtureOfExperts(L.experts(), n);
        } else {
            gatedFeedForward(l, L.gate(), L.up(), L.down(), ff, n, out);
        }
        if (hooks != null) {
            hook(ActivationPoint.FFN_OUT, l, out, n, d);
        }
        addResidual(x, L.postFfnNorm(), n);
    }

    /**
     * down · (act(gate · xb) ⊙ up · xb) for n rows into {@code dst}, act the architecture's SiLU or GELU: the dense
     * feed-forward block of layer {@code l}, and a mixture's shared expert ({@code l} −1, which runs no hooks). A
     * null {@code gateM} means {@code upM} holds gate|up fused.
     */
    private void gatedFeedForward(int l, WeightMatrix gateM, WeightMatrix upM, WeightMatrix downM, int ff, int n, float[] dst) {
        if (gateM == null) {
            // fused gate|up: the first ff outputs of each token are the gate, the next ff the up projection
            project(upM, xb, n, fused);
            for (int t = 0; t < n; t++) {
                System.arraycopy(fused, t * 2 * ff, gate, t * ff, ff);
                System.arraycopy(fused, t * 2 * ff + ff, up, t * ff, ff);
            }
        } else {
            project(gateM, xb, n, gate);
            project(upM, xb, n, up);
        }
        if (arch == Architecture.GEMMA3N && l >= 0 && l < 10) {
            gaussianTopK(gate, n, ff); // llama.cpp's gemma3n: its first ten layers
        }
        if (arch.geluFeedForward()) {
            k.gelu(gate, 0, n * ff);
            for (int i = 0; i < n * ff; i++) {
                gate[i] *= up[i];
            }
        } else {
            k.swiglu(gate, up, n * ff);
        }
        if (hooks != null && l >= 0) {
            hook(ActivationPoint.FFN_ACT, l, gate, n, ff);
        }
        project(downM, gate, n, dst);
    }

    /**
     * The feed-forward block of a mixture-of-experts layer over the n normed rows in {@code xb}, into {@code out}:
     * each row's router picks its experts (softmax, top-k, weights renormalised where the family does), each expert
     * runs once over all the rows that chose it, and each row sums its experts' weighted outputs in the order it
     * ranked them, as llama.cpp does; then the shared expert, gated per row by a sigmoid, is added.
     */
    private void mixtureOfExperts(ModelWeights.ExpertWeights E, int n) {
        ModelConfig.Experts cfg = c.experts();
        int d = c.embeddingLength();
        int used = cfg.used();
        project(E.router(), xb, n, routerLogits);
        for (int t = 0; t < n; t++) {
            route(t, E.routerBias(), E.selectionBias());
        }
        if (slotOut.length < n * used * d) {
            slotOut = new float[n * used * d];
        }
        runExperts(E, n);
        if (cfg.weightInputs()) {
            java.util.Arrays.fill(chosenWeight, 0, n * used, 1f); // applied to the inputs already
        }
        sumExperts(n);
        if (E.sharedGate() != null) {
            float[] shared = expertBuffer(n * d);
            gatedFeedForward(-1, E.sharedGate(), E.sharedUp(), E.sharedDown(), cfg.sharedFeedForward(), n, shared);
            float[] g = E.sharedRouter();
            if (g == null) { // always on (GLM)
                k.add(out, 0, shared, 0, n * d);
                return;
            }
            for (int t = 0; t < n; t++) {
                float logit = 0;
                for (int i = 0; i < d; i++) {
                    logit += g[i] * xb[t * d + i];
                }
                float gateValue = (float) (1 / (1 + Math.exp(-logit)));
                for (int i = 0; i < d; i++) {
                    out[t * d + i] += shared[t * d + i] * gateValue;
                }
            }
        }
    }

    /**
     * A Gemma 4 mixture-of-experts layer over n rows, {@code xb} holding the rows normed for the dense block: the dense
     * block (normed after), and beside it the experts, routed on the residual normed without a weight and scaled, run
     * on the residual normed their own way, each scaled by its down scale, their weighted sum normed; the two added
     * into {@code out}, as llama.cpp's gemma4 computes them.
     */
    private void gemma4MixtureOfExperts(int l, ModelWeights.Layer L, int ff, float[] x, int n) {
        ModelWeights.ExpertWeights E = L.experts();
        ModelWeights.Gemma4Experts g = E.gemma4();
        int d = c.embeddingLength();
        gatedFeedForward(l, L.gate(), L.up(), L.down(), ff, n, out);
        if (denseOut.length < n * d) {
            denseOut = new float[n * d];
        }
        for (int t = 0; t < n; t++) {
            k.rmsnorm(denseOut, t * d, out, t * d, g.denseOutNorm(), d, c.rmsEps());
        }
        if (onesEmbedding == null) {
            onesEmbedding = new float[d];
            java.util.Arrays.fill(onesEmbedding, 1f);
        }
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, onesEmbedding, d, c.rmsEps());
        }
        k.scale(xb, 0, n * d, (float) (1 / Math.sqrt(d)));
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < d; i++) {
                xb[t * d + i] *= g.routerScale()[i];
            }
        }
        project(E.router(), xb, n, routerLogits);
        for (int t = 0; t < n; t++) {
            route(t, null, null);
        }
        for (int t = 0; t < n; t++) {
            k.rmsnorm(xb, t * d, x, t * d, g.expertNorm(), d, c.rmsEps());
        }
        int used = c.experts().used();
        if (slotOut.length < n * used * d) {
            slotOut = new float[n * used * d];
        }
        runExperts(E, n);
        sumExperts(n);
        for (int t = 0; t < n; t++) {
            k.rmsnorm(out, t * d, out, t * d, g.expertOutNorm(), d, c.rmsEps());
        }
        k.add(out, 0, denseOut, 0, n * d);
    }

    /** Each of n rows' chosen experts' outputs in {@code slotOut}, weighted and summed in the order ranked, into {@code out}. */
    private void sumExperts(int n) {
        int d = c.embeddingLength();
        int used = c.experts().used();
        for (int t = 0; t < n; t++) {
            int o = t * d;
            int s0 = t * used;
            float w0 = chosenWeight[s0];
            for (int i = 0; i < d; i++) {
                out[o + i] = w0 * slotOut[s0 * d + i];
            }
            for (int s = 1; s < used; s++) {
                float ws = chosenWeight[s0 + s];
                int so = (s0 + s) * d;
                for (int i = 0; i < d; i++) {
                    out[o + i] += ws * slotOut[so + i];
                }
            }
        }
    }

    /**
     * Row t's experts: the softmax of its router logits (in place, the kernels' softmax, whose exp is ggml's), the
     * {@code used} most probable experts (the lower index first on a tie), and their weights. gpt-oss adds the
     * router's bias first and takes the {@code used} largest logits, then the softmax of just those.
     */
    private void route(int t, float[] routerBias, float[] selectionBias) {
        ModelConfig.Experts cfg = c.experts();
        int count = cfg.count();
        int used = cfg.used();
        int lo = t * count;
        if (routerBias != null) {
            k.add(routerLogits, lo, routerBias, 0, count);
        }
        switch (cfg.gating()) {
            case SOFTMAX -> k.softmax(routerLogits, lo, count);
            case SIGMOID -> {
                for (int e = lo; e < lo + count; e++) {
                    routerLogits[e] = 1f / (1f + (float) Math.exp(-routerLogits[e]));
                }
            }
            default -> { } // the softmax comes after the choice
        }
        // the scores that choose: the weights themselves, or with the selection bias added
        float[] score = routerLogits;
        if (selectionBias != null) {
            if (selectionScore.length < count) {
                selectionScore = new float[count];
            }
            for (int e = 0; e < count; e++) {
                selectionScore[e] = routerLogits[lo + e] + selectionBias[e];
            }
            score = selectionScore;
        }
        int base = score == routerLogits ? lo : 0;
        double chosenSum = 0;
        for (int s = 0; s < used; s++) {
            int best = -1;
            for (int e = base; e < base + count; e++) {
                if (score[e] != Float.NEGATIVE_INFINITY && (best < 0 || score[e] > score[best])) {
                    best = e;
                }
            }
            float weight = routerLogits[lo + best - base];
            chosen[t * used + s] = best - base;
            chosenWeight[t * used + s] = weight;
            chosenSum += weight;
            score[best] = Float.NEGATIVE_INFINITY; // taken
        }
        if (cfg.gating() == ModelConfig.Gating.SOFTMAX_OVER_CHOSEN) {
            k.softmax(chosenWeight, t * used, used);
        }
        if (cfg.normalize()) {
            // ggml clamps the sum to the smallest normal F16 before dividing
            float total = Math.max((float) chosenSum, 6.103515625e-5f);
            for (int s = 0; s < used; s++) {
                chosenWeight[t * used + s] /= total;
            }
        }
        if (cfg.scale() != 1f) {
            for (int s = 0; s < used; s++) {
                chosenWeight[t * used + s] *= cfg.scale();
            }
        }
    }

    /**
     * Runs every expert chosen by the n rows once over all the rows that chose it, and leaves each (row, slot)'s
     * output in {@code slotOut}. Experts multiply through matvec and matvecMany only, never the tiled matmul:
     * matvecMany gives each row bit for bit what its own matvec gives, so a row's result depends neither on which
     * other rows chose the same expert nor on whether they came from its own prompt chunk or from other sequences
     * in a batch (and prompt and decode use the same arithmetic, as llama.cpp's mul_mat_id does).
     */
    private void runExperts(ModelWeights.ExpertWeights E, int rows) {
        ModelConfig.Experts cfg = c.experts();
        int d = c.embeddingLength();
        int ff = cfg.feedForward();
        int used = cfg.used();
        if (group.length < rows * used) {
            group = new int[rows * used];
        }
        if (expertIn.length < rows * d) {
            expertIn = new float[rows * d];
        }
        float[] result = expertBuffer(rows * d);
        for (int e = 0; e < cfg.count(); e++) {
            int m = 0;
            for (int slot = 0; slot < rows * used; slot++) {
                if (chosen[slot] == e) {
                    group[m++] = slot;
                }
            }
            if (m == 0) {
                continue;
            }
            for (int i = 0; i < m; i++) {
                System.arraycopy(xb, group[i] / used * d, expertIn, i * d, d);
                if (cfg.weightInputs()) {
                    k.scale(expertIn, i * d, d, chosenWeight[group[i]]); // Llama 4 weighs the input, not the output
                }
            }
            multiply(E.gate()[e], expertIn, m, gate);
            multiply(E.up()[e], expertIn, m, up);
            addRows(gate, E.gateBias(), e * ff, ff, m);
            addRows(up, E.upBias(), e * ff, ff, m);
            if (arch.clampedSwiglu()) {
                clampedSwiglu(gate, up, m * ff);
            } else if (arch.geluFeedForward()) {
                k.gelu(gate, 0, m * ff);
                for (int i = 0; i < m * ff; i++) {
                    gate[i] *= up[i];
                }
            } else {
                k.swiglu(gate, up, m * ff);
            }
            multiply(E.down()[e], gate, m, result);
            addRows(result, E.downBias(), e * d, d, m);
            if (E.gemma4() != null && E.gemma4().downScale() != null) {
                k.scale(result, 0, m * d, E.gemma4().downScale()[e]);
            }
            for (int i = 0; i < m; i++) {
                System.arraycopy(result, i * d, slotOut, group[i] * d, d);
            }
        }
    }

    /** Adds {@code bias[from .. from + width)} to each of {@code rows} rows of {@code v}; nothing for a null bias. */
    private void addRows(float[] v, float[] bias, int from, int width, int rows) {
        if (bias != null) {
            for (int r = 0; r < rows; r++) {
                k.add(v, r * width, bias, from, width);
            }
        }
    }

    /**
     * gpt-oss's SwiGLU in place of {@code gate} (ggml's {@code swiglu_oai} with its alpha 1.702 and limit 7): the gate
     * clamped above at 7, the up projection to [−7, 7], gate·σ(1.702·gate)·(up + 1), in float as ggml computes it.
     */
    private static void clampedSwiglu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float x = Math.min(gate[i], 7f);
            float y = Math.max(-7f, Math.min(up[i], 7f));
            gate[i] = x / (1f + (float) Math.exp(1.702f * -x)) * (y + 1f);
        }
    }

    /** The expert output scratch, at least {@code n} floats. */
    private float[] expertBuffer(int n) {
        if (expertOut.length < n) {
            expertOut = new float[n];
        }
        return expertOut;
    }

    /** W·X for m gathered rows, each row as its own matvec gives it. */
    private void multiply(WeightMatrix m, float[] in, int rows, float[] dst) {
        if (rows == 1) {
            k.matvec(m, in, dst);
        } else {
            k.matvecMany(m, in, rows, dst);
        }
    }

    /** While {@link #forwardRows} runs: every product row by row ({@code matvecMany}), never the tiled matmul. */
    private boolean rowByRow;

    /**
     * W·X for n rows of X: matrix-vector for one token, the batched kernel for more. In a batch of sequences each
     * segment's rows are multiplied as that segment alone would be: all single rows together through
     * {@code matvecMany} (bit for bit each row's own matvec), and longer segments together where the kernel says
     * their kind of product gives each row what it gets alone ({@link Kernels#matmulKind}; packed weights), else
     * each through its own matmul. So a sequence's numbers do not depend on what else runs in the batch, and the
     * weights are read once per step for the decode rows of every generating sequence and, where the kind allows,
     * for the prompts that start together.
     */
    private void project(WeightMatrix m, float[] in, int n, float[] dst) {
        if (planSegments != null) {
            projectPlanned(m, in, dst);
        } else if (n == 1) {
            k.matvec(m, in, dst);
        } else if (rowByRow) {
            k.matvecMany(m, in, n, dst);
        } else {
            k.matmul(m, in, n, dst);
        }
        if (lora != null) {
            lora.add(m, in, n, dst, null);
        }
    }

    /**
     * Adds LoRA adapters' products to every dense product from the next call on (null: none). Experts' weights and
     * the token embeddings are not adapted.
     */
    public void adapters(LoraProducts products) {
        this.lora = products;
    }

    /** Each batch row's adapter scales ([row][adapter]) for the calls that follow; null: the adapters' defaults. */
    public void adapterRowScales(float[] scales) {
        if (lora != null) {
            lora.rowScales(scales);
        }
    }

    /** The row map of a last row's logits: row 0 of the output is row n - 1 of the batch. */
    private int[] lastRow(int n) {
        lastRow[0] = n - 1;
        return lastRow;
    }

    private void projectPlanned(WeightMatrix m, float[] in, float[] dst) {
        int kind0 = 0;
        for (int i = 0; i < planCount; i++) {
            segmentKind[i] = i < planSingles ? 0 : k.matmulKind(m, planSegments[i].n());
            kind0 += segmentKind[i] == 0 ? 1 : 0;
        }
        if (kind0 > planSingles) {
            multiply(m, in, dst, 0, planCount, 0);
        } else if (planSingles > 0) {
            k.matvecMany(m, in, planSingles, dst); // the single rows lead the batch: no copy
        }
        for (int i = planSingles; i < planCount; i++) {
            int kind = segmentKind[i];
            if (kind > 0 && firstOfKind(i, kind)) {
                multiply(m, in, dst, i, planCount, kind);
            } else if (kind < 0) {
                multiply(m, in, dst, i, i + 1, ANY_KIND);
            }
        }
    }

    /** What {@link #multiply} takes to mean every segment of its range, whatever its kind. */
    private static final int ANY_KIND = -2;

    private boolean firstOfKind(int i, int kind) {
        for (int j = planSingles; j < i; j++) {
            if (segmentKind[j] == kind) {
                return false;
            }
        }
        return true;
    }

    /**
     * The segments of [from, to) of one kind ({@link #ANY_KIND}: all of them) in one product, matvecMany's for kind
     * 0 and matmul's otherwise: their rows gathered into segmentIn and the products put back in place.
     */
    private void multiply(WeightMatrix m, float[] in, float[] dst, int from, int to, int kind) {
        int cols = m.cols();
        int width = m.rows();
        int rows = 0;
        for (int i = from; i < to; i++) {
            rows += takes(i, kind) ? planSegments[i].n() : 0;
        }
        if (segmentIn.length < rows * cols) {
            segmentIn = new float[rows * cols];
        }
        if (segmentOut.length < rows * width) {
            segmentOut = new float[rows * width];
        }
        for (int i = from, at = 0; i < to; i++) {
            if (takes(i, kind)) {
                Segment s = planSegments[i];
                System.arraycopy(in, s.row() * cols, segmentIn, at * cols, s.n() * cols);
                at += s.n();
            }
        }
        if (kind == 0) {
            k.matvecMany(m, segmentIn, rows, segmentOut);
        } else {
            k.matmul(m, segmentIn, rows, segmentOut);
        }
        for (int i = from, at = 0; i < to; i++) {
            if (takes(i, kind)) {
                Segment s = planSegments[i];
                System.arraycopy(segmentOut, at * width, dst, s.row() * width, s.n() * width);
                at += s.n();
            }
        }
    }

    private boolean takes(int i, int kind) {
        return kind == ANY_KIND || segmentKind[i] == kind;
    }
}
