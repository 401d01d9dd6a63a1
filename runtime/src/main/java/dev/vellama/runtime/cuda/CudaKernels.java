package dev.vellama.runtime.cuda;

import dev.vellama.gguf.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Typed launches of the kernels in {@code runtime/src/main/cuda}, queued in order on the context's stream.
 * Activations are F32 device buffers laid out row-major [token][feature], as on the CPU path. Not thread-safe:
 * one instance per forward pass.
 */
public final class CudaKernels implements AutoCloseable {
    /** Every kernel entry point the runtime launches; the PTX test checks each is present. */
    public static final List<String> KERNEL_NAMES = List.of(
            "matvec_q4_0", "matvec_q8_0", "matvec_q4_k", "matvec_q6_k", "matvec_f16",
            "matvec2_q4_0", "matvec2_q8_0", "matvec2_q4_k", "matvec2_q6_k", "matvec2_f16",
            "matvecn_q4_0", "matvecn_q8_0", "matvecn_q4_k", "matvecn_q6_k", "matvecn_f16",
            "matvec_group_q4_0", "matvec_group_q8_0", "matvec_group_q4_k", "matvec_group_q6_k", "matvec_group_f16",
            "matvec2_group_q4_0", "matvec2_group_q8_0", "matvec2_group_q4_k", "matvec2_group_q6_k", "matvec2_group_f16",
            "matmul_q4_0", "matmul_q8_0", "matmul_q4_k", "matmul_q6_k", "matmul_f16",
            "matmul_mma_q4_0", "matmul_mma_q8_0", "matmul_mma_q4_k", "matmul_mma_q6_k", "matmul_mma_f16", "to_half_rows",
            "get_rows_q4_0", "get_rows_q8_0", "get_rows_q4_k", "get_rows_q6_k", "get_rows_f16",
            "rmsnorm", "add_rmsnorm", "softmax", "rope", "rope_store_kv", "shift_kv", "turn_ring_keys", "store_kv",
            "attention_split", "attention_combine", "attention_tiled", "attention_tiled_mma", "swiglu", "geglu", "scale",
            "scale_by_position", "softcap", "add", "add_bias");

    /** The tile of one matmul block: weight rows by tokens (MM_ROWS, MM_TOKENS, MM_THREADS in matmul.cu). */
    static final int MATMUL_ROWS = 64;
    static final int MATMUL_TOKENS = 64;
    static final int MATMUL_THREADS = 256;
    /** The tensor-core matmul's tile and step (MH_ROWS, MH_TOKENS, MH_K, MH_THREADS in matmul_mma.cu). */
    static final int MMA_ROWS = 128;
    static final int MMA_TOKENS = 64;
    static final int MMA_K = 64;
    static final int MMA_THREADS = 256;
    private static final int MATVEC_WARPS = 4; // warps per matvec block
    /** Tokens one matvecn launch takes (MV_TOKENS in matmul.cu). */
    static final int MATVEC_TOKENS = 8;
    /**
     * Weight rows per warp in matrix-vector products: 0 chooses per matrix ({@link #warpRows}); 1 (matvec_*) or 2
     * (matvec2_*) force one kernel, set with {@code -Dvellama.cuda.matvecRows} to compare them.
     */
    private final int matvecWarpRows;
    /** Measured on an H100 (docs/cuda.md): two rows per warp pay only for 8-bit and 4_0 weights on tall matrices. */
    private static final int TWO_ROWS_MIN_ROWS = 4096;
    private static final int THREADS = 256;
    private static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

    private final CudaContext ctx;
    private final CudaDriver d;
    private final Arena arena = Arena.ofConfined();
    private final KernelArgs args = new KernelArgs(arena);
    private final Map<GpuMatrix.Format, MemorySegment> matvec = new EnumMap<>(GpuMatrix.Format.class);
    private final Map<GpuMatrix.Format, MemorySegment> matvec2 = new EnumMap<>(GpuMatrix.Format.class);
    private final Map<GpuMatrix.Format, MemorySegment> matvecN = new EnumMap<>(GpuMatrix.Format.class);
    private final Map<GpuMatrix.Format, MemorySegment> matvecGroup = new EnumMap<>(GpuMatrix.Format.class);
    private final Map<GpuMatrix.Format, MemorySegment> matvec2Group = new EnumMap<>(GpuMatrix.Format.class);
    private final Map<GpuMatrix.Format, MemorySegment> matmul = new EnumMap<>(GpuMatrix.Format.class);
    private final Map<GpuMatrix.Format, MemorySegment> matmulMma = new EnumMap<>(GpuMatrix.Format.class);
    private final Map<GpuMatrix.Format, MemorySegment> getRows = new EnumMap<>(GpuMatrix.Format.class);
    private final MemorySegment toHalfRows;
    /**
     * Whether prompt chunks go through the tensor cores: matrices whose width is a multiple of 64 (matmul_mma_*),
     * attention over heads of a multiple of 16 features (attention_tiled_mma).
     */
    private final boolean tensorCores;
    private DeviceBuffer halfRows;   // activations rounded to F16 for the tensor-core matmul, grown on demand
    private DeviceBuffer rowScales;  // the power of two each of those rows was divided by
    private final MemorySegment rmsnorm;
    private final MemorySegment addRmsnorm;
    private final MemorySegment ropeStoreKv;
    private final MemorySegment shiftKv;
    private final MemorySegment turnRingKeys;
    /** An int 0 in device memory: the origin of caches that are not rings. */
    private final DeviceBuffer noOrigin;
    private final MemorySegment softmax;
    private final MemorySegment rope;
    private final MemorySegment storeKv;
    private final MemorySegment attentionSplit;
    private final MemorySegment attentionCombine;
    private final MemorySegment attentionTiled;
    private final MemorySegment attentionTiledMma;
    private final MemorySegment swiglu;
    private final MemorySegment geglu;
    private final MemorySegment scale;
    private final MemorySegment scaleByPosition;
    private final MemorySegment softcap;
    private final MemorySegment add;
    private final MemorySegment addBias;
    private int attentionSharedLimit = DEFAULT_SHARED_LIMIT;
    private DeviceBuffer attentionParts; // decode attention's per-block partial results

    /**
     * Kernels on {@code ctx}; prompt chunks on the tensor cores when {@code -Dvellama.cuda.matmul=mma} (the default
     * {@code simt} keeps the F32 tiled kernel until the tensor-core one has been measured on a GPU).
     */
    public CudaKernels(CudaContext ctx) {
        this(ctx, tensorCoresByDefault());
    }

    /** Kernels on {@code ctx}, prompt chunks on the tensor cores or not. */
    public CudaKernels(CudaContext ctx, boolean tensorCores) {
        this.ctx = ctx;
        this.tensorCores = tensorCores;
        this.d = ctx.driver();
        String rows = System.getProperty("vellama.cuda.matvecRows", "auto");
        matvecWarpRows = switch (rows) {
            case "auto" -> 0;
            case "1" -> 1;
            case "2" -> 2;
            default -> throw new IllegalArgumentException("vellama.cuda.matvecRows is auto, 1 or 2, not " + rows);
        };
        for (GpuMatrix.Format f : GpuMatrix.Format.values()) {
            matvec.put(f, ctx.function("matvec_" + f.suffix));
            matvec2.put(f, ctx.function("matvec2_" + f.suffix));
            matvecN.put(f, ctx.function("matvecn_" + f.suffix));
            matvecGroup.put(f, ctx.function("matvec_group_" + f.suffix));
            matvec2Group.put(f, ctx.function("matvec2_group_" + f.suffix));
            matmul.put(f, ctx.function("matmul_" + f.suffix));
            matmulMma.put(f, ctx.function("matmul_mma_" + f.suffix));
            getRows.put(f, ctx.function("get_rows_" + f.suffix));
        }
        toHalfRows = ctx.function("to_half_rows");
        rmsnorm = ctx.function("rmsnorm");
        addRmsnorm = ctx.function("add_rmsnorm");
        ropeStoreKv = ctx.function("rope_store_kv");
        shiftKv = ctx.function("shift_kv");
        turnRingKeys = ctx.function("turn_ring_keys");
        noOrigin = ctx.allocate(4);
        ctx.upload(new int[] {0}, 0, 1, noOrigin);
        softmax = ctx.function("softmax");
        rope = ctx.function("rope");
        storeKv = ctx.function("store_kv");
        attentionSplit = ctx.function("attention_split");
        attentionCombine = ctx.function("attention_combine");
        attentionTiled = ctx.function("attention_tiled");
        attentionTiledMma = ctx.function("attention_tiled_mma");
        swiglu = ctx.function("swiglu");
        geglu = ctx.function("geglu");
        scale = ctx.function("scale");
        scaleByPosition = ctx.function("scale_by_position");
        softcap = ctx.function("softcap");
        add = ctx.function("add");
        addBias = ctx.function("add_bias");
    }

    private static boolean tensorCoresByDefault() {
        String kind = System.getProperty("vellama.cuda.matmul", "simt");
        return switch (kind) {
            case "simt" -> false;
            case "mma" -> true;
            default -> throw new IllegalArgumentException("vellama.cuda.matmul is simt or mma, not " + kind);
        };
    }

    /** Whether prompt chunks go through the tensor cores where a matrix's width allows. */
    public boolean tensorCores() {
        return tensorCores;
    }

    /**
     * Sets aside the tensor-core matmul's F16 copy of up to {@code tokens} activation rows of {@code cols}, so that
     * no allocation happens between launches (nothing when the tensor cores are not used).
     */
    public void reserveMatmul(int tokens, int cols) {
        if (!tensorCores) {
            return;
        }
        halfRows = atLeast(halfRows, 2L * tokens * cols);
        rowScales = atLeast(rowScales, 4L * tokens);
    }

    /** {@code buffer} when it holds {@code bytes}, else a new one that does (the old one freed). */
    private DeviceBuffer atLeast(DeviceBuffer buffer, long bytes) {
        if (buffer != null && buffer.byteSize() >= bytes) {
            return buffer;
        }
        if (buffer != null) {
            buffer.close();
        }
        return ctx.allocate(bytes);
    }

    public CudaContext context() {
        return ctx;
    }

    /**
     * Cache rows and threads per decode-attention block, query tokens, cache rows and threads per prefill-attention
     * block (AS_SPLIT, AS_THREADS, AT_Q, AT_K and AT_THREADS in attention.cu).
     */
    static final int ATTENTION_SPLIT = 256;
    private static final int ATTENTION_SPLIT_THREADS = 128;
    static final int ATTENTION_QUERIES = 32;
    private static final int ATTENTION_KEYS = 64;
    private static final int ATTENTION_TILE_THREADS = 256;

    /**
     * Lets attention over {@code heads} heads of {@code headDim} see up to {@code positions} cache rows: decode
     * keeps a partial result per head and block of {@value #ATTENTION_SPLIT} rows, and prefill's tiles take more
     * than 48 KiB of shared memory for wide heads, which needs an opt-in up to what the device allows.
     *
     * @throws IllegalArgumentException when the device cannot hold a prefill tile of such heads
     */
    public void reserveAttention(int heads, int headDim, int positions) {
        attentionParts = atLeast(attentionParts, 4L * heads * ceil(positions, ATTENTION_SPLIT) * (headDim + 2));
        int need = prefillShared(headDim);
        if (need <= attentionSharedLimit) {
            return;
        }
        int max = ctx.deviceAttribute(CudaDriver.ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        if (need > max) {
            throw new IllegalArgumentException("attention heads of " + headDim + " features need " + need
                    + " bytes of shared memory per block; this GPU allows " + max);
        }
        d.setFunctionAttribute(prefillAttention(headDim), CudaDriver.FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES, need);
        attentionSharedLimit = need;
    }

    /** Whether prefill attention over heads of this width runs on the tensor cores. */
    private boolean tensorCoreAttention(int headDim) {
        return tensorCores && headDim % 16 == 0;
    }

    private MemorySegment prefillAttention(int headDim) {
        return tensorCoreAttention(headDim) ? attentionTiledMma : attentionTiled;
    }

    private int prefillShared(int headDim) {
        return tensorCoreAttention(headDim) ? mmaShared(headDim) : tiledShared(headDim);
    }

    /** attention_mma_shared in attention.cu (with 32 bytes to align the tiles). */
    private static int mmaShared(int headDim) {
        return 32 + 2 * ATTENTION_QUERIES * (headDim + 8) + 2 * 2 * ATTENTION_KEYS * (headDim + 8)
                + 4 * ATTENTION_QUERIES * (ATTENTION_KEYS + 4) + 2 * ATTENTION_QUERIES * (ATTENTION_KEYS + 8)
                + 4 * ATTENTION_QUERIES * (headDim + 4) + 4 * 3 * ATTENTION_QUERIES;
    }

    /** attention_tiled_shared in attention.cu. */
    private static int tiledShared(int headDim) {
        return 4 * ATTENTION_QUERIES * (headDim + 1) * 2 + 2 * ATTENTION_KEYS * (headDim + 2) * 2
                + 4 * ATTENTION_QUERIES * (ATTENTION_KEYS + 1) + 4 * 3 * ATTENTION_QUERIES;
    }

    /** y[rows] = W · x[cols]. */
    public void matvec(GpuMatrix w, DeviceBuffer x, DeviceBuffer y) {
        args.reset().ptr(w.pointer()).ptr(x.pointer()).ptr(y.pointer()).i32(w.rows()).i32(w.cols());
        int warpRows = warpRows(w);
        launch((warpRows == 2 ? matvec2 : matvec).get(w.format()), ceil(w.rows(), MATVEC_WARPS * warpRows), 1,
                MATVEC_WARPS * 32, 0);
    }

    /**
     * y_i = W_i · x for two or three matrices of one format and width in one launch (q, k and v; gate and up):
     * each row exactly what {@link #matvec} gives it. {@code w2} and {@code y2} may be null.
     *
     * @throws IllegalArgumentException when the matrices differ in format or width
     */
    public void matvecGroup(GpuMatrix w0, GpuMatrix w1, GpuMatrix w2, DeviceBuffer x, DeviceBuffer y0, DeviceBuffer y1,
                            DeviceBuffer y2) {
        if (!groupable(w0, w1, w2)) {
            throw new IllegalArgumentException("a matvec group takes matrices of one format and width");
        }
        // two rows per warp only where each matrix alone would take them (the results are the same either way)
        int warpRows = Math.min(warpRows(w0), Math.min(warpRows(w1), w2 == null ? 2 : warpRows(w2)));
        int per = MATVEC_WARPS * warpRows;
        int rows2 = w2 == null ? 0 : w2.rows();
        args.reset().ptr(w0.pointer()).ptr(w1.pointer()).ptr(w2 == null ? 0 : w2.pointer()).ptr(x.pointer())
                .ptr(y0.pointer()).ptr(y1.pointer()).ptr(y2 == null ? 0 : y2.pointer()).i32(w0.rows()).i32(w1.rows())
                .i32(rows2).i32(w0.cols());
        launch((warpRows == 2 ? matvec2Group : matvecGroup).get(w0.format()),
                ceil(w0.rows(), per) + ceil(w1.rows(), per) + ceil(rows2, per), 1, MATVEC_WARPS * 32, 0);
    }

    /** Whether {@link #matvecGroup} takes these matrices ({@code w2} may be null). */
    public static boolean groupable(GpuMatrix w0, GpuMatrix w1, GpuMatrix w2) {
        return w0.format() == w1.format() && w0.cols() == w1.cols()
                && (w2 == null || (w2.format() == w0.format() && w2.cols() == w0.cols()));
    }

    /**
     * Two rows per warp halve the activation loads, which pays where there are many rows and the weights are simple
     * to decode (Q4_0, Q8_0: 8192x2048 in 8.3 instead of 10.6 us); with fewer rows the lost parallelism and for
     * K-quants the doubled decoding cost more than they save.
     */
    private int warpRows(GpuMatrix w) {
        if (matvecWarpRows != 0) {
            return matvecWarpRows;
        }
        boolean simple = w.format() == GpuMatrix.Format.Q4_0 || w.format() == GpuMatrix.Format.Q8_0;
        return simple && w.rows() >= TWO_ROWS_MIN_ROWS ? 2 : 1;
    }

    /**
     * y[n][rows] = x[n][cols] · Wᵀ for a few tokens, each weight decoded once per {@value #MATVEC_TOKENS} tokens,
     * and each token's row exactly what {@link #matvec} gives it alone (continuous batching's decode rows).
     */
    public void matvecMany(GpuMatrix w, DeviceBuffer x, int n, DeviceBuffer y) {
        if (n == 1) {
            matvec(w, x, y);
            return;
        }
        for (int t0 = 0; t0 < n; t0 += MATVEC_TOKENS) {
            int m = Math.min(MATVEC_TOKENS, n - t0);
            args.reset().ptr(w.pointer()).ptr(x.pointer() + 4L * t0 * w.cols()).ptr(y.pointer() + 4L * t0 * w.rows())
                    .i32(w.rows()).i32(w.cols()).i32(m);
            launch(matvecN.get(w.format()), ceil(w.rows(), MATVEC_WARPS), 1, MATVEC_WARPS * 32, 0);
        }
    }

    /**
     * y[n][rows] = x[n][cols] · Wᵀ; {@link #matvec} when n is 1. With tensor cores, and a width that is a multiple
     * of {@value #MMA_K}, the activations are first rounded to F16 (each row scaled by a power of two) and the
     * products formed in F16 with F32 sums.
     */
    public void matmul(GpuMatrix w, DeviceBuffer x, int n, DeviceBuffer y) {
        if (n == 1) {
            matvec(w, x, y);
            return;
        }
        if (tensorCores && w.cols() % MMA_K == 0) {
            reserveMatmul(n, w.cols());
            args.reset().ptr(x.pointer()).ptr(halfRows.pointer()).ptr(rowScales.pointer()).i32(w.cols());
            launch(toHalfRows, n, 1, THREADS, 0);
            args.reset().ptr(w.pointer()).ptr(halfRows.pointer()).ptr(rowScales.pointer()).ptr(y.pointer())
                    .i32(w.rows()).i32(w.cols()).i32(n);
            launch(matmulMma.get(w.format()), ceil(w.rows(), MMA_ROWS), ceil(n, MMA_TOKENS), MMA_THREADS, 0);
            return;
        }
        args.reset().ptr(w.pointer()).ptr(x.pointer()).ptr(y.pointer()).i32(w.rows()).i32(w.cols()).i32(n);
        launch(matmul.get(w.format()), ceil(w.rows(), MATMUL_ROWS), ceil(n, MATMUL_TOKENS), MATMUL_THREADS, 0);
    }

    /** out[t][cols] = row ids[t] of W, decoded to F32; ids is an int32 device buffer of n entries. */
    public void getRows(GpuMatrix w, DeviceBuffer ids, int n, DeviceBuffer out) {
        args.reset().ptr(w.pointer()).ptr(ids.pointer()).ptr(out.pointer()).i32(w.cols());
        launch(getRows.get(w.format()), n, 1, 128, 0);
    }

    /** RMSNorm of {@code rows} contiguous rows of {@code n} values; weight may be null; out may be x. */
    public void rmsnorm(DeviceBuffer out, DeviceBuffer x, DeviceBuffer weight, int rows, int n, float eps) {
        rmsnorm(out, 0, x, 0, weight, rows, n, eps);
    }

    /** As {@link #rmsnorm(DeviceBuffer, DeviceBuffer, DeviceBuffer, int, int, float)} from float offsets. */
    public void rmsnorm(DeviceBuffer out, long outIndex, DeviceBuffer x, long xIndex, DeviceBuffer weight, int rows,
                        int n, float eps) {
        args.reset().ptr(out.pointer() + 4 * outIndex).ptr(x.pointer() + 4 * xIndex)
                .ptr(weight == null ? 0 : weight.pointer()).i32(n).f32(eps);
        launch(rmsnorm, rows, 1, Math.min(THREADS, ceil(n, 32) * 32), 0);
    }

    /**
     * The residual add and the next RMSNorm in one launch: x += r, then out = rmsnorm(x)·weight over {@code rows}
     * rows of n values (weight may be null); the same numbers as {@link #add} then {@link #rmsnorm}.
     */
    public void addRmsnorm(DeviceBuffer out, DeviceBuffer x, DeviceBuffer r, DeviceBuffer weight, int rows, int n,
                           float eps) {
        args.reset().ptr(out.pointer()).ptr(x.pointer()).ptr(r.pointer()).ptr(weight == null ? 0 : weight.pointer())
                .i32(n).f32(eps);
        launch(addRmsnorm, rows, 1, Math.min(THREADS, ceil(n, 32) * 32), 0);
    }

    /** Softmax in place over {@code rows} contiguous rows of n values. */
    public void softmax(DeviceBuffer x, int rows, int n) {
        args.reset().ptr(x.pointer()).i32(n);
        launch(softmax, rows, 1, Math.min(THREADS, ceil(n, 32) * 32), 0);
    }

    /**
     * RoPE in place on x[n][heads][headDim] for positions pos0.. with angle tables cos/sin[position][nRot/2]; pos0
     * is the int32 in device memory at {@code pos0} (positions live on the device so a CUDA graph can replay).
     */
    public void rope(DeviceBuffer x, DeviceBuffer cos, DeviceBuffer sin, int n, int heads, int headDim, int nRot,
                     DeviceBuffer pos0, boolean neox) {
        int total = n * heads * (nRot / 2);
        args.reset().ptr(x.pointer()).ptr(cos.pointer()).ptr(sin.pointer()).i32(n).i32(heads).i32(headDim)
                .i32(nRot).ptr(pos0.pointer()).i32(neox ? 1 : 0);
        launch(rope, ceil(total, THREADS), 1, THREADS, 0);
    }

    /**
     * {@link #rope} on q ([n][heads][headDim]) in place, and on k ([n][kvHeads][headDim]) as it is stored with v
     * into positions pos0.. of the F16 caches of {@code cells} rows from {@code origin} (see {@link #storeKv}), in
     * one launch: the caches get what rope, rope and storeKv give them, and k itself is left unrotated.
     */
    public void ropeStoreKv(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer kCache, DeviceBuffer vCache,
                            DeviceBuffer cos, DeviceBuffer sin, int n, int heads, int kvHeads, int headDim, int nRot,
                            DeviceBuffer pos0, boolean neox, int cells, DeviceBuffer origin) {
        ropeStoreKv(q, k, v, kCache, vCache, cos, sin, n, heads, kvHeads, headDim, nRot, pos0, neox, cells, origin,
                GgmlType.F16, GgmlType.F16);
    }

    /** The same into caches of keys and values in the formats {@code kType} and {@code vType} (see {@link #supportsCacheType}). */
    public void ropeStoreKv(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer kCache, DeviceBuffer vCache,
                            DeviceBuffer cos, DeviceBuffer sin, int n, int heads, int kvHeads, int headDim, int nRot,
                            DeviceBuffer pos0, boolean neox, int cells, DeviceBuffer origin, GgmlType kType,
                            GgmlType vType) {
        int width = kvHeads * headDim;
        checkCacheTypes(width, kType, vType);
        // the cache part starts on a whole warp (rope_store_kv_first in rope.cu)
        int total = ceil(n * heads * (nRot / 2), 32) * 32 + n * width;
        args.reset().ptr(q.pointer()).ptr(k.pointer()).ptr(v.pointer()).ptr(kCache.pointer()).ptr(vCache.pointer())
                .ptr(cos.pointer()).ptr(sin.pointer()).i32(n).i32(heads).i32(kvHeads).i32(headDim).i32(nRot)
                .ptr(pos0.pointer()).i32(neox ? 1 : 0).i32(cells).ptr(originOf(origin).pointer()).i32(kType.id())
                .i32(vType.id());
        launch(ropeStoreKv, ceil(total, THREADS), 1, THREADS, 0);
    }

    /**
     * Whether the GPU's cache kernels store and read {@code type}: F16, Q8_0 and Q4_0, the cache types llama.cpp's
     * CUDA build offers by default (kvcache.cuh).
     */
    public static boolean supportsCacheType(GgmlType type) {
        return type == GgmlType.F16 || type == GgmlType.Q8_0 || type == GgmlType.Q4_0;
    }

    /** {@return the bytes of one cache row of {@code width} values in {@code type}} */
    public static long cacheRowBytes(GgmlType type, int width) {
        return (long) width / type.blockSize() * type.bytesPerBlock();
    }

    /**
     * Refuses formats the kernels do not have, and rows that do not hold whole blocks of 32 (a warp per block). Two
     * plain calls rather than a loop over varargs: it runs at every cache launch of a decode step.
     */
    private static void checkCacheTypes(int width, GgmlType kType, GgmlType vType) {
        checkCacheType(width, kType);
        checkCacheType(width, vType);
    }

    private static void checkCacheType(int width, GgmlType t) {
        if (!supportsCacheType(t)) {
            throw new IllegalArgumentException("the GPU keeps its KV cache in f16, q8_0 or q4_0, not " + t);
        }
        if (t != GgmlType.F16 && width % 32 != 0) {
            throw new IllegalArgumentException("a " + t + " cache needs rows of a multiple of 32 values, not " + width);
        }
    }

    /**
     * Part of a context shift: cache rows [from, from + count) move to [to, to + count) (to + count <= from), each
     * key turned by the rotation {@code cos}/{@code sin} (nRot/2 pairs) as {@link #rope} turns it, values moved.
     */
    public void shiftKv(DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer cos, DeviceBuffer sin, int from, int to,
                        int count, int kvHeads, int headDim, int nRot, boolean neox) {
        shiftKv(kCache, vCache, cos, sin, from, to, count, kvHeads, headDim, nRot, neox, GgmlType.F16, GgmlType.F16);
    }

    /** The same over caches in the formats {@code kType} and {@code vType}. */
    public void shiftKv(DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer cos, DeviceBuffer sin, int from, int to,
                        int count, int kvHeads, int headDim, int nRot, boolean neox, GgmlType kType, GgmlType vType) {
        if (to < 0 || count < 0 || to + count > from) {
            throw new IllegalArgumentException("rows " + from + ".. moved to " + to + ".. overlap for " + count);
        }
        checkCacheTypes(kvHeads * headDim, kType, vType);
        if (count == 0) {
            return;
        }
        args.reset().ptr(kCache.pointer()).ptr(vCache.pointer()).ptr(cos.pointer()).ptr(sin.pointer()).i32(from)
                .i32(to).i32(count).i32(kvHeads).i32(headDim).i32(nRot).i32(neox ? 1 : 0).i32(kType.id())
                .i32(vType.id());
        launch(shiftKv, ceil(count * kvHeads * headDim, THREADS), 1, THREADS, 0);
    }

    /**
     * Part of a ring's context shift: the keys of positions [from, from + count), in the rows they occupy from
     * {@code origin} (the value before the shift), turned in place by the rotation {@code cos}/{@code sin}.
     */
    public void turnRingKeys(DeviceBuffer kCache, DeviceBuffer cos, DeviceBuffer sin, int from, int count, int kvHeads,
                             int headDim, int nRot, boolean neox, int cells, int origin) {
        turnRingKeys(kCache, cos, sin, from, count, kvHeads, headDim, nRot, neox, cells, origin, GgmlType.F16);
    }

    /** The same over keys in the format {@code kType}; a block per position and head, a thread per feature. */
    public void turnRingKeys(DeviceBuffer kCache, DeviceBuffer cos, DeviceBuffer sin, int from, int count, int kvHeads,
                             int headDim, int nRot, boolean neox, int cells, int origin, GgmlType kType) {
        checkCacheType(kvHeads * headDim, kType);
        if (count == 0) {
            return;
        }
        if (headDim > 1024) {
            throw new IllegalArgumentException("heads of " + headDim + " features exceed a block of threads");
        }
        args.reset().ptr(kCache.pointer()).ptr(cos.pointer()).ptr(sin.pointer()).i32(from).i32(count).i32(kvHeads)
                .i32(headDim).i32(nRot).i32(neox ? 1 : 0).i32(cells).i32(origin).i32(kType.id());
        launch(turnRingKeys, count * kvHeads, 1, headDim, 0);
    }

    private DeviceBuffer originOf(DeviceBuffer origin) {
        return origin == null ? noOrigin : origin;
    }

    /** Stores k and v ([n][width] F32) as F16 rows pos0.. of the caches (pos0: an int32 in device memory). */
    public void storeKv(DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer k, DeviceBuffer v, DeviceBuffer pos0,
                        int n, int width) {
        storeKv(kCache, vCache, k, v, pos0, n, width, Integer.MAX_VALUE, null);
    }

    /**
     * Stores k and v ([n][width] F32) as F16 at positions pos0.. of caches of {@code cells} rows: position p in row
     * (p + origin) % cells, origin the int in device memory at {@code origin} (null: 0). A sliding-window layer's
     * ring keeps only its window and a chunk; a context shift renumbers its positions by moving the origin.
     */
    public void storeKv(DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer k, DeviceBuffer v, DeviceBuffer pos0,
                        int n, int width, int cells, DeviceBuffer origin) {
        storeKv(kCache, vCache, k, v, pos0, n, width, cells, origin, GgmlType.F16, GgmlType.F16);
    }

    /**
     * The same into caches of keys in {@code kType} and values in {@code vType}: F16 rounded to nearest even, Q8_0
     * and Q4_0 quantized block by block as llama.cpp's reference quantizers do (rows of a multiple of 32 values).
     */
    public void storeKv(DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer k, DeviceBuffer v, DeviceBuffer pos0,
                        int n, int width, int cells, DeviceBuffer origin, GgmlType kType, GgmlType vType) {
        checkCacheTypes(width, kType, vType);
        args.reset().ptr(kCache.pointer()).ptr(vCache.pointer()).ptr(k.pointer()).ptr(v.pointer()).ptr(pos0.pointer())
                .i32(n).i32(width).i32(cells).ptr(originOf(origin).pointer()).i32(kType.id()).i32(vType.id());
        launch(storeKv, ceil(n * width, THREADS), 1, THREADS, 0);
    }

    /**
     * Causal attention of n tokens at positions pos0.. over cache rows 0..pos0+n-1, each token seeing at most its
     * last {@code window} positions ({@code Integer.MAX_VALUE}: all), scores soft-capped when {@code softcap} is
     * above 0: out[n][heads*headDim]. pos0 is the int32 in device memory at {@code pos0}; {@code positions} bounds
     * pos0 + n (a captured graph passes the cache's capacity). One token goes through blocks of
     * {@value #ATTENTION_SPLIT} cache rows and a merge, more through tiles of {@value #ATTENTION_QUERIES} queries.
     */
    public void attention(DeviceBuffer q, DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer out, int n,
                          int heads, int kvHeads, int headDim, DeviceBuffer pos0, int positions, float scale,
                          int window, float softcap) {
        attention(q, kCache, vCache, out, n, heads, kvHeads, headDim, pos0, positions, scale, window, softcap,
                Integer.MAX_VALUE, null);
    }

    /**
     * {@link #attention(DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer, int, int, int, int, DeviceBuffer, int,
     * float, int, float)} over caches of {@code cells} rows from {@code origin} (see {@link #storeKv}).
     */
    public void attention(DeviceBuffer q, DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer out, int n,
                          int heads, int kvHeads, int headDim, DeviceBuffer pos0, int positions, float scale,
                          int window, float softcap, int cells, DeviceBuffer origin) {
        attention(q, kCache, vCache, out, n, heads, kvHeads, headDim, pos0, positions, scale, window, softcap, cells,
                origin, GgmlType.F16, GgmlType.F16);
    }

    /** The same over caches of keys in {@code kType} and values in {@code vType}. */
    public void attention(DeviceBuffer q, DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer out, int n,
                          int heads, int kvHeads, int headDim, DeviceBuffer pos0, int positions, float scale,
                          int window, float softcap, int cells, DeviceBuffer origin, GgmlType kType, GgmlType vType) {
        checkCacheTypes(kvHeads * headDim, kType, vType);
        int splits = ceil(positions, ATTENTION_SPLIT);
        if (attentionParts == null || attentionParts.byteSize() < 4L * heads * splits * (headDim + 2)
                || prefillShared(headDim) > attentionSharedLimit) {
            throw new IllegalStateException("attention over " + positions + " positions needs reserveAttention first");
        }
        if (n == 1) {
            args.reset().ptr(q.pointer()).ptr(kCache.pointer()).ptr(vCache.pointer()).ptr(attentionParts.pointer())
                    .i32(heads).i32(kvHeads).i32(headDim).ptr(pos0.pointer()).f32(scale).i32(window).f32(softcap)
                    .i32(splits).i32(cells).ptr(originOf(origin).pointer()).i32(kType.id()).i32(vType.id());
            launch(attentionSplit, splits, heads, ATTENTION_SPLIT_THREADS, 4 * (headDim + ATTENTION_SPLIT + 32));
            args.reset().ptr(attentionParts.pointer()).ptr(out.pointer()).i32(headDim).ptr(pos0.pointer()).i32(splits);
            launch(attentionCombine, heads, 1, Math.min(THREADS, ceil(headDim, 32) * 32), 0);
            return;
        }
        args.reset().ptr(q.pointer()).ptr(kCache.pointer()).ptr(vCache.pointer()).ptr(out.pointer()).i32(heads)
                .i32(kvHeads).i32(headDim).ptr(pos0.pointer()).f32(scale).i32(window).f32(softcap).i32(n).i32(cells)
                .ptr(originOf(origin).pointer()).i32(kType.id()).i32(vType.id());
        launch(prefillAttention(headDim), ceil(n, ATTENTION_QUERIES), heads, ATTENTION_TILE_THREADS,
                prefillShared(headDim));
    }

    /** gate = silu(gate) · up over n values. */
    public void swiglu(DeviceBuffer gate, DeviceBuffer up, int n) {
        args.reset().ptr(gate.pointer()).ptr(up.pointer()).i32(n);
        launch(swiglu, ceil(n, THREADS), 1, THREADS, 0);
    }

    /** gate = gelu(gate) · up over n values (tanh form of GELU). */
    public void geglu(DeviceBuffer gate, DeviceBuffer up, int n) {
        args.reset().ptr(gate.pointer()).ptr(up.pointer()).i32(n);
        launch(geglu, ceil(n, THREADS), 1, THREADS, 0);
    }

    /** x *= s over n values. */
    public void scale(DeviceBuffer x, float s, int n) {
        args.reset().ptr(x.pointer()).f32(s).i32(n);
        launch(scale, ceil(n, THREADS), 1, THREADS, 0);
    }

    /**
     * x[t][i] *= factors[pos0 + t] over n rows of {@code width}: a per-position factor (the queries' attention
     * temperature), pos0 the int32 in device memory at {@code pos0}.
     */
    public void scaleByPosition(DeviceBuffer x, DeviceBuffer factors, int n, int width, DeviceBuffer pos0) {
        args.reset().ptr(x.pointer()).ptr(factors.pointer()).i32(n).i32(width).ptr(pos0.pointer());
        launch(scaleByPosition, ceil(n * width, THREADS), 1, THREADS, 0);
    }

    /** x = cap · tanh(x / cap) over n values. */
    public void softcap(DeviceBuffer x, float cap, int n) {
        args.reset().ptr(x.pointer()).f32(cap).i32(n);
        launch(softcap, ceil(n, THREADS), 1, THREADS, 0);
    }

    /** dst += src over n values. */
    public void add(DeviceBuffer dst, DeviceBuffer src, int n) {
        args.reset().ptr(dst.pointer()).ptr(src.pointer()).i32(n);
        launch(add, ceil(n, THREADS), 1, THREADS, 0);
    }

    /** x[t][i] += bias[i] for n values in rows of {@code width}. */
    public void addBias(DeviceBuffer x, DeviceBuffer bias, int width, int n) {
        args.reset().ptr(x.pointer()).ptr(bias.pointer()).i32(width).i32(n);
        launch(addBias, ceil(n, THREADS), 1, THREADS, 0);
    }

    private void launch(MemorySegment fn, int gridX, int gridY, int block, int shared) {
        d.launchKernel(fn, gridX, gridY, 1, block, 1, 1, shared, ctx.stream(), args.pointers());
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }

    @Override
    public void close() {
        if (halfRows != null) {
            halfRows.close();
        }
        if (rowScales != null) {
            rowScales.close();
        }
        if (attentionParts != null) {
            attentionParts.close();
        }
        noOrigin.close();
        arena.close();
    }
}
