package dev.vellama.runtime.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.vellama.gguf.GgmlType;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.Kernels;
import dev.vellama.quant.Quantizer;
import dev.vellama.quant.WeightMatrix;
import dev.vellama.runtime.ActivationHook;
import dev.vellama.runtime.ActivationPoint;
import dev.vellama.runtime.Architecture;
import dev.vellama.runtime.model.ActivationHooks;
import dev.vellama.runtime.model.BatchedPass;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.model.TransformerPass;
import dev.vellama.runtime.model.ModelWeights;
import dev.vellama.runtime.model.Rope;

/**
 * The transformer forward pass of {@code ForwardPass}, for every architecture it supports (llama, qwen2, qwen3,
 * phi3, Gemma 2 and 3), with the first {@code gpuLayers} layers on a CUDA device
 * (see {@link GpuLayers}). Their weights are uploaded once, in their quantized form where a kernel reads it, and
 * their KV cache (F16, Q8_0 or Q4_0) lives in device memory. Activations stay on the device between layers; the residual stream
 * crosses to the host once per chunk where the CPU layers take over, and the logits come back once per chunk.
 * Single-token decode with the whole model on the GPU is captured once as a CUDA graph and replayed for every
 * token (one launch instead of ~16 per layer; the kernels read the position from device memory), unless the driver
 * lacks graphs or {@code -Dvellama.cuda.graphs=false} is set.
 * <p>For continuous batching ({@link #createSlots}) the KV cache holds several slots, and {@link #forwardBatch}
 * runs the rows of several sequences through each weight matrix together (one read of the weights per step), with
 * RoPE, the cache store and attention per sequence, each at its own positions in its own slot.
 * Not thread-safe, and its kernel arguments are confined to the thread that made it: use it there.
 */
public final class CudaForwardPass implements TransformerPass, BatchedPass {
    private final ModelConfig c;
    private final ModelWeights w;
    private final CudaContext ctx;
    private final CudaKernels g;
    private final int maxBatch;
    private final int capacity;           // positions per slot
    private final int slots;
    private final GgmlType keyType;       // the GPU layers' cache formats (F16, Q8_0 or Q4_0), the CPU layers' too
    private final GgmlType valueType;
    private final long keyRowBytes;       // one position's keys (values) of all kv heads in those formats
    private final long valueRowBytes;
    private final int gpuLayerCount;
    private final boolean outputOnGpu;
    private final boolean neox;
    private final ForwardPass cpu;          // the layers left on the CPU, and the output when it stays there
    private final KvCache[] cpuCaches;      // each slot's cache of the CPU layers
    private final ForwardPass.Segment[] cpuSegments;
    private final int cpuFirstLayer;
    private final Kernels cpuKernels;
    private final List<AutoCloseable> owned = new ArrayList<>();

    private final GpuLayer[] layers;
    private final GpuMatrix embedding;   // on the GPU only with the output
    private final GpuMatrix output;
    private final DeviceBuffer outputNorm;
    private final DeviceBuffer cos;
    private final DeviceBuffer sin;
    private final DeviceBuffer localCos;  // sliding-window layers' angles where their base differs
    private final DeviceBuffer localSin;
    private final Rope rope;              // for a context shift's rotations
    /** The queries' attention temperature per position (Mistral 3), or null for a model without one. */
    private final DeviceBuffer temperature;
    private final Rope localRope;
    private final DeviceBuffer step;      // int32 [position of the first token, token ids...], one upload per call
    private final DeviceBuffer position;  // views of step
    private final DeviceBuffer ids;
    private final int[] hostStep;
    private final DeviceBuffer batchStep; // int32 [each segment's first position (slots), token ids (maxBatch)]
    private final DeviceBuffer batchIds;
    private final DeviceBuffer[] batchPositions;
    private final int[] hostBatchStep;
    // the sequences of the call running: their first row, rows, slot, device position and bound on pos + n
    private int planCount;
    private int planSingles;              // leading segments of one row each
    private final int[] planRow;
    private final int[] planN;
    private final int[] planSlot;
    private final DeviceBuffer[] planPos;
    private final int[] planBound;
    private final int[] planStart;        // host copies of each sequence's first position, for activation hooks
    /** The session's activation hooks, or null when it has none (then no row leaves the device for them). */
    private ActivationHooks hooks;
    private float[] hookRows = new float[0];
    private boolean useGraphs;
    /**
     * Whether the small kernels are fused (a residual add with the next norm, RoPE of q and k with the cache store):
     * on unless {@code -Dvellama.cuda.fuse=false}, which keeps them apart to compare.
     */
    private final boolean fuse = !"false".equals(System.getProperty("vellama.cuda.fuse"));
    /**
     * Rows of a sliding-window layer's cache: its window and a chunk (position p in row p % ring), as the CPU cache
     * keeps them; the capacity where that is no smaller or no GPU layer slides.
     */
    private final int ring;
    /** Per slot: the first position the sliding layers' rings still hold (0 while nothing has been overwritten). */
    private final int[] slidingFrom;
    /** Per slot: the ring row of position 0 (moved by context shifts), here and as an int in device memory. */
    private final int[] hostOrigins;
    private DeviceBuffer[] origins;
    private MemorySegment decodeGraph;    // captured at the first single-token call; null until then
    private MemorySegment decodeGraphExec;
    private final DeviceBuffer x;
    private final DeviceBuffer xb;
    private final DeviceBuffer q;
    private final DeviceBuffer k;
    private final DeviceBuffer v;
    private final DeviceBuffer att;
    private final DeviceBuffer out;
    private final DeviceBuffer gate;
    private final DeviceBuffer up;
    private final DeviceBuffer logits;
    private DeviceBuffer allLogits;
    private long allLogitsRows;

    private final float[] hostX;
    private final float[] hostLogits;
    private float[] hostAllLogits = new float[0];

    private record GpuLayer(DeviceBuffer attnNorm, GpuMatrix wq, GpuMatrix wk, GpuMatrix wv, GpuMatrix wo,
                            DeviceBuffer bq, DeviceBuffer bk, DeviceBuffer bv, DeviceBuffer qNorm, DeviceBuffer kNorm,
                            DeviceBuffer postAttnNorm, DeviceBuffer ffnNorm, GpuMatrix gate, GpuMatrix up,
                            GpuMatrix down, DeviceBuffer postFfnNorm, DeviceBuffer[] keys, DeviceBuffer[] values,
                            int window, int cells, int nRot, DeviceBuffer cos, DeviceBuffer sin) {}

    /**
     * Opens the first CUDA device and uploads the model's offloaded part.
     *
     * @param kvCacheCapacity positions of the KV cache (the context size)
     * @param maxBatch        the largest chunk of tokens per call
     * @param gpuLayers       layers to offload; {@link GpuLayers#ALL} (or more than the layer count) for everything
     * @param cpuThreads      threads for the layers left on the CPU
     * @param notices         hears one line per weight converted to F16 and one describing the placement
     * @throws CudaUnavailableException when there is no driver or no device (a one-line reason)
     */
    public static CudaForwardPass create(ModelConfig config, ModelWeights weights, int kvCacheCapacity, int maxBatch,
                                         int gpuLayers, int cpuThreads, Consumer<String> notices)
            throws CudaUnavailableException {
        return create(config, weights, kvCacheCapacity, maxBatch, gpuLayers, cpuThreads, GgmlType.F16, GgmlType.F16,
                notices);
    }

    /**
     * As above with the KV cache's keys in {@code keyType} and values in {@code valueType}: F16, Q8_0 or Q4_0
     * ({@link CudaKernels#supportsCacheType}), stored in ggml's block formats and read by attention as they are.
     *
     * @throws IllegalArgumentException for another cache type, or a block type with heads not a multiple of 32
     */
    public static CudaForwardPass create(ModelConfig config, ModelWeights weights, int kvCacheCapacity, int maxBatch,
                                         int gpuLayers, int cpuThreads, GgmlType keyType, GgmlType valueType,
                                         Consumer<String> notices) throws CudaUnavailableException {
        refuseUnsupported(config, weights);
        checkCacheTypes(config, keyType, valueType);
        return create(CudaContext.open(0), config, weights, 1, kvCacheCapacity, maxBatch, gpuLayers, cpuThreads,
                keyType, valueType, notices);
    }

    /** As above on a context already open (another device, say); the pass owns it and closes it. */
    public static CudaForwardPass create(CudaContext ctx, ModelConfig config, ModelWeights weights, int kvCacheCapacity,
                                         int maxBatch, int gpuLayers, int cpuThreads, Consumer<String> notices) {
        return create(ctx, config, weights, 1, kvCacheCapacity, maxBatch, gpuLayers, cpuThreads, notices);
    }

    /**
     * A pass for continuous batching on the first CUDA device: {@code slots} KV cache slots of
     * {@code slotCapacity} positions, used through {@link #forwardBatch}.
     *
     * @throws CudaUnavailableException when there is no driver or no device (a one-line reason)
     */
    public static CudaForwardPass createSlots(ModelConfig config, ModelWeights weights, int slots, int slotCapacity,
                                              int maxBatch, int gpuLayers, int cpuThreads, Consumer<String> notices)
            throws CudaUnavailableException {
        return createSlots(config, weights, slots, slotCapacity, maxBatch, gpuLayers, cpuThreads, GgmlType.F16,
                notices);
    }

    /** As above with every slot's keys and values in {@code cacheType} (F16, Q8_0 or Q4_0). */
    public static CudaForwardPass createSlots(ModelConfig config, ModelWeights weights, int slots, int slotCapacity,
                                              int maxBatch, int gpuLayers, int cpuThreads, GgmlType cacheType,
                                              Consumer<String> notices) throws CudaUnavailableException {
        refuseUnsupported(config, weights);
        checkCacheTypes(config, cacheType, cacheType);
        return create(CudaContext.open(0), config, weights, slots, slotCapacity, maxBatch, gpuLayers, cpuThreads,
                cacheType, cacheType, notices);
    }

    /** As {@link #createSlots} on a context already open; the pass owns it and closes it. */
    public static CudaForwardPass create(CudaContext ctx, ModelConfig config, ModelWeights weights, int slots,
                                         int slotCapacity, int maxBatch, int gpuLayers, int cpuThreads,
                                         Consumer<String> notices) {
        return create(ctx, config, weights, slots, slotCapacity, maxBatch, gpuLayers, cpuThreads, GgmlType.F16,
                GgmlType.F16, notices);
    }

    /** As above with the cache's keys in {@code keyType} and values in {@code valueType}. */
    public static CudaForwardPass create(CudaContext ctx, ModelConfig config, ModelWeights weights, int slots,
                                         int slotCapacity, int maxBatch, int gpuLayers, int cpuThreads,
                                         GgmlType keyType, GgmlType valueType, Consumer<String> notices) {
        try {
            refuseUnsupported(config, weights);
            checkCacheTypes(config, keyType, valueType);
            return new CudaForwardPass(ctx, config, weights, slots, slotCapacity, maxBatch, gpuLayers, cpuThreads,
                    keyType, valueType, notices);
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /**
     * Refuses cache types the GPU kernels do not store (they keep F16, Q8_0 and Q4_0, as llama.cpp's CUDA build does
     * by default), and block types for heads that are not whole blocks of 32, before a device is opened.
     */
    private static void checkCacheTypes(ModelConfig config, GgmlType keyType, GgmlType valueType) {
        for (GgmlType t : new GgmlType[] {keyType, valueType}) {
            if (!CudaKernels.supportsCacheType(t)) {
                throw new IllegalArgumentException("--device cuda keeps the KV cache in f16, q8_0 or q4_0; "
                        + t.name().toLowerCase(java.util.Locale.ROOT) + " is for CPU sessions");
            }
            if (t != GgmlType.F16 && config.headDim() % t.blockSize() != 0) {
                throw new IllegalArgumentException("this model's heads of " + config.headDim()
                        + " values do not divide into blocks of 32: use an f16 cache");
            }
        }
    }

    /** The models whose graph the CUDA path does not have yet, refused before a device is opened. */
    private static void refuseUnsupported(ModelConfig config, ModelWeights weights) {
        if (java.util.Arrays.stream(weights.layers).anyMatch(l -> l.bo() != null)) {
            throw new dev.vellama.runtime.UnsupportedModelException(config.architecture().ggufName()
                    + " with attention output biases does not run on CUDA yet: use --device cpu");
        }
        if (config.deltaNet().present()) {
            throw new dev.vellama.runtime.UnsupportedModelException(config.architecture().ggufName()
                    + " (linear-attention layers) does not run on CUDA yet: use --device cpu");
        }
        if (config.layout().present()) {
            throw new dev.vellama.runtime.UnsupportedModelException(config.architecture().ggufName()
                    + " (layers of different shapes, shared caches, per-layer inputs) does not run on CUDA yet: use --device cpu");
        }
        if (config.experts().present()) {
            throw new dev.vellama.runtime.UnsupportedModelException(config.architecture().ggufName()
                    + " (mixture of experts) does not run on CUDA yet: use --device cpu");
        }
    }

    /** Short form: all of the model on the GPU, up to 512 tokens per chunk, notices to standard error. */
    public static CudaForwardPass create(ModelConfig config, ModelWeights weights, int kvCacheCapacity, int gpuLayers)
            throws CudaUnavailableException {
        return create(config, weights, kvCacheCapacity, 512, gpuLayers, Runtime.getRuntime().availableProcessors(),
                System.err::println);
    }

    private CudaForwardPass(CudaContext ctx, ModelConfig c, ModelWeights w, int slots, int capacity, int maxBatch,
                            int gpuLayers, int cpuThreads, GgmlType keyType, GgmlType valueType,
                            Consumer<String> notices) {
        if (gpuLayers < 1) {
            throw new IllegalArgumentException("--gpu-layers 0 offloads nothing: use the CPU forward pass");
        }
        if (maxBatch < 1 || capacity < 1 || slots < 1) {
            throw new IllegalArgumentException("batch of " + maxBatch + ", " + slots + " slots and context of "
                    + capacity + " positions");
        }
        this.slots = slots;
        this.keyType = keyType;
        this.valueType = valueType;
        this.keyRowBytes = CudaKernels.cacheRowBytes(keyType, c.kvDim());
        this.valueRowBytes = CudaKernels.cacheRowBytes(valueType, c.kvDim());
        this.ctx = ctx;
        this.c = c;
        this.w = w;
        this.maxBatch = maxBatch;
        this.capacity = capacity;
        this.gpuLayerCount = GpuLayers.layersOnGpu(gpuLayers, c.layerCount());
        this.outputOnGpu = GpuLayers.outputOnGpu(gpuLayers, c.layerCount());
        this.neox = c.architecture().ropeStyle() == Architecture.RopeStyle.NEOX;
        this.ring = ringCells(c, capacity, maxBatch, gpuLayerCount);
        this.slidingFrom = new int[slots];
        this.hostOrigins = new int[slots];
        this.useGraphs = outputOnGpu && ctx.driver().supportsGraphs()
                && !"false".equals(System.getProperty("vellama.cuda.graphs"));
        notices.accept("CUDA: " + ctx.deviceName() + ", " + gpuLayerCount + " of " + c.layerCount()
                + " layers on the GPU" + (outputOnGpu ? " with the output" : ""));
        checkMemory(ctx, c, w, slots, capacity, maxBatch, gpuLayerCount, outputOnGpu, keyRowBytes + valueRowBytes);
        try {
            g = own(new CudaKernels(ctx));
            g.reserveAttention(c.headCount(), c.headDim(), capacity);
            g.reserveMatmul(maxBatch, widestInput(c));
            // the CPU pass's rotation, tabulated for every position of the cache
            rope = Rope.of(c, w, capacity);
            localRope = Rope.local(c, rope);
            float[][] table = rope.table(capacity);
            cos = floats(table[0]);
            sin = floats(table[1]);
            float[][] localTable = localRope == rope ? table : localRope.table(capacity);
            localCos = localRope == rope ? cos : floats(localTable[0]);
            localSin = localRope == rope ? sin : floats(localTable[1]);
            if (c.temperature().present()) {
                float[] factors = new float[capacity];
                for (int p = 0; p < capacity; p++) {
                    factors[p] = c.temperature().at(p);
                }
                temperature = floats(factors);
            } else {
                temperature = null;
            }
            int d = c.embeddingLength();
            int ff = c.maxFeedForward();
            step = buffer(4L * (maxBatch + 1));
            position = step.view(0, 4);
            ids = step.view(4, 4L * maxBatch);
            hostStep = new int[maxBatch + 1];
            batchStep = buffer(4L * (slots + maxBatch));
            batchIds = batchStep.view(4L * slots, 4L * maxBatch);
            batchPositions = new DeviceBuffer[slots];
            for (int i = 0; i < slots; i++) {
                batchPositions[i] = batchStep.view(4L * i, 4);
            }
            hostBatchStep = new int[slots + maxBatch];
            origins = slotViews(buffer(4L * slots), 4);
            for (DeviceBuffer o : origins) {
                ctx.upload(new int[] {0}, 0, 1, o);
            }
            planRow = new int[slots];
            planN = new int[slots];
            planSlot = new int[slots];
            planPos = new DeviceBuffer[slots];
            planBound = new int[slots];
            planStart = new int[slots];
            x = buffer(4L * maxBatch * d);
            xb = buffer(4L * maxBatch * d);
            out = buffer(4L * maxBatch * d);
            q = buffer(4L * maxBatch * c.queryDim());
            att = buffer(4L * maxBatch * c.queryDim());
            k = buffer(4L * maxBatch * c.kvDim());
            v = buffer(4L * maxBatch * c.kvDim());
            gate = buffer(4L * maxBatch * ff);
            up = buffer(4L * maxBatch * ff);
            layers = new GpuLayer[gpuLayerCount];
            for (int l = 0; l < gpuLayerCount; l++) {
                ModelWeights.Layer L = w.layers[l];
                GpuMatrix wq;
                GpuMatrix wk;
                GpuMatrix wv;
                if (L.wqkv() != null) {
                    // one upload; q, k and v are consecutive row ranges of it
                    GpuMatrix qkv = matrix(L.wqkv(), notices);
                    wq = qkv.rows(0, c.queryDim());
                    wk = qkv.rows(c.queryDim(), c.kvDim());
                    wv = qkv.rows(c.queryDim() + c.kvDim(), c.kvDim());
                } else {
                    wq = matrix(L.wq(), notices);
                    wk = matrix(L.wk(), notices);
                    wv = matrix(L.wv(), notices);
                }
                int ffl = c.feedForwardLength()[l];
                GpuMatrix gateM;
                GpuMatrix upM;
                if (L.gate() == null) {
                    // fused gate|up: the first ff rows are the gate, the next ff the up projection
                    GpuMatrix gateUp = matrix(L.up(), notices);
                    gateM = gateUp.rows(0, ffl);
                    upM = gateUp.rows(ffl, ffl);
                } else {
                    gateM = matrix(L.gate(), notices);
                    upM = matrix(L.up(), notices);
                }
                boolean sliding = c.slidingLayer(l);
                int cells = sliding ? ring : capacity;
                long keyBytes = cells * keyRowBytes;
                long valueBytes = cells * valueRowBytes;
                layers[l] = new GpuLayer(floats(L.attnNorm()), wq, wk, wv, matrix(L.wo(), notices), floats(L.bq()),
                        floats(L.bk()), floats(L.bv()), floats(L.qNorm()), floats(L.kNorm()),
                        floats(L.postAttnNorm()), floats(L.ffnNorm()), gateM, upM, matrix(L.down(), notices),
                        floats(L.postFfnNorm()), slotViews(buffer(keyBytes * slots), keyBytes),
                        slotViews(buffer(valueBytes * slots), valueBytes),
                        sliding ? c.slidingWindow() : Integer.MAX_VALUE, cells,
                        c.architecture().ropeLayer(l) ? c.ropeDims() : 0, sliding ? localCos : cos,
                        sliding ? localSin : sin);
            }
            if (outputOnGpu) {
                embedding = matrix(w.tokenEmbedding, notices);
                output = w.output == w.tokenEmbedding ? embedding : matrix(w.output, notices);
                outputNorm = floats(w.outputNorm);
                logits = buffer(4L * c.vocabSize());
                cpuKernels = null;
                cpu = null;
                cpuCaches = null;
                cpuSegments = null;
                cpuFirstLayer = c.layerCount();
            } else {
                embedding = null;
                output = null;
                outputNorm = null;
                logits = null;
                cpuKernels = own(Kernels.create(cpuThreads));
                cpu = new ForwardPass(c, w, cpuKernels, capacity, maxBatch);
                cpuCaches = new KvCache[slots];
                for (int i = 0; i < slots; i++) {
                    cpuCaches[i] = KvCache.of(c, gpuLayerCount, capacity, keyType, valueType);
                }
                cpuSegments = new ForwardPass.Segment[slots];
                cpuFirstLayer = gpuLayerCount;
            }
            hostX = new float[maxBatch * d];
            hostLogits = new float[c.vocabSize()];
            ctx.synchronize();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Fails before any upload, with the numbers, when the offloaded part cannot fit in free device memory; {@code
     * rowBytes}: one position's keys and values of a layer in the cache's formats.
     */
    private static void checkMemory(CudaContext ctx, ModelConfig c, ModelWeights w, int slots, int capacity, int maxBatch,
                                    int gpuLayerCount, boolean outputOnGpu, long rowBytes) {
        int ring = ringCells(c, capacity, maxBatch, gpuLayerCount);
        long need = 0;
        for (int l = 0; l < gpuLayerCount; l++) {
            need += rowBytes * slots * (c.slidingLayer(l) ? ring : capacity);
        }
        for (int l = 0; l < gpuLayerCount; l++) {
            ModelWeights.Layer L = w.layers[l];
            for (WeightMatrix m : new WeightMatrix[] {L.wq(), L.wk(), L.wv(), L.wqkv(), L.wo(), L.gate(), L.up(), L.down()}) {
                if (m != null) { // fused layouts leave some out
                    need += GpuMatrix.deviceBytes(m);
                }
            }
        }
        if (outputOnGpu) {
            need += GpuMatrix.deviceBytes(w.tokenEmbedding);
            need += w.output == w.tokenEmbedding ? 0 : GpuMatrix.deviceBytes(w.output);
            need += 4L * c.vocabSize();
        }
        need += 4L * maxBatch * (4L * c.embeddingLength() + 2L * c.queryDim() + 2L * c.kvDim() + 2L * c.maxFeedForward());
        need += 2L * maxBatch * widestInput(c); // the tensor-core matmul's F16 activations, where it is used
        long free = ctx.driver().memoryInfo()[0];
        if (need > free) {
            throw new IllegalArgumentException(String.format("%d layers on the GPU need about %d MiB of device memory,"
                    + " %d MiB are free: offload fewer with --gpu-layers or use a smaller context", gpuLayerCount,
                    need >> 20, free >> 20));
        }
    }

    /** Rows of a sliding-window GPU layer's cache of {@code capacity} positions (see {@link #ring}). */
    private static int ringCells(ModelConfig c, int capacity, int maxBatch, int gpuLayerCount) {
        boolean[] sliding = new boolean[gpuLayerCount];
        for (int l = 0; l < gpuLayerCount; l++) {
            sliding[l] = c.slidingLayer(l);
        }
        return KvCache.ringCells(capacity, c.slidingWindow(), sliding, maxBatch);
    }

    /** Notes that a slot's positions [pos, pos + n) are written: a ring then forgets the oldest. */
    private void written(int slot, int pos, int n) {
        if (pos == 0) {
            slidingFrom[slot] = 0;
            setOrigin(slot, 0);
        }
        if (ring < capacity) {
            slidingFrom[slot] = Math.max(slidingFrom[slot], pos + n - ring);
        }
    }

    private void setOrigin(int slot, int origin) {
        if (hostOrigins[slot] != origin) {
            hostOrigins[slot] = origin;
            ctx.upload(new int[] {origin}, 0, 1, origins[slot]);
        }
    }

    /** Whether slot {@code slot} can evaluate position {@code pos} on what its rings still hold. */
    private boolean ringsHold(int slot, int pos) {
        return ring == capacity || pos == 0 || Math.max(0, pos - c.slidingWindow() + 1) >= slidingFrom[slot];
    }

    @Override
    public boolean canContinueAt(int pos) {
        return ringsHold(0, pos);
    }

    @Override
    public boolean shiftCache(int keep, int discard, int length) {
        return shiftSlot(0, keep, discard, length);
    }

    /**
     * A context shift of a slot on the device: each GPU layer's rows after the forgotten ones move down with their
     * keys turned by RoPE's rotation for −discard (the sliding layers' own), in pieces of at most {@code discard}
     * rows so that none is read after it is overwritten. A ring's rows stay where they are: the keys of the
     * positions it holds after the forgotten ones are turned in place and its origin moves by {@code discard}, so
     * the same rows hold the renumbered positions (what it held of the kept prefix is lost, which {@link
     * #maxDiscard(int, int, int)} allows for), as the CPU cache does. A partial offload's CPU layers shift as the
     * CPU pass shifts them.
     */
    @Override
    public boolean shiftSlot(int slot, int keep, int discard, int length) {
        if (slot < 0 || slot >= slots || keep < 0 || discard < 1 || keep + discard > length || length > capacity
                || discard > maxDiscard(slot, keep, length)) {
            throw new IllegalArgumentException("cannot forget " + discard + " cells after " + keep + " of " + length);
        }
        ctx.makeCurrent();
        int pairs = Math.max(rope.pairs(), localRope.pairs());
        float[][] turn = new float[4][pairs];
        rope.rotation(-discard, turn[0], turn[1]);
        localRope.rotation(-discard, turn[2], turn[3]);
        DeviceBuffer[] tables = new DeviceBuffer[4];
        try {
            for (int i = 0; i < 4; i++) {
                tables[i] = ctx.allocate(4L * pairs);
                ctx.upload(turn[i], 0, pairs, tables[i], 0);
            }
            for (GpuLayer L : layers) {
                boolean local = L.window() != Integer.MAX_VALUE;
                if (L.cells() < capacity) {
                    int from = Math.max(keep + discard, slidingFrom[slot]);
                    if (from < length && L.nRot() > 0) {
                        g.turnRingKeys(L.keys()[slot], tables[local ? 2 : 0], tables[local ? 3 : 1], from, length - from,
                                c.headCountKv(), c.headDim(), L.nRot(), neox, L.cells(), hostOrigins[slot], keyType);
                    }
                    continue;
                }
                for (int p = keep; p + discard < length; p += discard) {
                    g.shiftKv(L.keys()[slot], L.values()[slot], tables[local ? 2 : 0], tables[local ? 3 : 1], p + discard,
                            p, Math.min(discard, length - discard - p), c.headCountKv(), c.headDim(), L.nRot(), neox,
                            keyType, valueType);
                }
            }
            ctx.synchronize();
        } finally {
            for (DeviceBuffer t : tables) {
                if (t != null) {
                    t.close();
                }
            }
        }
        if (ring < capacity) {
            setOrigin(slot, (hostOrigins[slot] + discard) % ring);
            slidingFrom[slot] = Math.max(keep, slidingFrom[slot] - discard);
        }
        if (cpu != null) {
            cpu.shiftCache(cpuCaches[slot], keep, discard, length);
        }
        return true;
    }

    @Override
    public int maxDiscard(int keep, int length) {
        return maxDiscard(0, keep, length);
    }

    /**
     * Copies the session's cache (slot 0) of positions [0, length) into a heap cache of every layer, values decoded
     * from the device's formats (a heap cache of the same types stores them back to the same bytes): the GPU layers'
     * rows downloaded (a ring's from the first position it still holds), a partial offload's CPU layers from their
     * own cache. Positions go in increasing order, so the heap cache's rings keep what the device's keep.
     */
    @Override
    public void copyCacheTo(KvCache into, int length) {
        copySlotTo(0, into, length);
    }

    @Override
    public boolean copiesSlots() {
        return true;
    }

    /** {@link #copyCacheTo} for any slot of a pass made by {@link #createSlots}. */
    @Override
    public boolean copySlotTo(int slot, KvCache into, int length) {
        checkHostCache(into, length);
        java.util.Objects.checkIndex(slot, hostOrigins.length);
        ctx.makeCurrent();
        int kvd = c.kvDim();
        byte[][] keys = new byte[gpuLayerCount][];
        byte[][] values = new byte[gpuLayerCount][];
        for (int l = 0; l < gpuLayerCount; l++) {
            int cells = layers[l].cells();
            keys[l] = new byte[Math.toIntExact(cells * keyRowBytes)];
            values[l] = new byte[Math.toIntExact(cells * valueRowBytes)];
            ctx.download(layers[l].keys()[slot], 0, keys[l], 0, keys[l].length);
            ctx.download(layers[l].values()[slot], 0, values[l], 0, values[l].length);
        }
        float[] k = new float[kvd];
        float[] v = new float[kvd];
        for (int p = 0; p < length; p++) {
            for (int l = 0; l < c.layerCount(); l++) {
                if (l >= gpuLayerCount) {
                    cpuCaches[slot].readRow(l, p, k, v);
                } else if (layers[l].cells() < capacity && p < slidingFrom[slot]) {
                    continue; // a ring no longer holds it
                } else {
                    boolean ringed = layers[l].cells() < capacity;
                    int row = ringed ? (int) (((long) p + hostOrigins[slot]) % layers[l].cells()) : p;
                    Dequantizer.dequantize(keyType, keys[l], (int) (row * keyRowBytes), k, 0, kvd);
                    Dequantizer.dequantize(valueType, values[l], (int) (row * valueRowBytes), v, 0, kvd);
                }
                into.writeRow(l, p, k, 0, v, 0);
            }
        }
        into.restoredFrom(ring < capacity ? slidingFrom[slot] : 0);
        return true;
    }

    /**
     * Replaces the session's cache (slot 0) with positions [0, length) of a heap cache of every layer (a loaded
     * session): rows encoded in the device's formats and uploaded to the GPU layers (a ring's from the first position
     * the heap cache holds), a partial offload's CPU layers copied into their cache.
     */
    @Override
    public void copyCacheFrom(KvCache from, int length) {
        copySlotFrom(0, from, length);
    }

    /** {@link #copyCacheFrom} for any slot of a pass made by {@link #createSlots}. */
    @Override
    public boolean copySlotFrom(int slot, KvCache from, int length) {
        checkHostCache(from, length);
        java.util.Objects.checkIndex(slot, hostOrigins.length);
        ctx.makeCurrent();
        int kvd = c.kvDim();
        int first = ring < capacity ? from.slidingFrom() : 0;
        float[] k = new float[kvd];
        float[] v = new float[kvd];
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            for (int l = 0; l < gpuLayerCount; l++) {
                int cells = layers[l].cells();
                MemorySegment keys = arena.allocate(keyRowBytes * cells);
                MemorySegment values = arena.allocate(valueRowBytes * cells);
                for (int p = cells < capacity ? first : 0; p < length; p++) {
                    from.readRow(l, p, k, v);
                    Quantizer.quantizeReference(keyType, k, 0, kvd, keys, (p % cells) * keyRowBytes);
                    Quantizer.quantizeReference(valueType, v, 0, kvd, values, (p % cells) * valueRowBytes);
                }
                ctx.upload(keys, layers[l].keys()[slot], 0);
                ctx.upload(values, layers[l].values()[slot], 0);
            }
            ctx.synchronize();
        }
        for (int p = 0; p < length && cpuCaches != null; p++) {
            for (int l = gpuLayerCount; l < c.layerCount(); l++) {
                from.readRow(l, p, k, v);
                cpuCaches[slot].writeRow(l, p, k, 0, v, 0);
            }
        }
        setOrigin(slot, 0);
        slidingFrom[slot] = first;
        return true;
    }

    private void checkHostCache(KvCache cache, int length) {
        if (cache.layers() != c.layerCount() || cache.rowWidth() != c.kvDim() || length < 0 || length > capacity
                || length > cache.capacity()) {
            throw new IllegalArgumentException("a heap cache of " + cache.layers() + " layers and " + cache.capacity()
                    + " positions for " + length + " positions of this " + c.layerCount() + "-layer pass");
        }
    }

    /**
     * With rings, a shift may forget no more than leaves the next position's window inside what they hold after
     * the kept prefix (the CPU cache's rule); otherwise everything after the prefix.
     */
    @Override
    public int maxDiscard(int slot, int keep, int length) {
        if (ring == capacity) {
            return length - keep;
        }
        return Math.max(0, Math.min(length - keep, length - keep - c.slidingWindow() + 1));
    }

    @Override
    public boolean canContinueAt(int slot, int pos) {
        return ringsHold(slot, pos);
    }

    /** The widest activation row a matrix of the model multiplies: its columns. */
    private static int widestInput(ModelConfig c) {
        return Math.max(Math.max(c.embeddingLength(), c.queryDim()), c.maxFeedForward());
    }

    @Override
    public String description() {
        return "CUDA on " + deviceName();
    }

    @Override
    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public int slotCapacity() {
        return capacity;
    }

    /** Whether single-token calls replay a captured CUDA graph (after the first one). */
    boolean decodesWithGraph() {
        return decodeGraphExec != null;
    }

    /** The CUDA device's name. */
    public String deviceName() {
        return ctx.deviceName();
    }

    /**
     * Runs {@code n} tokens at positions {@code pos .. pos+n-1} (their keys and values join the cache) and returns
     * the logits of the last one (a buffer reused by the next call), as {@code ForwardPass.forwardLast}.
     */
    @Override
    public float[] forwardLast(int[] tokens, int from, int n, int pos) {
        start(tokens, from, n, pos);
        if (!(n == 1 && useGraphs && hooks == null && replayDecode())) {
            planOne(n, pos, pos + n);
            layers(tokens, from, n, pos);
            if (!outputOnGpu) {
                return cpu.outputLast(hostX, n);
            }
            outputLast(n);
        }
        ctx.download(logits, 0, hostLogits, 0, c.vocabSize());
        return hostLogits;
    }

    /**
     * Runs tokens at positions pos.. as {@link #forwardAll} does and returns each one's hidden state after the final
     * norm, row-major [token][embedding] (what embeddings pool): normed on the GPU with the output there, else on
     * the CPU after the CPU layers.
     */
    @Override
    public float[] forwardHidden(int[] tokens, int from, int n, int pos) {
        start(tokens, from, n, pos);
        planOne(n, pos, pos + n);
        layers(tokens, from, n, pos);
        int d = c.embeddingLength();
        float[] hidden = new float[n * d];
        if (outputOnGpu) {
            g.rmsnorm(xb, x, outputNorm, n, d, c.rmsEps());
            ctx.download(xb, 0, hidden, 0, n * d);
        } else {
            for (int t = 0; t < n; t++) {
                cpuKernels.rmsnorm(hidden, t * d, hostX, t * d, w.outputNorm, d, c.rmsEps());
            }
        }
        return hidden;
    }

    private void outputLast(int n) {
        int d = c.embeddingLength();
        g.rmsnorm(xb, 0, x, (long) (n - 1) * d, outputNorm, 1, d, c.rmsEps());
        g.matvec(output, xb, logits);
        if (c.finalSoftcap() > 0) {
            g.softcap(logits, c.finalSoftcap(), c.vocabSize());
        }
    }

    /**
     * One token through the whole model as a CUDA graph: captured at the first call (the launches are recorded, not
     * run), then replayed. The token id and position were uploaded before; attention's shared memory is sized for
     * the whole cache so one graph serves every position. Returns false, for good, where capturing fails.
     */
    private boolean replayDecode() {
        CudaDriver d = ctx.driver();
        if (decodeGraphExec == null) {
            try {
                d.beginCapture(ctx.stream());
            } catch (CudaException e) {
                useGraphs = false; // this driver or stream cannot capture: launch directly from now on
                return false;
            }
            try {
                planOne(1, -1, capacity);
                layers(null, 0, 1, -1);
                outputLast(1);
            } catch (CudaException e) {
                // a launch refused while capturing ran nothing: end the capture and go on without graphs
                try {
                    d.destroyGraph(d.endCapture(ctx.stream()));
                } catch (CudaException ignored) {
                    // the capture was invalidated; ending it has returned the stream to normal
                }
                useGraphs = false;
                return false;
            }
            decodeGraph = d.endCapture(ctx.stream());
            decodeGraphExec = d.instantiateGraph(decodeGraph);
        }
        d.launchGraph(decodeGraphExec, ctx.stream());
        return true;
    }

    /** Like {@link #forwardLast} but returns the logits of every token, row-major [token][vocab]. */
    @Override
    public float[] forwardAll(int[] tokens, int from, int n, int pos) {
        start(tokens, from, n, pos);
        planOne(n, pos, pos + n);
        layers(tokens, from, n, pos);
        if (!outputOnGpu) {
            return cpu.outputAll(hostX, n);
        }
        int d = c.embeddingLength();
        g.rmsnorm(xb, x, outputNorm, n, d, c.rmsEps());
        return logitsOf(n, false);
    }

    /**
     * The output projection of the n normed rows in xb, soft-capped, downloaded into a reused host buffer; with
     * {@code eachAlone} every row as its lone matrix-vector product gives it.
     */
    private float[] logitsOf(int n, boolean eachAlone) {
        if (allLogitsRows < n) {
            if (allLogits != null) {
                allLogits.close();
            }
            allLogits = ctx.allocate(4L * n * c.vocabSize());
            allLogitsRows = n;
        }
        if (eachAlone) {
            g.matvecMany(output, xb, n, allLogits);
        } else {
            g.matmul(output, xb, n, allLogits);
        }
        int need = n * c.vocabSize();
        if (c.finalSoftcap() > 0) {
            g.softcap(allLogits, c.finalSoftcap(), need);
        }
        if (hostAllLogits.length < need) {
            hostAllLogits = new float[need];
        }
        ctx.download(allLogits, 0, hostAllLogits, 0, need);
        return hostAllLogits;
    }

    /**
     * Continuous batching: the single rows (decode tokens) go through each weight matrix together, by the
     * few-token matrix-vector kernel whose every row is what a lone token's product gives; each longer prompt chunk
     * through its own matmul, as a session's chunk goes. RoPE, the cache store and attention run per segment, in its
     * slot at its positions. So a sequence's numbers do not depend on the company it keeps in a step.
     */
    @Override
    public float[] forwardBatch(int[] tokens, int rows, Segment[] segments, int count, int[] logitRows, int logitCount) {
        if (rows < 1 || rows > maxBatch) {
            throw new IllegalArgumentException("batch of " + rows + " rows; 1 to " + maxBatch + " allowed");
        }
        BatchedPass.checkSlots(segments, count, slots, capacity);
        int covered = 0;
        for (int i = 0; i < count; i++) {
            if (segments[i].row() != covered) {
                throw new IllegalArgumentException("segment " + i + " starts at row " + segments[i].row() + ", not " + covered);
            }
            covered += segments[i].n();
        }
        if (covered != rows) {
            throw new IllegalArgumentException("segments cover " + covered + " of " + rows + " rows");
        }
        checkTokens(tokens, 0, rows);
        for (int i = 0; i < logitCount; i++) {
            if (logitRows[i] < 0 || logitRows[i] >= rows) {
                throw new IllegalArgumentException("logits of row " + logitRows[i] + " of " + rows);
            }
        }
        ctx.makeCurrent();
        planCount = count;
        planSingles = 0;
        while (planSingles < count && segments[planSingles].n() == 1) {
            planSingles++;
        }
        for (int i = 0; i < count; i++) {
            Segment s = segments[i];
            planRow[i] = s.row();
            planN[i] = s.n();
            planSlot[i] = s.slot();
            planPos[i] = batchPositions[i];
            planBound[i] = s.pos() + s.n();
            planStart[i] = s.pos();
            hostBatchStep[i] = s.pos();
            written(s.slot(), s.pos(), s.n());
            if (cpu != null) {
                cpuSegments[i] = new ForwardPass.Segment(cpuCaches[s.slot()], s.row(), s.n(), s.pos());
            }
        }
        System.arraycopy(tokens, 0, hostBatchStep, slots, rows);
        ctx.upload(hostBatchStep, 0, slots + rows, batchStep);
        embed(batchIds, tokens, 0, rows);
        gpuLayers(rows);
        int d = c.embeddingLength();
        if (!outputOnGpu) {
            ctx.download(x, 0, hostX, 0, rows * d);
            cpu.runLayers(hostX, rows, cpuSegments, count, cpuFirstLayer, c.layerCount());
            return cpu.outputRows(hostX, rows, logitRows, logitCount);
        }
        for (int i = 0; i < logitCount; i++) {
            g.rmsnorm(xb, (long) i * d, x, (long) logitRows[i] * d, outputNorm, 1, d, c.rmsEps());
        }
        return logitsOf(logitCount, true);
    }

    /** One sequence in slot 0 from row 0: what a session's call runs; {@code bound} bounds pos + n. */
    private void planOne(int n, int pos, int bound) {
        planCount = 1;
        planSingles = n == 1 ? 1 : 0;
        planRow[0] = 0;
        planN[0] = n;
        planSlot[0] = 0;
        planPos[0] = position;
        planBound[0] = bound;
        planStart[0] = pos;
    }

    /** Checks a chunk, then uploads its position and (for a GPU embedding) its token ids in one copy. */
    private void start(int[] tokens, int from, int n, int pos) {
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("chunk of " + n + " tokens; 1 to " + maxBatch + " allowed");
        }
        if (pos + n > capacity) {
            throw new IllegalArgumentException("positions up to " + (pos + n) + " exceed the cache of " + capacity);
        }
        checkTokens(tokens, from, n);
        ctx.makeCurrent();
        written(0, pos, n);
        hostStep[0] = pos;
        int count = 1;
        if (embedding != null) {
            System.arraycopy(tokens, from, hostStep, 1, n);
            count += n;
        }
        ctx.upload(hostStep, 0, count, step);
    }

    /**
     * The embedding and the GPU layers (then the CPU layers, if any) of a session's chunk, whose ids and position
     * were uploaded by {@link #start} and planned by {@link #planOne}. With the embedding on the GPU, only kernels
     * are queued (so it can be captured into a graph; tokens and pos are then unused).
     */
    private void layers(int[] tokens, int from, int n, int pos) {
        embed(ids, tokens, from, n);
        gpuLayers(n);
        if (!outputOnGpu) {
            ctx.download(x, 0, hostX, 0, n * c.embeddingLength());
            cpuSegments[0] = new ForwardPass.Segment(cpuCaches[0], 0, n, pos);
            cpu.runLayers(hostX, n, cpuSegments, 1, cpuFirstLayer, c.layerCount());
        }
    }

    /** n rows of token embeddings into x: from the device ids on the GPU, else dequantized here and uploaded. */
    private void embed(DeviceBuffer deviceIds, int[] tokens, int from, int n) {
        int d = c.embeddingLength();
        if (embedding != null) {
            g.getRows(embedding, deviceIds, n, x);
        } else {
            for (int t = 0; t < n; t++) {
                Dequantizer.dequantizeRow(w.tokenEmbedding, tokens[from + t], hostX, t * d);
            }
            ctx.upload(hostX, 0, n * d, x, 0);
        }
        if (c.architecture().scaleEmbedding()) {
            g.scale(x, (float) Math.sqrt(d), n * d);
        }
    }

    /**
     * The GPU layers over n rows of x. With fused kernels each residual add also norms x for the block after it
     * (the same numbers, one launch fewer), so only the first layer's attention norms x itself.
     */
    private void gpuLayers(int n) {
        // a hook sees x before the next block's norm and may change it, so hooks keep the adds and norms apart
        boolean fuseNorms = fuse && hooks == null;
        for (int l = 0; l < gpuLayerCount; l++) {
            GpuLayer L = layers[l];
            attention(l, L, n, fuseNorms && l > 0);
            residual(L.postAttnNorm(), n, fuseNorms, L.ffnNorm());
            feedForward(l, L, c.feedForwardLength()[l], n, fuseNorms);
            boolean normNext = fuseNorms && l + 1 < gpuLayerCount;
            residual(L.postFfnNorm(), n, normNext, normNext ? layers[l + 1].attnNorm() : null);
            hook(ActivationPoint.RESIDUAL, l, x, n, c.embeddingLength());
        }
    }

    /**
     * Runs the hooks set at {@code point} of {@code layer}, as the CPU pass runs them (each hook over every row, row
     * by row, at the rows' positions), on n rows of {@code width} values of {@code buf}: downloaded, handed to the
     * hooks, uploaded again with whatever they changed.
     */
    private void hook(ActivationPoint point, int layer, DeviceBuffer buf, int n, int width) {
        if (hooks == null) {
            return;
        }
        ActivationHook[] at = hooks.at(point, layer);
        if (at.length == 0) {
            return;
        }
        if (hookRows.length < n * width) {
            hookRows = new float[n * width];
        }
        ctx.download(buf, 0, hookRows, 0, n * width);
        for (ActivationHook h : at) {
            for (int s = 0; s < planCount; s++) {
                for (int t = planRow[s]; t < planRow[s] + planN[s]; t++) {
                    h.onActivation(layer, point, planStart[s] + t - planRow[s], hookRows, t * width, width);
                }
            }
        }
        ctx.upload(hookRows, 0, n * width, buf, 0);
    }

    /**
     * Sets the activation hooks the layers run (null or empty for none): the GPU layers' through {@link #hook}, a
     * partial offload's CPU layers as the CPU pass runs them.
     */
    @Override
    public void hooks(ActivationHooks hooks) {
        this.hooks = hooks == null || hooks.isEmpty() ? null : hooks;
        if (cpu != null) {
            cpu.hooks(this.hooks);
        }
    }

    /** The attention block of layer l into out; {@code normed}: xb already holds x normed by the block's norm. */
    private void attention(int l, GpuLayer L, int n, boolean normed) {
        int d = c.embeddingLength();
        int qd = c.queryDim();
        int kvd = c.kvDim();
        int hd = c.headDim();
        if (!normed) {
            g.rmsnorm(xb, x, L.attnNorm(), n, d, c.rmsEps());
        }
        hook(ActivationPoint.ATTN_NORM, l, xb, n, d);
        projectGroup(L.wq(), q, L.wk(), k, L.wv(), v);
        if (L.bq() != null) {
            g.addBias(q, L.bq(), qd, n * qd);
            g.addBias(k, L.bk(), kvd, n * kvd);
            g.addBias(v, L.bv(), kvd, n * kvd);
        }
        if (L.qNorm() != null) {
            g.rmsnorm(q, q, L.qNorm(), n * c.headCount(), hd, c.rmsEps());
            g.rmsnorm(k, k, L.kNorm(), n * c.headCountKv(), hd, c.rmsEps());
        }
        // each sequence at its own positions in its own slot
        for (int s = 0; s < planCount; s++) {
            int row = planRow[s];
            int m = planN[s];
            DeviceBuffer qs = rowsOf(q, row, m, qd);
            DeviceBuffer ks = rowsOf(k, row, m, kvd);
            DeviceBuffer vs = rowsOf(v, row, m, kvd);
            DeviceBuffer keys = L.keys()[planSlot[s]];
            DeviceBuffer values = L.values()[planSlot[s]];
            DeviceBuffer origin = L.cells() < capacity ? origins[planSlot[s]] : null; // a ring's, else none
            if (fuse) {
                g.ropeStoreKv(qs, ks, vs, keys, values, L.cos(), L.sin(), m, c.headCount(), c.headCountKv(), hd,
                        L.nRot(), planPos[s], neox, L.cells(), origin, keyType, valueType);
            } else {
                if (L.nRot() > 0) { // a layer without RoPE (SmolLM3's every fourth) turns nothing
                    g.rope(qs, L.cos(), L.sin(), m, c.headCount(), hd, L.nRot(), planPos[s], neox);
                    g.rope(ks, L.cos(), L.sin(), m, c.headCountKv(), hd, L.nRot(), planPos[s], neox);
                }
                g.storeKv(keys, values, ks, vs, planPos[s], m, kvd, L.cells(), origin, keyType, valueType);
            }
            if (temperature != null && (!c.architecture().chunkedAttention() || L.nRot() == 0)) {
                g.scaleByPosition(qs, temperature, m, qd, planPos[s]); // after RoPE, as the CPU pass scales them
            }
            g.attention(qs, keys, values, rowsOf(att, row, m, qd), m, c.headCount(), c.headCountKv(), hd, planPos[s],
                    planBound[s], c.attentionScale(), L.window(), c.attnSoftcap(), L.cells(), origin, keyType,
                    valueType);
        }
        project(L.wo(), att, out);
        hook(ActivationPoint.ATTN_OUT, l, out, n, d);
    }

    /** The feed-forward block of layer l into out; {@code normed}: xb already holds x normed by the block's norm. */
    private void feedForward(int l, GpuLayer L, int ff, int n, boolean normed) {
        int d = c.embeddingLength();
        if (!normed) {
            g.rmsnorm(xb, x, L.ffnNorm(), n, d, c.rmsEps());
        }
        hook(ActivationPoint.FFN_NORM, l, xb, n, d);
        projectGroup(L.gate(), gate, L.up(), up, null, null);
        if (c.architecture().geluFeedForward()) {
            g.geglu(gate, up, n * ff);
        } else {
            g.swiglu(gate, up, n * ff);
        }
        hook(ActivationPoint.FFN_ACT, l, gate, n, ff);
        project(L.down(), gate, out);
        hook(ActivationPoint.FFN_OUT, l, out, n, d);
    }

    /**
     * x += out, out first normed where the architecture norms block outputs (Gemma); with {@code normNext}, xb =
     * x normed by {@code nextNorm} in the same launch as the add.
     */
    private void residual(DeviceBuffer postNorm, int n, boolean normNext, DeviceBuffer nextNorm) {
        int d = c.embeddingLength();
        if (postNorm != null) {
            g.rmsnorm(out, out, postNorm, n, d, c.rmsEps());
        }
        if (normNext) {
            g.addRmsnorm(xb, x, out, nextNorm, n, d, c.rmsEps());
        } else {
            g.add(x, out, n * d);
        }
    }

    /**
     * out = in · mᵀ over the planned rows: the leading single rows together by the few-token matrix-vector kernel,
     * each longer segment by its own matmul (a lone session's chunk is one such segment).
     */
    private void project(GpuMatrix m, DeviceBuffer in, DeviceBuffer out) {
        if (planSingles > 0) {
            g.matvecMany(m, in, planSingles, out);
        }
        for (int s = planSingles; s < planCount; s++) {
            g.matmul(m, rowsOf(in, planRow[s], planN[s], m.cols()), planN[s], rowsOf(out, planRow[s], planN[s], m.rows()));
        }
    }

    /**
     * out_i = xb · m_iᵀ for two or three matrices; for a single token with fused kernels, matrices of one format
     * and width go in one launch (the same numbers as one each).
     */
    private void projectGroup(GpuMatrix m0, DeviceBuffer out0, GpuMatrix m1, DeviceBuffer out1, GpuMatrix m2,
                              DeviceBuffer out2) {
        if (fuse && planCount == 1 && planSingles == 1 && CudaKernels.groupable(m0, m1, m2)) {
            g.matvecGroup(m0, m1, m2, xb, out0, out1, out2);
            return;
        }
        project(m0, xb, out0);
        project(m1, xb, out1);
        if (m2 != null) {
            project(m2, xb, out2);
        }
    }

    private void checkTokens(int[] tokens, int from, int n) {
        for (int t = 0; t < n; t++) {
            int id = tokens[from + t];
            if (id < 0 || id >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + c.vocabSize());
            }
        }
    }

    /** Rows [row, row + n) of a [rows][width] F32 buffer; the buffer itself for all of it from row 0. */
    private static DeviceBuffer rowsOf(DeviceBuffer b, int row, int n, int width) {
        return row == 0 && 4L * n * width == b.byteSize() ? b : b.view(4L * row * width, 4L * n * width);
    }

    /** A buffer of slots caches, one view each. */
    private DeviceBuffer[] slotViews(DeviceBuffer all, long bytes) {
        DeviceBuffer[] views = new DeviceBuffer[slots];
        for (int i = 0; i < slots; i++) {
            views[i] = slots == 1 ? all : all.view(i * bytes, bytes);
        }
        return views;
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    private DeviceBuffer buffer(long bytes) {
        return own(ctx.allocate(bytes));
    }

    /** A small F32 vector on the device, or null for an absent one. */
    private DeviceBuffer floats(float[] a) {
        if (a == null) {
            return null;
        }
        DeviceBuffer b = buffer(4L * a.length);
        ctx.upload(a, 0, a.length, b, 0);
        return b;
    }

    private GpuMatrix matrix(WeightMatrix m, Consumer<String> notices) {
        return own(GpuMatrix.upload(ctx, m, notices));
    }

    @Override
    public void close() {
        ctx.makeCurrent();
        if (decodeGraphExec != null) {
            ctx.driver().destroyGraphExec(decodeGraphExec);
            decodeGraphExec = null;
        }
        if (decodeGraph != null) {
            ctx.driver().destroyGraph(decodeGraph);
            decodeGraph = null;
        }
        if (allLogits != null) {
            allLogits.close();
            allLogits = null;
        }
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                // keep freeing the rest; the context release below frees what is left anyway
            }
        }
        owned.clear();
        ctx.close();
    }
}
