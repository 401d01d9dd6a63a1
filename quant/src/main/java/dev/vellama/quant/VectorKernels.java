package dev.vellama.quant;

import static dev.vellama.quant.BlockLayouts.QK_K;
import static dev.vellama.quant.BlockLayouts.f16;
import static dev.vellama.quant.BlockLayouts.i8;

import java.lang.constant.ConstantDescs;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;

import dev.vellama.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels written with the Vector API, for one float species. This class is a template: {@link
 * VectorKernelsFactory} defines it as a hidden class per species, passing the species as class data, so that
 * every species below is a {@code static final} constant, which C2 needs to emit SIMD code. Never refer to it by
 * name from other classes. Every Vector value stays inside the method that creates it (no boxing).
 *
 * <p>Matvec of Q8_0, Q4_0, Q4_K and Q6_K quantizes the activations to int8 once per call and multiplies integers
 * (the "int8" designs); other types are decoded block by block in registers or into a small per-thread float
 * buffer, then multiplied with F32 activations ("dequantize and FMA"); matmul decodes a tile of rows once and
 * reuses it for every token.
 */
final class VectorKernels extends PooledKernels {
    private static final VectorSpecies<Float> FS = speciesFromClassData();
    private static final int L = FS.length();
    /** Bytes loaded per step: L lanes, but at least 8 (the narrowest byte vector). */
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, 8 * L)));
    private static final int BL = BS.length();
    /** Float vectors per byte vector (1, or 2 at 128-bit floats). */
    private static final int BPARTS = BL / L;
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Byte and short vectors of 2L lanes, for the int8 design: bytes widen to shorts, shorts pair into L ints. */
    private static final VectorSpecies<Byte> B2L = VectorSpecies.of(byte.class, VectorShape.forBitSize(FS.vectorBitSize() / 2));
    private static final VectorSpecies<Short> S2L = VectorSpecies.of(short.class, FS.vectorShape());
    /**
     * Q8_0 matvec design: "int8" (default, measured faster) quantizes the activations to Q8_0 once per call and
     * multiplies integers; "fma" converts weights to floats and multiplies F32 activations. Kept selectable so
     * the comparison in docs/decisions.md can be rerun.
     */
    private static final boolean INT8_Q8_0 = !"fma".equals(System.getProperty("vellama.matvec.q8_0", "int8"));
    /**
     * Q4_0 matvec design: "int8" (default) multiplies the nibbles with int8 activations in 16-bit lanes; "fma"
     * converts them to floats and multiplies F32 activations. The int8 design needs 16 short lanes in one
     * register, so 128-bit machines keep "fma".
     */
    private static final boolean INT8_Q4_0 = L >= 8 && !"fma".equals(System.getProperty("vellama.matvec.q4_0", "packed"));
    /**
     * Q4_0 matvec design "packed" (the default where the int8 design runs; "int8" keeps the file's layout): a
     * copy of each Q4_0 matrix with {@link #PACK_ROWS} rows side by side, made on its first matvec, so that one
     * short lane holds one row and a block's 32 products add up in place without any horizontal sum (see
     * {@link #packedQ4_0}). The Q4_0 down projection of a 1B model: 0.26 against 0.79 ms per matvec, 2 threads
     * ({@code MatrixTimes} in the bench module, docs/performance.md).
     */
    private static final boolean PACKED_Q4_0 = INT8_Q4_0 && !"int8".equals(System.getProperty("vellama.matvec.q4_0", "packed"));
    /** Rows of a packed Q4_0 group: one per short lane of a full-width vector. */
    private static final int PACK_ROWS = 2 * L;
    private static final java.lang.foreign.ValueLayout.OfFloat FLOAT_LE =
            java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Bytes of one block of a packed group. */
    private static final long PACK_BLOCK_BYTES = PackedWeights.blockBytes(GgmlType.Q4_0, PACK_ROWS);
    /**
     * Q4_K matvec design "packed" (default at 256 and 512 bits; "int8" keeps the file's layout): the packed copy
     * of {@link PackedWeights}, sums of 16 products per lane (|·| ≤ 16·15·127 fits a short).
     */
    private static final boolean PACKED_Q4_K = L >= 8 && L <= 16
            && "packed".equals(System.getProperty("vellama.matvec.q4_k", "packed"));
    /**
     * Q6_K matvec design "packed" (default at 256 and 512 bits; "int8" keeps the file's layout): the packed copy
     * of {@link PackedWeights}, a byte per quant, sums of 8 products per lane (see {@link #packedQ6_K}).
     */
    private static final boolean PACKED_Q6_K = L >= 8 && L <= 16
            && "packed".equals(System.getProperty("vellama.matvec.q6_k", "packed"));
    /** Bytes of one Q6_K super-block of a packed group. */
    private static final long PACK_Q6_K_BYTES = PackedWeights.blockBytes(GgmlType.Q6_K, PACK_ROWS);
    /** L bytes: the scales of L rows of a packed group, which widen to one float vector. */
    private static final VectorSpecies<Byte> B1L = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, 8 * L)));
    /** Bytes of one Q4_K super-block of a packed group. */
    private static final long PACK_Q4_K_BYTES = PackedWeights.blockBytes(GgmlType.Q4_K, PACK_ROWS);
    /**
     * Q5_K matvec design "packed" (default at 256 and 512 bits; "fma" decodes the file's blocks to floats): the
     * packed copy of {@link PackedWeights}, Q4_K's kernel with the fifth bits ORed in and sums of 16 products of
     * q − 16 per lane (see {@link #packedQ5_K}).
     */
    private static final boolean PACKED_Q5_K = L >= 8 && L <= 16
            && "packed".equals(System.getProperty("vellama.matvec.q5_k", "packed"));
    /** Bytes of one Q5_K super-block of a packed group. */
    private static final long PACK_Q5_K_BYTES = PackedWeights.blockBytes(GgmlType.Q5_K, PACK_ROWS);
    /** The 32 nibbles of a Q4_0 block as 16 shorts (low nibble: element j, high nibble: element j+16). */
    private static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;
    /** Float vectors per 16 shorts. */
    private static final int S16_PARTS = 16 / L;
    /**
     * Whether the hardware has 256-bit vectors: the K-quant int8 designs handle a super-block's eight scales as
     * one 8-float vector, which would run as slow Java code without them (even when a narrower width is forced).
     */
    private static final boolean HAS_F8 = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
    /**
     * Q4_K matvec design without the packed copy (rows that are not whole groups, or "int8"): "int8" (measured 2.3x
     * faster than "fma") quantizes the activations to int8 (one scale per
     * 32) once per call and multiplies nibbles with them in 16-bit lanes; "fma" converts nibbles to floats and
     * multiplies F32 activations. The int8 design needs float vectors of at most 512 bits (a load of weights
     * spans at most two 32-byte groups).
     */
    private static final boolean INT8_Q4_K = L <= 16 && HAS_F8 && !"fma".equals(System.getProperty("vellama.matvec.q4_k", "packed"));
    /**
     * Q6_K matvec design without the packed copy (rows that are not whole groups, or "int8"): "int8" (measured
     * about 1.4x faster than "fma": activations to int8 once per call, as for Q4_K) or "fma".
     */
    private static final boolean INT8_Q6_K = L <= 16 && HAS_F8 && !"fma".equals(System.getProperty("vellama.matvec.q6_k", "packed"));
    /** Float lanes 8..15: at 512 bits one Q4_K weight load spans two nibble groups, eight int lanes each. */
    private static final VectorMask<Float> UPPER8 = VectorMask.fromLong(FS, L == 16 ? 0xFF00L : 0L);
    /** Weight shorts per step of the Q4_K int8 design: 2L lanes of S2L, one full float-width register. */
    private static final int Q4K_STEP = 2 * L;
    /** The eight sub-block scales or mins of a Q4_K super-block: a long broadcast to 128 bits (C2 has no 1-lane vectors), then 8 floats. */
    private static final VectorSpecies<Long> LONG2 = LongVector.SPECIES_128;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;


    /** Floats decoded per step of a matvec row: one K-quant super-block, eight 32-blocks; stays in L1. */
    private static final int CHUNK = 256;
    /** Bytes of decoded weights a matmul tile holds (per thread; L2 is 1 MiB or more on current x86 and ARM cores). */
    private static final int TILE_BYTES = Integer.getInteger("vellama.matmul.tileBytes", 512 * 1024);
    /** Matmul work is split among threads in units of this many rows (the micro-kernel's height). */
    private static final int TILE_ROWS = 4;
    /**
     * Chunks of at most this many tokens go through {@link #matvecMany} instead of panels when the matrix is packed.
     * {@code vellama bench -p N -n 0 -r 30}, 1B files, 2 threads: Q4_0 pp2 26.5 against 13.4 t/s with panels, pp4 47
     * against 22, pp8 51–56 against 38–43, pp12 58/54, pp16 57/49, pp24 62/71, pp32 61/74; Q4_K_M pp4 41/21, pp8
     * 49/41, pp16 54/54. (Q8_0, not packed, has no batched kernel and keeps panels: pp8 23 against 35.) Up to 40
     * tokens after the four-token kernel took two groups per pass: pp19 62–66 against 64–67, pp32 71–72 against
     * 79–82 (2026-12-07). {@code -Dvellama.matmul.manyTokens} moves it.
     */
    private static final int MANY_MAX_TOKENS = Integer.getInteger("vellama.matmul.manyTokens", 12);

    @SuppressWarnings("unchecked")
    private static VectorSpecies<Float> speciesFromClassData() {
        try {
            VectorSpecies<?> s = MethodHandles.classData(MethodHandles.lookup(), ConstantDescs.DEFAULT_NAME, VectorSpecies.class);
            return s == null ? FloatVector.SPECIES_PREFERRED : (VectorSpecies<Float>) s.check(float.class);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The sum of a vector's lanes in one fixed order: halves added until 128 bits, then the four lanes as
     * (0 + 2) + (1 + 3). {@code reduceLanes(ADD)} leaves the order to the implementation, and the interpreter and C2
     * do add in different orders: the same kernel on the same input gave results a rounding apart before and after
     * the JIT compiled it. A sequence's numbers must not depend on that, nor on which kernel serves it in a batch,
     * so every kernel sums lanes here.
     */
    static float sum(FloatVector v) {
        if (v.length() == 16) {
            v = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_256, 0))
                    .add((FloatVector) v.reinterpretShape(FloatVector.SPECIES_256, 1));
        }
        if (v.length() == 8) {
            v = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_128, 0))
                    .add((FloatVector) v.reinterpretShape(FloatVector.SPECIES_128, 1));
        }
        return (v.lane(0) + v.lane(2)) + (v.lane(1) + v.lane(3));
    }

    VectorKernels(int threads) {
        super(threads, "vellama-vector");
    }

    /** The float vector width in bits. */
    int vectorBits() {
        return FS.vectorBitSize();
    }

    @Override
    public String description() {
        return "Vector API, " + FS.vectorBitSize() + "-bit floats, " + KernelSelector.compilerDescription() + ", "
                + threads() + (threads() == 1 ? " thread" : " threads");
    }

    @Override
    public void matvec(WeightMatrix w, float[] x, float[] out) {
        checkMatvec(w, x, out);
        if (packs(w)) {
            packed(w);
            runMatrixJob(w, x, 1, out, w.rows() / PACK_ROWS);
            return;
        }
        runMatrixJob(w, x, 1, out, w.rows());
    }

    @Override
    public void matmul(WeightMatrix w, float[] x, int n, float[] out) {
        checkMatmul(w, x, n, out);
        if (n == 1) {
            matvec(w, x, out);
            return;
        }
        if (packs(w) && n <= MANY_MAX_TOKENS) {
            // a short chunk (a chat turn's few tokens, a prompt's last piece) through the decode kernels, four
            // tokens per read of a group: faster than decoding panels for that few and no panel code to compile
            matvecMany(w, x, n, out);
            return;
        }
        if (packs(w)) {
            // from the packed copy too, so the file's pages of the matrix are not read again; its groups decode
            // straight into the panels' transposed order
            packed(w);
            runMatrixJob(w, x, n, out, w.rows() / PACK_ROWS);
            return;
        }
        runMatrixJob(w, x, n, out, (w.rows() + TILE_ROWS - 1) / TILE_ROWS);
    }

    /**
     * A packed matrix's short chunks are {@link #matvecMany}'s (kind 0) and its longer ones the panels' (kind 1),
     * whose rows each take the same operations in the same order whatever the others: each output is its panel
     * columns' fmas in column order, in {@link #vecmat6x4} or {@link #vecmatRows} alike, and the threads' shares
     * are the same groups of rows whatever the token count (past a process's first few small jobs, which run on one
     * thread fewer). The tiled products of other matrices take panels from
     * {@link #PANEL_MIN_TOKENS} rows on, so rows that share a call could change kind: they stay alone (−1).
     */
    @Override
    public int matmulKind(WeightMatrix w, int n) {
        if (n == 1 || packs(w) && n <= MANY_MAX_TOKENS) {
            return 0;
        }
        return packs(w) ? 1 : -1;
    }

    @Override
    public void matvecMany(WeightMatrix w, float[] x, int n, float[] out) {
        checkMatmul(w, x, n, out);
        if (n == 1) {
            matvec(w, x, out);
            return;
        }
        if (packs(w)) {
            packed(w);
            runManyJob(w, x, n, out, w.rows() / PACK_ROWS);
            return;
        }
        runManyJob(w, x, n, out, w.rows());
    }

    /** Whether products take {@code w} from its packed copy (their jobs' shares are then groups of rows). */
    private static boolean packs(WeightMatrix w) {
        return (PACKED_Q4_0 && w.type() == GgmlType.Q4_0 || PACKED_Q4_K && w.type() == GgmlType.Q4_K
                || PACKED_Q5_K && w.type() == GgmlType.Q5_K || PACKED_Q6_K && w.type() == GgmlType.Q6_K)
                && w.rows() % PACK_ROWS == 0;
    }

    /** The packed layout of {@code w}, made on the calling thread the first time (see {@link PackedWeights}). */
    private MemorySegment packed(WeightMatrix w) {
        return PackedWeights.of(w, PACK_ROWS, pool);
    }

    /** The packed layout a pool part reads; {@link #packed} made it before the job started. */
    private static MemorySegment packedReady(WeightMatrix w) {
        return PackedWeights.made(w, PACK_ROWS);
    }

    /** Rows a {@link #matvecMany} share walks at a time for all its tokens, so the block stays in L2 between them. */
    private static final int MANY_ROWS = 64;

    /**
     * A share of {@link #matvecMany}: Q4_0 (the int8 design) quantizes each token's activations once, then walks
     * blocks of rows, four tokens per pass over each block's nibbles; other types run each token's matvec over
     * a block of rows in turn (the block's weights come from cache after the first token).
     */
    @Override
    protected void manyPart(WeightMatrix w, float[] x, int n, float[] out, int part, int start, int end) {
        int cols = w.cols();
        int rows = w.rows();
        if (packs(w)) {
            manyPacked(w, x, n, out, part, start, end);
            return;
        }
        boolean mxfp4 = w.type() == GgmlType.MXFP4;
        if (INT8_Q4_0 && w.type() == GgmlType.Q4_0 || mxfp4) {
            int full = n / 4 * 4;
            // three tokens left over take the four-token kernel too, with the last one twice (cheaper than three
            // single passes); one or two go singly
            boolean padded = n - full == 3;
            int slots = padded ? n + 1 : n;
            int ds = cols / 32;
            short[] xs = shortScratch(part, slots * cols);
            float[] xd = rowScratch(part, slots * ds);
            for (int t = 0; t < n; t++) {
                if (mxfp4) {
                    quantizeActivationsAsX86(x, t * cols, cols, xs, t * cols, xd, t * ds);
                } else {
                    quantizeActivationsToShorts(x, t * cols, cols, xs, t * cols, xd, t * ds);
                }
            }
            float[] tail = null;
            if (padded) {
                System.arraycopy(xs, (n - 1) * cols, xs, n * cols, cols);
                System.arraycopy(xd, (n - 1) * ds, xd, n * ds, ds);
                tail = outScratch(part, 4 * rows);
            }
            for (int r0 = start; r0 < end; r0 += MANY_ROWS) {
                int r1 = Math.min(end, r0 + MANY_ROWS);
                for (int t = 0; t < full; t += 4) {
                    if (mxfp4) {
                        rowsMxfp4Int8x4(w, xs, t * cols, xd, t * ds, cols, out, t * rows, rows, r0, r1);
                    } else {
                        rowsQ4_0Int8x4(w, xs, t * cols, xd, t * ds, cols, out, t * rows, rows, r0, r1);
                    }
                }
                if (padded) {
                    if (mxfp4) {
                        rowsMxfp4Int8x4(w, xs, full * cols, xd, full * ds, cols, tail, 0, rows, r0, r1);
                    } else {
                        rowsQ4_0Int8x4(w, xs, full * cols, xd, full * ds, cols, tail, 0, rows, r0, r1);
                    }
                    for (int k = 0; k < 3; k++) {
                        System.arraycopy(tail, k * rows + r0, out, (full + k) * rows + r0, r1 - r0);
                    }
                } else {
                    for (int t = full; t < n; t++) {
                        if (mxfp4) {
                            rowsMxfp4Int8(w, xs, t * cols, xd, t * ds, out, t * rows, r0, r1);
                        } else {
                            rowsQ4_0Int8(w, xs, t * cols, xd, t * ds, out, t * rows, r0, r1);
                        }
                    }
                }
            }
            return;
        }
        float[] token = tokenScratch(part, cols);
        float[] result = outScratch(part, rows);
        int block = (int) Math.max(MANY_ROWS, MANY_BLOCK_BYTES / w.rowBytes());
        for (int r0 = start; r0 < end; r0 += block) {
            int r1 = Math.min(end, r0 + block);
            for (int t = 0; t < n; t++) {
                // the single-token kernels read x from index 0
                System.arraycopy(x, t * cols, token, 0, cols);
                matrixPart(w, token, 1, result, part, r0, r1);
                System.arraycopy(result, r0, out, t * rows + r0, r1 - r0);
            }
        }
    }

    /**
     * Groups [g0, g1) of a packed {@link #matvecMany} (Q4_K and Q6_K go to their own methods). Q4_0: each token's
     * activations quantized once, then every
     * group walked once, four tokens at a time ({@link #packedQ4_0x4}: the very operations of the one-token kernel
     * for each, so each row is bit-identical to its own matvec); three left over take it with the last repeated,
     * one or two go singly.
     */
    private void manyPacked(WeightMatrix w, float[] x, int n, float[] out, int part, int g0, int g1) {
        if (w.type() == GgmlType.Q4_K) {
            manyPackedQ4_K(w, x, n, out, part, g0, g1);
            return;
        }
        if (w.type() == GgmlType.Q6_K) {
            manyPackedQ6_K(w, x, n, out, part, g0, g1);
            return;
        }
        if (w.type() == GgmlType.Q5_K) {
            manyPackedQ5_K(w, x, n, out, part, g0, g1);
            return;
        }
        MemorySegment p = packedReady(w);
        int cols = w.cols();
        int rows = w.rows();
        int ds = cols / 32;
        int full = n / 4 * 4;
        boolean padded = n - full == 3;
        int slots = padded ? n + 1 : n;
        // activations, then each block's −8·Σx, then one block's room for the fold
        short[] xs = shortScratch(part, slots * (cols + ds) + 32);
        float[] xd = rowScratch(part, slots * ds);
        int sums = slots * cols;
        for (int t = 0; t < n; t++) {
            quantizeActivationsToShorts(x, t * cols, cols, xs, t * cols, xd, t * ds);
            scaledBlockSums(xs, t * cols, cols, 32, -8, xs, sums + t * ds);
            foldNibbleActivations(xs, t * cols, cols, slots * (cols + ds));
        }
        float[] tail = null;
        if (padded) {
            System.arraycopy(xs, (n - 1) * cols, xs, n * cols, cols);
            System.arraycopy(xd, (n - 1) * ds, xd, n * ds, ds);
            System.arraycopy(xs, sums + (n - 1) * ds, xs, sums + n * ds, ds);
            tail = outScratch(part, 4 * rows);
        }
        if (n == 1) {
            // one token: groups four at a time (then a pair, then one), each broadcast activation serving them all
            packedQ4_0(p, cols, xs, 0, xd, 0, sums, out, 0, g0, g1);
            return;
        }
        // a few groups at a time: each group's four-token kernels, then each left-over token over the few groups
        // at once (four groups per pass, as a one-token product takes them) while they are still in L2
        for (int gb = g0; gb < g1; gb += MANY_GROUPS) {
            int ge = Math.min(g1, gb + MANY_GROUPS);
            for (int g = gb; g < ge; ) {
                // two groups at a time where two are left: each broadcast activation serves both
                int span = X4_PAIR && g + 1 < ge ? 2 : 1;
                for (int t = 0; t < full; t += 4) {
                    if (span == 2) {
                        packedQ4_0x4Pair(p, cols, xs, t * cols, xd, t * ds, sums + t * ds, out, t * rows, rows, g);
                    } else {
                        packedQ4_0x4(p, cols, xs, t * cols, xd, t * ds, sums + t * ds, out, t * rows, rows, g);
                    }
                }
                for (int h = g; h < g + span && padded; h++) {
                    packedQ4_0x4(p, cols, xs, full * cols, xd, full * ds, sums + full * ds, tail, 0, rows, h);
                    for (int k = 0; k < 3; k++) {
                        System.arraycopy(tail, k * rows + h * PACK_ROWS, out, (full + k) * rows + h * PACK_ROWS, PACK_ROWS);
                    }
                }
                g += span;
            }
            for (int t = full; t < n && !padded; t++) {
                packedQ4_0(p, cols, xs, t * cols, xd, t * ds, sums + t * ds, out, t * rows, gb, ge);
            }
        }
    }

    /**
     * Groups a packed Q4_0 {@link #matvecMany} share walks at a time for its tokens: four, so that the tokens
     * beyond a multiple of four take the one-token kernel's four groups per pass (each token one group at a time
     * had made two tokens slower than two matvecs); four groups of an 8192-column matrix are 640 KiB, in L2.
     */
    private static final int MANY_GROUPS = 4;

    /**
     * Bytes of weights per block of a {@link #matvecMany} share for the types whose kernels quantize x at each
     * call: each block quantizes every token's activations again, so blocks are large (256 rows of a 2048-column
     * Q6_K matrix made that 10–15% of the output projection, slower than separate matvecs); 2 MiB still sits in the
     * last-level cache for the next token.
     */
    private static final long MANY_BLOCK_BYTES = 2L << 20;

    /** A matvec's share is a row range; a matmul's is a range of row tiles. */
    @Override
    protected void matrixPart(WeightMatrix w, float[] x, int n, float[] out, int part, int start, int end) {
        // a packed matrix's shares are groups of rows, a matmul's otherwise tiles
        boolean packed = packs(w);
        int unit = packed ? PACK_ROWS : TILE_ROWS;
        if (n >= PANEL_MIN_TOKENS || n > 1 && packed) {
            int kc = Math.min(w.cols(), PANEL_COLS);
            matmulPanels(w, x, n, out, start * unit, Math.min(w.rows(), end * unit),
                    rowScratch(part, Math.max(PANEL * kc, tileRows(w.cols()) * w.cols())), sumScratch(part, PANEL * kc));
        } else if (n > 1) {
            matmulTiles(w, x, n, out, start * unit, Math.min(w.rows(), end * unit), rowScratch(part, tileRows(w.cols()) * w.cols()));
        } else if (packed) {
            // a packed matvec's share is a range of groups: manyPacked's one-token case
            manyPacked(w, x, 1, out, part, start, end);
        } else if (INT8_Q8_0 && w.type() == GgmlType.Q8_0) {
            matvecQ8_0Int8(w, x, out, start, end, shortScratch(part, w.cols()), rowScratch(part, w.cols() / 32));
        } else if (INT8_Q4_K && w.type() == GgmlType.Q4_K) {
            matvecQ4_KInt8(w, x, out, start, end, shortScratch(part, w.cols()), rowScratch(part, 2 * (w.cols() / 32) + 8));
        } else if (INT8_Q6_K && w.type() == GgmlType.Q6_K) {
            matvecQ6_KInt8(w, x, out, start, end, shortScratch(part, w.cols()), rowScratch(part, 2 * (w.cols() / 16) + 16));
        } else if (INT8_Q4_0 && w.type() == GgmlType.Q4_0) {
            matvecQ4_0Int8(w, x, out, start, end, shortScratch(part, w.cols()), rowScratch(part, w.cols() / 32));
        } else if (w.type() == GgmlType.MXFP4) {
            matvecMxfp4Int8(w, x, out, start, end, shortScratch(part, w.cols()), rowScratch(part, w.cols() / 32));
        } else {
            matvecRows(w, x, out, start, end, rowScratch(part, CHUNK), sumScratch(part, w.cols() / 32 + 1));
        }
    }

    private static void matvecRows(WeightMatrix w, float[] x, float[] out, int start, int end, float[] buf, float[] xsum) {
        MemorySegment seg = w.data();
        GgmlType type = w.type();
        int cols = w.cols();
        long rowBytes = w.rowBytes();
        if (type == GgmlType.F32) {
            for (int r = start; r < end; r++) {
                out[r] = dotF32Segment(seg, r * rowBytes, x, cols);
            }
            return;
        }
        switch (type) {
            case Q8_0 -> {
                for (int r = start; r < end; r++) {
                    out[r] = dotQ8_0(seg, r * rowBytes, x, cols);
                }
            }
            case Q4_0 -> {
                for (int r = start; r < end; r++) {
                    out[r] = dotQ4_0(seg, r * rowBytes, x, cols);
                }
            }
            case Q4_K -> {
                subBlockSums(x, cols, xsum);
                for (int r = start; r < end; r++) {
                    out[r] = dotQ4_K(seg, r * rowBytes, x, xsum, cols);
                }
            }
            case Q6_K -> {
                for (int r = start; r < end; r++) {
                    out[r] = dotQ6_K(seg, r * rowBytes, x, cols);
                }
            }
            default -> {
                for (int r = start; r < end; r++) {
                    out[r] = dotDecoded(type, seg, r * rowBytes, x, cols, buf);
                }
            }
        }
    }

    /**
     * The int8 design for Q8_0: each thread quantizes x to Q8_0 (scales rounded to half, as ggml does) in its
     * scratch, then per block widens both int8 vectors to shorts, multiplies, sums lane pairs into ints and
     * applies the product of the two scales with one float FMA.
     */
    private static void matvecQ8_0Int8(WeightMatrix w, float[] x, float[] out, int start, int end, short[] xq, float[] xd) {
        int cols = w.cols();
        quantizeActivationsToShorts(x, 0, cols, xq, 0, xd, 0);
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        for (int r = start; r < end; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(FS);
            for (int b = 0; b < cols; b += 32, o += 34) {
                IntVector isum = IntVector.zero(IS);
                for (int c = 0; c < 32; c += 2 * L) {
                    ShortVector wq = (ShortVector) ByteVector.fromMemorySegment(B2L, seg, o + 2 + c, LE).convertShape(VectorOperators.B2S, S2L, 0);
                    ShortVector aq = ShortVector.fromArray(S2L, xq, b + c);
                    IntVector pr = wq.mul(aq).reinterpretAsInts();
                    isum = isum.add(pr.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(pr.lanewise(VectorOperators.ASHR, 16));
                }
                acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FS, f16(seg, o) * xd[b / 32]), acc);
            }
            out[r] = sum(acc);
        }
    }

    /**
     * The int8 design for Q4_0. A block's 16 bytes widen to 16 shorts; a mask and a shift give the low nibbles
     * (elements 0..15) and high nibbles (16..31), each minus 8, multiplied with the int8 activations that
     * {@link #quantizeActivationsToShorts} stored as shorts, and the two products added: 16 lanes holding the
     * block's sum (|lane| ≤ 2·8·127, no overflow), converted to floats and scaled by d·dx with one FMA. Two
     * blocks per step feed two accumulators. Against the "fma" design this converts 16 instead of 32 values to
     * float per block and keeps x in L1 as 2 bytes per column (rows of 8192 columns no longer spill x to L2).
     */
    private static void matvecQ4_0Int8(WeightMatrix w, float[] x, float[] out, int start, int end, short[] xs, float[] xd) {
        quantizeActivationsToShorts(x, 0, w.cols(), xs, 0, xd, 0);
        rowsQ4_0Int8(w, xs, 0, xd, 0, out, 0, start, end);
    }

    /**
     * MXFP4 as ggml multiplies it ({@code ggml_vec_dot_mxfp4_q8_0}): x quantized to Q8_0, each block's codes looked up
     * in the doubled E2M1 levels with a byte shuffle, their products with the int8 activations summed in shorts (at
     * most 2·12·127 per lane), and one FMA per block with the half E8M0 scale times x's block scale. The lookup is
     * {@code selectFrom}, not {@code rearrange(toShuffle())}: the shuffle objects were not all scalarized, and the
     * matvec took 12–14 ms instead of 8.4–9.8 over gpt-oss-20b's 24 ffn_up_exps tensors (2 threads, streamed).
     * Two rows per pass, sharing the activation loads, took 35 ms: the larger body no longer compiled to registers.
     */
    private static void matvecMxfp4Int8(WeightMatrix w, float[] x, float[] out, int start, int end, short[] xs, float[] xd) {
        quantizeActivationsAsX86(x, 0, w.cols(), xs, 0, xd, 0);
        rowsMxfp4Int8(w, xs, 0, xd, 0, out, 0, start, end);
    }

    /** Rows [start, end) of the int8 MXFP4 product with activations already quantized at xs[xsOff..], xd[xdOff..]. */
    private static void rowsMxfp4Int8(WeightMatrix w, short[] xs, int xsOff, float[] xd, int xdOff, float[] out, int outOff,
            int start, int end) {
        int cols = w.cols();
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        ByteVector levels = ByteVector.fromArray(B16, BlockLayouts.MXFP4_LEVELS, 0);
        for (int r = start; r < end; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(FS);
            for (int b = 0; b < cols; b += 32, o += 17) {
                ByteVector q = ByteVector.fromMemorySegment(B16, seg, o + 1, LE);
                ShortVector lo = (ShortVector) q.and((byte) 15).selectFrom(levels).convertShape(VectorOperators.B2S, S16, 0);
                ShortVector hi = (ShortVector) srl(q, 4).selectFrom(levels).convertShape(VectorOperators.B2S, S16, 0);
                ShortVector p = lo.mul(ShortVector.fromArray(S16, xs, xsOff + b)).add(hi.mul(ShortVector.fromArray(S16, xs, xsOff + b + 16)));
                FloatVector scale = FloatVector.broadcast(FS, BlockLayouts.e8m0Half(BlockLayouts.u8(seg, o)) * xd[xdOff + b / 32]);
                for (int part = 0; part < S16_PARTS; part++) {
                    acc = ((FloatVector) p.convertShape(VectorOperators.S2F, FS, part)).fma(scale, acc);
                }
            }
            out[outOff + r] = sum(acc);
        }
    }

    /**
     * {@link #rowsMxfp4Int8} for four tokens at once (as {@link #rowsQ4_0Int8x4} is for Q4_0): each block's codes are
     * looked up once for the four, and each token's products, scale and sum are the single-token kernel's very
     * operations in its order, so each result is bit-identical to its own matvec.
     */
    private static void rowsMxfp4Int8x4(WeightMatrix w, short[] xs, int xsOff, float[] xd, int xdOff, int tokenStride,
            float[] out, int outOff, int rows, int start, int end) {
        int cols = w.cols();
        int ds = tokenStride / 32;
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        ByteVector levels = ByteVector.fromArray(B16, BlockLayouts.MXFP4_LEVELS, 0);
        int x0 = xsOff;
        int x1 = xsOff + tokenStride;
        int x2 = xsOff + 2 * tokenStride;
        int x3 = xsOff + 3 * tokenStride;
        for (int r = start; r < end; r++) {
            long o = r * rowBytes;
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            FloatVector a2 = FloatVector.zero(FS);
            FloatVector a3 = FloatVector.zero(FS);
            for (int b = 0; b < cols; b += 32, o += 17) {
                ByteVector q = ByteVector.fromMemorySegment(B16, seg, o + 1, LE);
                ShortVector lo = (ShortVector) q.and((byte) 15).selectFrom(levels).convertShape(VectorOperators.B2S, S16, 0);
                ShortVector hi = (ShortVector) srl(q, 4).selectFrom(levels).convertShape(VectorOperators.B2S, S16, 0);
                float e = BlockLayouts.e8m0Half(BlockLayouts.u8(seg, o));
                int j = xdOff + b / 32;
                ShortVector p0 = lo.mul(ShortVector.fromArray(S16, xs, x0 + b)).add(hi.mul(ShortVector.fromArray(S16, xs, x0 + b + 16)));
                ShortVector p1 = lo.mul(ShortVector.fromArray(S16, xs, x1 + b)).add(hi.mul(ShortVector.fromArray(S16, xs, x1 + b + 16)));
                ShortVector p2 = lo.mul(ShortVector.fromArray(S16, xs, x2 + b)).add(hi.mul(ShortVector.fromArray(S16, xs, x2 + b + 16)));
                ShortVector p3 = lo.mul(ShortVector.fromArray(S16, xs, x3 + b)).add(hi.mul(ShortVector.fromArray(S16, xs, x3 + b + 16)));
                FloatVector s0 = FloatVector.broadcast(FS, e * xd[j]);
                FloatVector s1 = FloatVector.broadcast(FS, e * xd[ds + j]);
                FloatVector s2 = FloatVector.broadcast(FS, e * xd[2 * ds + j]);
                FloatVector s3 = FloatVector.broadcast(FS, e * xd[3 * ds + j]);
                for (int part = 0; part < S16_PARTS; part++) {
                    a0 = ((FloatVector) p0.convertShape(VectorOperators.S2F, FS, part)).fma(s0, a0);
                    a1 = ((FloatVector) p1.convertShape(VectorOperators.S2F, FS, part)).fma(s1, a1);
                    a2 = ((FloatVector) p2.convertShape(VectorOperators.S2F, FS, part)).fma(s2, a2);
                    a3 = ((FloatVector) p3.convertShape(VectorOperators.S2F, FS, part)).fma(s3, a3);
                }
            }
            out[outOff + r] = sum(a0);
            out[outOff + rows + r] = sum(a1);
            out[outOff + 2 * rows + r] = sum(a2);
            out[outOff + 3 * rows + r] = sum(a3);
        }
    }

    /** Rows [start, end) of the int8 Q4_0 product with activations already quantized at xs[xsOff..], xd[xdOff..]. */
    private static void rowsQ4_0Int8(WeightMatrix w, short[] xs, int xsOff, float[] xd, int xdOff, float[] out, int outOff,
            int start, int end) {
        int cols = w.cols();
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        int pairs = cols / 64 * 64;
        for (int r = start; r < end; r++) {
            long o = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(FS);
            FloatVector acc1 = FloatVector.zero(FS);
            int b = 0;
            for (; b < pairs; b += 64, o += 36) {
                ShortVector p0 = productsQ4_0(seg, o, xs, xsOff + b);
                ShortVector p1 = productsQ4_0(seg, o + 18, xs, xsOff + b + 32);
                FloatVector s0 = FloatVector.broadcast(FS, f16(seg, o) * xd[xdOff + b / 32]);
                FloatVector s1 = FloatVector.broadcast(FS, f16(seg, o + 18) * xd[xdOff + b / 32 + 1]);
                for (int part = 0; part < S16_PARTS; part++) {
                    acc0 = ((FloatVector) p0.convertShape(VectorOperators.S2F, FS, part)).fma(s0, acc0);
                    acc1 = ((FloatVector) p1.convertShape(VectorOperators.S2F, FS, part)).fma(s1, acc1);
                }
            }
            for (; b < cols; b += 32, o += 18) {
                ShortVector p0 = productsQ4_0(seg, o, xs, xsOff + b);
                FloatVector s0 = FloatVector.broadcast(FS, f16(seg, o) * xd[xdOff + b / 32]);
                for (int part = 0; part < S16_PARTS; part++) {
                    acc0 = ((FloatVector) p0.convertShape(VectorOperators.S2F, FS, part)).fma(s0, acc0);
                }
            }
            out[outOff + r] = sum(acc0.add(acc1));
        }
    }

    /**
     * {@link #rowsQ4_0Int8} for four tokens at once (activations {@code tokenStride} shorts and
     * {@code tokenStride / 32} scales apart, outputs {@code rows} apart): each block's nibbles are loaded and
     * unpacked once for the four, and every token's products, scales and sums are the very operations, in the very
     * order, of its own single-token call, so each result is bit-identical to it (continuous batching must not
     * change a sequence's numbers).
     */
    private static void rowsQ4_0Int8x4(WeightMatrix w, short[] xs, int xsOff, float[] xd, int xdOff, int tokenStride,
            float[] out, int outOff, int rows, int start, int end) {
        int cols = w.cols();
        int ds = tokenStride / 32;
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        int pairs = cols / 64 * 64;
        int x0 = xsOff;
        int x1 = xsOff + tokenStride;
        int x2 = xsOff + 2 * tokenStride;
        int x3 = xsOff + 3 * tokenStride;
        for (int r = start; r < end; r++) {
            long o = r * rowBytes;
            FloatVector a00 = FloatVector.zero(FS), a01 = FloatVector.zero(FS);
            FloatVector a10 = FloatVector.zero(FS), a11 = FloatVector.zero(FS);
            FloatVector a20 = FloatVector.zero(FS), a21 = FloatVector.zero(FS);
            FloatVector a30 = FloatVector.zero(FS), a31 = FloatVector.zero(FS);
            int b = 0;
            for (; b < pairs; b += 64, o += 36) {
                ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, seg, o + 2, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
                ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, seg, o + 20, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
                ShortVector lo0 = q0.and((short) 15).sub((short) 8);
                ShortVector hi0 = q0.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
                ShortVector lo1 = q1.and((short) 15).sub((short) 8);
                ShortVector hi1 = q1.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
                float d0 = f16(seg, o);
                float d1 = f16(seg, o + 18);
                int j = xdOff + b / 32;
                ShortVector p00 = lo0.mul(ShortVector.fromArray(S16, xs, x0 + b)).add(hi0.mul(ShortVector.fromArray(S16, xs, x0 + b + 16)));
                ShortVector p01 = lo1.mul(ShortVector.fromArray(S16, xs, x0 + b + 32)).add(hi1.mul(ShortVector.fromArray(S16, xs, x0 + b + 48)));
                ShortVector p10 = lo0.mul(ShortVector.fromArray(S16, xs, x1 + b)).add(hi0.mul(ShortVector.fromArray(S16, xs, x1 + b + 16)));
                ShortVector p11 = lo1.mul(ShortVector.fromArray(S16, xs, x1 + b + 32)).add(hi1.mul(ShortVector.fromArray(S16, xs, x1 + b + 48)));
                ShortVector p20 = lo0.mul(ShortVector.fromArray(S16, xs, x2 + b)).add(hi0.mul(ShortVector.fromArray(S16, xs, x2 + b + 16)));
                ShortVector p21 = lo1.mul(ShortVector.fromArray(S16, xs, x2 + b + 32)).add(hi1.mul(ShortVector.fromArray(S16, xs, x2 + b + 48)));
                ShortVector p30 = lo0.mul(ShortVector.fromArray(S16, xs, x3 + b)).add(hi0.mul(ShortVector.fromArray(S16, xs, x3 + b + 16)));
                ShortVector p31 = lo1.mul(ShortVector.fromArray(S16, xs, x3 + b + 32)).add(hi1.mul(ShortVector.fromArray(S16, xs, x3 + b + 48)));
                FloatVector s00 = FloatVector.broadcast(FS, d0 * xd[j]);
                FloatVector s01 = FloatVector.broadcast(FS, d1 * xd[j + 1]);
                FloatVector s10 = FloatVector.broadcast(FS, d0 * xd[ds + j]);
                FloatVector s11 = FloatVector.broadcast(FS, d1 * xd[ds + j + 1]);
                FloatVector s20 = FloatVector.broadcast(FS, d0 * xd[2 * ds + j]);
                FloatVector s21 = FloatVector.broadcast(FS, d1 * xd[2 * ds + j + 1]);
                FloatVector s30 = FloatVector.broadcast(FS, d0 * xd[3 * ds + j]);
                FloatVector s31 = FloatVector.broadcast(FS, d1 * xd[3 * ds + j + 1]);
                for (int part = 0; part < S16_PARTS; part++) {
                    a00 = ((FloatVector) p00.convertShape(VectorOperators.S2F, FS, part)).fma(s00, a00);
                    a01 = ((FloatVector) p01.convertShape(VectorOperators.S2F, FS, part)).fma(s01, a01);
                    a10 = ((FloatVector) p10.convertShape(VectorOperators.S2F, FS, part)).fma(s10, a10);
                    a11 = ((FloatVector) p11.convertShape(VectorOperators.S2F, FS, part)).fma(s11, a11);
                    a20 = ((FloatVector) p20.convertShape(VectorOperators.S2F, FS, part)).fma(s20, a20);
                    a21 = ((FloatVector) p21.convertShape(VectorOperators.S2F, FS, part)).fma(s21, a21);
                    a30 = ((FloatVector) p30.convertShape(VectorOperators.S2F, FS, part)).fma(s30, a30);
                    a31 = ((FloatVector) p31.convertShape(VectorOperators.S2F, FS, part)).fma(s31, a31);
                }
            }
            for (; b < cols; b += 32, o += 18) {
                int j = xdOff + b / 32;
                float d0 = f16(seg, o);
                ShortVector p0 = productsQ4_0(seg, o, xs, x0 + b);
                ShortVector p1 = productsQ4_0(seg, o, xs, x1 + b);
                ShortVector p2 = productsQ4_0(seg, o, xs, x2 + b);
                ShortVector p3 = productsQ4_0(seg, o, xs, x3 + b);
                for (int part = 0; part < S16_PARTS; part++) {
                    a00 = ((FloatVector) p0.convertShape(VectorOperators.S2F, FS, part)).fma(FloatVector.broadcast(FS, d0 * xd[j]), a00);
                    a10 = ((FloatVector) p1.convertShape(VectorOperators.S2F, FS, part)).fma(FloatVector.broadcast(FS, d0 * xd[ds + j]), a10);
                    a20 = ((FloatVector) p2.convertShape(VectorOperators.S2F, FS, part)).fma(FloatVector.broadcast(FS, d0 * xd[2 * ds + j]), a20);
                    a30 = ((FloatVector) p3.convertShape(VectorOperators.S2F, FS, part)).fma(FloatVector.broadcast(FS, d0 * xd[3 * ds + j]), a30);
                }
            }
            out[outOff + r] = sum(a00.add(a01));
            out[outOff + rows + r] = sum(a10.add(a11));
            out[outOff + 2 * rows + r] = sum(a20.add(a21));
            out[outOff + 3 * rows + r] = sum(a30.add(a31));
        }
    }

    /**
     * The packed Q4_0 design, groups [g0, g1) of {@link #PACK_ROWS} rows: per block, one short lane per row adds up
     * the row's 32 products of its unsigned nibbles with the int8 activations (8 short vectors, each a row's four
     * nibbles per lane, times the folded activations of {@link #foldNibbleActivations}), starting from −8·Σx (the
     * nibbles' offset of 8).
     * The sum may wrap on the way, but the block's true sum, |Σ(q − 8)·x| ≤ 32·8·127 = 32512, fits a short, so
     * the wrapped result is exact. Then each lane, a row, takes fma(sum, d·dx, acc) block after block: the order
     * ggml's scalar code sums in, with exact integer block sums. {@code sumsOff} indexes −8·Σx per block in xs.
     */
    private static void packedQ4_0(MemorySegment p, int cols, short[] xs, int xsOff, float[] xd, int xdOff, int sumsOff,
            float[] out, int outOff, int g0, int g1) {
        int blocks = cols / 32;
        int g = g0;
        if (Q4_0_QUAD) {
            for (; g + 4 <= g1; g += 4) {
                packedQ4_0Quad(p, blocks, xs, xsOff, xd, xdOff, sumsOff, out, outOff, g);
            }
        }
        for (; g + 2 <= g1; g += 2) {
            packedQ4_0Pair(p, blocks, xs, xsOff, xd, xdOff, sumsOff, out, outOff, g);
        }
        for (; g < g1; g++) {
            FloatVector acc0 = FloatVector.zero(FS);
            FloatVector acc1 = FloatVector.zero(FS);
            long base = (long) g * blocks * PACK_BLOCK_BYTES;
            for (int b = 0; b < blocks; b++, base += PACK_BLOCK_BYTES) {
                ShortVector s = ShortVector.broadcast(S2L, xs[sumsOff + b]);
                int xb = xsOff + b * 32;
                long q = base + 4L * PACK_ROWS;
                for (int y = xb; y < xb + 32; y += 4, q += 2 * PACK_ROWS) {
                    ShortVector v = ShortVector.fromMemorySegment(S2L, p, q, LE);
                    s = s.add(v.mul(xs[y])).add(v.lanewise(VectorOperators.LSHR, 4).mul(xs[y + 1]))
                            .add(v.lanewise(VectorOperators.LSHR, 8).mul(xs[y + 2])).add(v.lanewise(VectorOperators.LSHR, 12).mul(xs[y + 3]));
                }
                FloatVector dx = FloatVector.broadcast(FS, xd[xdOff + b]);
                acc0 = ((FloatVector) s.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromMemorySegment(FS, p, base, LE).mul(dx), acc0);
                acc1 = ((FloatVector) s.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromMemorySegment(FS, p, base + 4L * L, LE).mul(dx), acc1);
            }
            acc0.intoArray(out, outOff + g * PACK_ROWS);
            acc1.intoArray(out, outOff + g * PACK_ROWS + L);
        }
    }

    /**
     * Whether one-token Q4_0 products take four groups at a time ({@link #packedQ4_0Quad}). {@code
     * -Dvellama.q4_0.quad=false} keeps pairs, for comparison.
     */
    private static final boolean Q4_0_QUAD = Boolean.parseBoolean(System.getProperty("vellama.q4_0.quad", "true"));

    /**
     * {@link #packedQ4_0Pair} for groups g..g + 3: each broadcast activation serves four groups' products. At two
     * threads this kernel is bound by its vector operations, not by memory (a copy with half scales, 10% fewer
     * bytes and four more operations per block and group, was 15–25% slower), so the broadcasts a pair repeats
     * count: four groups take 4 per four elements where two pairs take 8 (see docs/performance.md for the
     * measurements). Each lane's operations are unchanged, so the results are those of the pair and single code.
     */
    private static void packedQ4_0Quad(MemorySegment p, int blocks, short[] xs, int xsOff, float[] xd, int xdOff, int sumsOff,
            float[] out, int outOff, int g) {
        long stride = (long) blocks * PACK_BLOCK_BYTES;
        FloatVector a0 = FloatVector.zero(FS), a1 = FloatVector.zero(FS);
        FloatVector b0 = FloatVector.zero(FS), b1 = FloatVector.zero(FS);
        FloatVector c0 = FloatVector.zero(FS), c1 = FloatVector.zero(FS);
        FloatVector e0 = FloatVector.zero(FS), e1 = FloatVector.zero(FS);
        long base = g * stride;
        for (int b = 0; b < blocks; b++, base += PACK_BLOCK_BYTES) {
            ShortVector s = ShortVector.broadcast(S2L, xs[sumsOff + b]);
            ShortVector t = s, u = s, w = s;
            int xb = xsOff + b * 32;
            long q = base + 4L * PACK_ROWS;
            for (int y = xb; y < xb + 32; y += 4, q += 2 * PACK_ROWS) {
                ShortVector y0 = ShortVector.broadcast(S2L, xs[y]);
                ShortVector y1 = ShortVector.broadcast(S2L, xs[y + 1]);
                ShortVector y2 = ShortVector.broadcast(S2L, xs[y + 2]);
                ShortVector y3 = ShortVector.broadcast(S2L, xs[y + 3]);
                ShortVector v = ShortVector.fromMemorySegment(S2L, p, q, LE);
                s = s.add(v.mul(y0)).add(v.lanewise(VectorOperators.LSHR, 4).mul(y1))
                        .add(v.lanewise(VectorOperators.LSHR, 8).mul(y2)).add(v.lanewise(VectorOperators.LSHR, 12).mul(y3));
                v = ShortVector.fromMemorySegment(S2L, p, q + stride, LE);
                t = t.add(v.mul(y0)).add(v.lanewise(VectorOperators.LSHR, 4).mul(y1))
                        .add(v.lanewise(VectorOperators.LSHR, 8).mul(y2)).add(v.lanewise(VectorOperators.LSHR, 12).mul(y3));
                v = ShortVector.fromMemorySegment(S2L, p, q + 2 * stride, LE);
                u = u.add(v.mul(y0)).add(v.lanewise(VectorOperators.LSHR, 4).mul(y1))
                        .add(v.lanewise(VectorOperators.LSHR, 8).mul(y2)).add(v.lanewise(VectorOperators.LSHR, 12).mul(y3));
                v = ShortVector.fromMemorySegment(S2L, p, q + 3 * stride, LE);
                w = w.add(v.mul(y0)).add(v.lanewise(VectorOperators.LSHR, 4).mul(y1))
                        .add(v.lanewise(VectorOperators.LSHR, 8).mul(y2)).add(v.lanewise(VectorOperators.LSHR, 12).mul(y3));
            }
            FloatVector dx = FloatVector.broadcast(FS, xd[xdOff + b]);
            a0 = ((FloatVector) s.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromMemorySegment(FS, p, base, LE).mul(dx), a0);
            a1 = ((FloatVector) s.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromMemorySegment(FS, p, base + 4L * L, LE).mul(dx), a1);
            b0 = ((FloatVector) t.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromMemorySegment(FS, p, base + stride, LE).mul(dx), b0);
            b1 = ((FloatVector) t.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromMemorySegment(FS, p, base + stride + 4L * L, LE).mul(dx), b1);
            c0 = ((FloatVector) u.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromMemorySegment(FS, p, base + 2 * stride, LE).mul(dx), c0);
            c1 = ((FloatVector) u.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromMemorySegment(FS, p, base + 2 * stride + 4L * L, LE).mul(dx), c1);
            e0 = ((FloatVector) w.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromMemorySegment(FS, p, base + 3 * stride, LE).mul(dx), e0);
            e1 = ((FloatVector) w.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromMemorySegment(FS, p, base + 3 * stride + 4L * L, LE).mul(dx), e1);
        }
        int o = outOff + g * PACK_ROWS;
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
        b0.intoArray(out, o + PACK_ROWS);
        b1.intoArray(out, o + PACK_ROWS + L);
        c0.intoArray(out, o + 2 * PACK_ROWS);
        c1.intoArray(out, o + 2 * PACK_ROWS + L);
        e0.intoArray(out, o + 3 * PACK_ROWS);
        e1.intoArray(out, o + 3 * PACK_ROWS + L);
    }

    /**
     * {@link #packedQ4_0} for groups g and g + 1 at once: each broadcast activation serves both groups' products
     * (half the broadcasts per product); each lane's operations are unchanged.
     */
    private static void packedQ4_0Pair(MemorySegment p, int blocks, short[] xs, int xsOff, float[] xd, int xdOff, int sumsOff,
            float[] out, int outOff, int g) {
        long stride = (long) blocks * PACK_BLOCK_BYTES;
        FloatVector a0 = FloatVector.zero(FS), a1 = FloatVector.zero(FS);
        FloatVector b0 = FloatVector.zero(FS), b1 = FloatVector.zero(FS);
        long base = g * stride;
        for (int b = 0; b < blocks; b++, base += PACK_BLOCK_BYTES) {
            ShortVector s = ShortVector.broadcast(S2L, xs[sumsOff + b]);
            ShortVector t = s;
            int xb = xsOff + b * 32;
            long q = base + 4L * PACK_ROWS;
            for (int y = xb; y < xb + 32; y += 4, q += 2 * PACK_ROWS) {
                ShortVector y0 = ShortVector.broadcast(S2L, xs[y]);
                ShortVector y1 = ShortVector.broadcast(S2L, xs[y + 1]);
                ShortVector y2 = ShortVector.broadcast(S2L, xs[y + 2]);
                ShortVector y3 = ShortVector.broadcast(S2L, xs[y + 3]);
                ShortVector v = ShortVector.fromMemorySegment(S2L, p, q, LE);
                ShortVector u = ShortVector.fromMemorySegment(S2L, p, q + stride, LE);
                s = s.add(v.mul(y0)).add(v.lanewise(VectorOperators.LSHR, 4).mul(y1))
                        .add(v.lanewise(VectorOperators.LSHR, 8).mul(y2)).add(v.lanewise(VectorOperators.LSHR, 12).mul(y3));
                t = t.add(u.mul(y0)).add(u.lanewise(VectorOperators.LSHR, 4).mul(y1))
                        .add(u.lanewise(VectorOperators.LSHR, 8).mul(y2)).add(u.lanewise(VectorOperators.LSHR, 12).mul(y3));
            }
            FloatVector dx = FloatVector.broadcast(FS, xd[xdOff + b]);
            a0 = ((FloatVector) s.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromMemorySegment(FS, p, base, LE).mul(dx), a0);
            a1 = ((FloatVector) s.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromMemorySegment(FS, p, base + 4L * L, LE).mul(dx), a1);
            b0 = ((FloatVector) t.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromMemorySegment(FS, p, base + stride, LE).mul(dx), b0);
            b1 = ((FloatVector) t.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromMemorySegment(FS, p, base + stride + 4L * L, LE).mul(dx), b1);
        }
        int o = outOff + g * PACK_ROWS;
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
        b0.intoArray(out, o + PACK_ROWS);
        b1.intoArray(out, o + PACK_ROWS + L);
    }

    /**
     * Four-token products take two groups per pass (each broadcast activation serves both); false keeps one group
     * per pass, for comparison: {@code -Dvellama.q4_0.x4pair=false}.
     */
    private static final boolean X4_PAIR = Boolean.parseBoolean(System.getProperty("vellama.q4_0.x4pair", "true"));

    /** {@link #packedQ4_0x4} for groups g and g + 1: each broadcast activation serves both groups. */
    private static void packedQ4_0x4Pair(MemorySegment p, int cols, short[] xs, int xsOff, float[] xd, int xdOff, int sumsOff,
            float[] out, int outOff, int rows, int g) {
        int blocks = cols / 32;
        long stride = (long) blocks * PACK_BLOCK_BYTES;
        FloatVector a00 = FloatVector.zero(FS), a01 = FloatVector.zero(FS), a10 = FloatVector.zero(FS), a11 = FloatVector.zero(FS);
        FloatVector a20 = FloatVector.zero(FS), a21 = FloatVector.zero(FS), a30 = FloatVector.zero(FS), a31 = FloatVector.zero(FS);
        FloatVector b00 = FloatVector.zero(FS), b01 = FloatVector.zero(FS), b10 = FloatVector.zero(FS), b11 = FloatVector.zero(FS);
        FloatVector b20 = FloatVector.zero(FS), b21 = FloatVector.zero(FS), b30 = FloatVector.zero(FS), b31 = FloatVector.zero(FS);
        long base = (long) g * stride;
        int x1 = cols, x2 = 2 * cols, x3 = 3 * cols;
        for (int b = 0; b < blocks; b++, base += PACK_BLOCK_BYTES) {
            ShortVector s0 = ShortVector.broadcast(S2L, xs[sumsOff + b]);
            ShortVector s1 = ShortVector.broadcast(S2L, xs[sumsOff + blocks + b]);
            ShortVector s2 = ShortVector.broadcast(S2L, xs[sumsOff + 2 * blocks + b]);
            ShortVector s3 = ShortVector.broadcast(S2L, xs[sumsOff + 3 * blocks + b]);
            ShortVector r0 = s0, r1 = s1, r2 = s2, r3 = s3;
            int xb = xsOff + b * 32;
            long q = base + 4L * PACK_ROWS;
            for (int j = xb; j < xb + 32; j += 4, q += 2 * PACK_ROWS) {
                ShortVector v0 = ShortVector.fromMemorySegment(S2L, p, q, LE);
                ShortVector v1 = v0.lanewise(VectorOperators.LSHR, 4);
                ShortVector v2 = v0.lanewise(VectorOperators.LSHR, 8);
                ShortVector v3 = v0.lanewise(VectorOperators.LSHR, 12);
                ShortVector w0 = ShortVector.fromMemorySegment(S2L, p, q + stride, LE);
                ShortVector w1 = w0.lanewise(VectorOperators.LSHR, 4);
                ShortVector w2 = w0.lanewise(VectorOperators.LSHR, 8);
                ShortVector w3 = w0.lanewise(VectorOperators.LSHR, 12);
                ShortVector y = ShortVector.broadcast(S2L, xs[j]);
                s0 = s0.add(v0.mul(y)); r0 = r0.add(w0.mul(y));
                y = ShortVector.broadcast(S2L, xs[j + 1]);
                s0 = s0.add(v1.mul(y)); r0 = r0.add(w1.mul(y));
                y = ShortVector.broadcast(S2L, xs[j + 2]);
                s0 = s0.add(v2.mul(y)); r0 = r0.add(w2.mul(y));
                y = ShortVector.broadcast(S2L, xs[j + 3]);
                s0 = s0.add(v3.mul(y)); r0 = r0.add(w3.mul(y));
                y = ShortVector.broadcast(S2L, xs[x1 + j]);
                s1 = s1.add(v0.mul(y)); r1 = r1.add(w0.mul(y));
                y = ShortVector.broadcast(S2L, xs[x1 + j + 1]);
                s1 = s1.add(v1.mul(y)); r1 = r1.add(w1.mul(y));
                y = ShortVector.broadcast(S2L, xs[x1 + j + 2]);
                s1 = s1.add(v2.mul(y)); r1 = r1.add(w2.mul(y));
                y = ShortVector.broadcast(S2L, xs[x1 + j + 3]);
                s1 = s1.add(v3.mul(y)); r1 = r1.add(w3.mul(y));
                y = ShortVector.broadcast(S2L, xs[x2 + j]);
                s2 = s2.add(v0.mul(y)); r2 = r2.add(w0.mul(y));
                y = ShortVector.broadcast(S2L, xs[x2 + j + 1]);
                s2 = s2.add(v1.mul(y)); r2 = r2.add(w1.mul(y));
                y = ShortVector.broadcast(S2L, xs[x2 + j + 2]);
                s2 = s2.add(v2.mul(y)); r2 = r2.add(w2.mul(y));
                y = ShortVector.broadcast(S2L, xs[x2 + j + 3]);
                s2 = s2.add(v3.mul(y)); r2 = r2.add(w3.mul(y));
                y = ShortVector.broadcast(S2L, xs[x3 + j]);
                s3 = s3.add(v0.mul(y)); r3 = r3.add(w0.mul(y));
                y = ShortVector.broadcast(S2L, xs[x3 + j + 1]);
                s3 = s3.add(v1.mul(y)); r3 = r3.add(w1.mul(y));
                y = ShortVector.broadcast(S2L, xs[x3 + j + 2]);
                s3 = s3.add(v2.mul(y)); r3 = r3.add(w2.mul(y));
                y = ShortVector.broadcast(S2L, xs[x3 + j + 3]);
                s3 = s3.add(v3.mul(y)); r3 = r3.add(w3.mul(y));
            }
            FloatVector d0 = FloatVector.fromMemorySegment(FS, p, base, LE);
            FloatVector d1 = FloatVector.fromMemorySegment(FS, p, base + 4L * L, LE);
            FloatVector e0 = FloatVector.fromMemorySegment(FS, p, base + stride, LE);
            FloatVector e1 = FloatVector.fromMemorySegment(FS, p, base + stride + 4L * L, LE);
            FloatVector dx = FloatVector.broadcast(FS, xd[xdOff + b]);
            a00 = ((FloatVector) s0.convertShape(VectorOperators.S2F, FS, 0)).fma(d0.mul(dx), a00);
            a01 = ((FloatVector) s0.convertShape(VectorOperators.S2F, FS, 1)).fma(d1.mul(dx), a01);
            b00 = ((FloatVector) r0.convertShape(VectorOperators.S2F, FS, 0)).fma(e0.mul(dx), b00);
            b01 = ((FloatVector) r0.convertShape(VectorOperators.S2F, FS, 1)).fma(e1.mul(dx), b01);
            dx = FloatVector.broadcast(FS, xd[xdOff + blocks + b]);
            a10 = ((FloatVector) s1.convertShape(VectorOperators.S2F, FS, 0)).fma(d0.mul(dx), a10);
            a11 = ((FloatVector) s1.convertShape(VectorOperators.S2F, FS, 1)).fma(d1.mul(dx), a11);
            b10 = ((FloatVector) r1.convertShape(VectorOperators.S2F, FS, 0)).fma(e0.mul(dx), b10);
            b11 = ((FloatVector) r1.convertShape(VectorOperators.S2F, FS, 1)).fma(e1.mul(dx), b11);
            dx = FloatVector.broadcast(FS, xd[xdOff + 2 * blocks + b]);
            a20 = ((FloatVector) s2.convertShape(VectorOperators.S2F, FS, 0)).fma(d0.mul(dx), a20);
            a21 = ((FloatVector) s2.convertShape(VectorOperators.S2F, FS, 1)).fma(d1.mul(dx), a21);
            b20 = ((FloatVector) r2.convertShape(VectorOperators.S2F, FS, 0)).fma(e0.mul(dx), b20);
            b21 = ((FloatVector) r2.convertShape(VectorOperators.S2F, FS, 1)).fma(e1.mul(dx), b21);
            dx = FloatVector.broadcast(FS, xd[xdOff + 3 * blocks + b]);
            a30 = ((FloatVector) s3.convertShape(VectorOperators.S2F, FS, 0)).fma(d0.mul(dx), a30);
            a31 = ((FloatVector) s3.convertShape(VectorOperators.S2F, FS, 1)).fma(d1.mul(dx), a31);
            b30 = ((FloatVector) r3.convertShape(VectorOperators.S2F, FS, 0)).fma(e0.mul(dx), b30);
            b31 = ((FloatVector) r3.convertShape(VectorOperators.S2F, FS, 1)).fma(e1.mul(dx), b31);
        }
        int o = outOff + g * PACK_ROWS;
        int h = o + PACK_ROWS;
        a00.intoArray(out, o); a01.intoArray(out, o + L); b00.intoArray(out, h); b01.intoArray(out, h + L);
        a10.intoArray(out, o + rows); a11.intoArray(out, o + rows + L); b10.intoArray(out, h + rows); b11.intoArray(out, h + rows + L);
        a20.intoArray(out, o + 2 * rows); a21.intoArray(out, o + 2 * rows + L);
        b20.intoArray(out, h + 2 * rows); b21.intoArray(out, h + 2 * rows + L);
        a30.intoArray(out, o + 3 * rows); a31.intoArray(out, o + 3 * rows + L);
        b30.intoArray(out, h + 3 * rows); b31.intoArray(out, h + 3 * rows + L);
    }

    /**
     * {@link #packedQ4_0} for four tokens (activations {@code cols} shorts, scales and sums {@code cols / 32} apart,
     * outputs {@code rows} apart) over group g: each packed short vector is loaded and shifted once for the four;
     * every token's operations are those of its own one-token call, in the same order.
     */
    private static void packedQ4_0x4(MemorySegment p, int cols, short[] xs, int xsOff, float[] xd, int xdOff, int sumsOff,
            float[] out, int outOff, int rows, int g) {
        int blocks = cols / 32;
        FloatVector a00 = FloatVector.zero(FS), a01 = FloatVector.zero(FS);
        FloatVector a10 = FloatVector.zero(FS), a11 = FloatVector.zero(FS);
        FloatVector a20 = FloatVector.zero(FS), a21 = FloatVector.zero(FS);
        FloatVector a30 = FloatVector.zero(FS), a31 = FloatVector.zero(FS);
        long base = (long) g * blocks * PACK_BLOCK_BYTES;
        int x1 = cols, x2 = 2 * cols, x3 = 3 * cols;
        for (int b = 0; b < blocks; b++, base += PACK_BLOCK_BYTES) {
            ShortVector s0 = ShortVector.broadcast(S2L, xs[sumsOff + b]);
            ShortVector s1 = ShortVector.broadcast(S2L, xs[sumsOff + blocks + b]);
            ShortVector s2 = ShortVector.broadcast(S2L, xs[sumsOff + 2 * blocks + b]);
            ShortVector s3 = ShortVector.broadcast(S2L, xs[sumsOff + 3 * blocks + b]);
            int xb = xsOff + b * 32;
            long q = base + 4L * PACK_ROWS;
            for (int j = xb; j < xb + 32; j += 4, q += 2 * PACK_ROWS) {
                ShortVector v0 = ShortVector.fromMemorySegment(S2L, p, q, LE);
                ShortVector v1 = v0.lanewise(VectorOperators.LSHR, 4);
                ShortVector v2 = v0.lanewise(VectorOperators.LSHR, 8);
                ShortVector v3 = v0.lanewise(VectorOperators.LSHR, 12);
                s0 = s0.add(v0.mul(xs[j])).add(v1.mul(xs[j + 1])).add(v2.mul(xs[j + 2])).add(v3.mul(xs[j + 3]));
                s1 = s1.add(v0.mul(xs[x1 + j])).add(v1.mul(xs[x1 + j + 1])).add(v2.mul(xs[x1 + j + 2])).add(v3.mul(xs[x1 + j + 3]));
                s2 = s2.add(v0.mul(xs[x2 + j])).add(v1.mul(xs[x2 + j + 1])).add(v2.mul(xs[x2 + j + 2])).add(v3.mul(xs[x2 + j + 3]));
                s3 = s3.add(v0.mul(xs[x3 + j])).add(v1.mul(xs[x3 + j + 1])).add(v2.mul(xs[x3 + j + 2])).add(v3.mul(xs[x3 + j + 3]));
            }
            FloatVector w0 = FloatVector.fromMemorySegment(FS, p, base, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(FS, p, base + 4L * L, LE);
            FloatVector dx = FloatVector.broadcast(FS, xd[xdOff + b]);
            a00 = ((FloatVector) s0.convertShape(VectorOperators.S2F, FS, 0)).fma(w0.mul(dx), a00);
            a01 = ((FloatVector) s0.convertShape(VectorOperators.S2F, FS, 1)).fma(w1.mul(dx), a01);
            dx = FloatVector.broadcast(FS, xd[xdOff + blocks + b]);
            a10 = ((FloatVector) s1.convertShape(VectorOperators.S2F, FS, 0)).fma(w0.mul(dx), a10);
            a11 = ((FloatVector) s1.convertShape(VectorOperators.S2F, FS, 1)).fma(w1.mul(dx), a11);
            dx = FloatVector.broadcast(FS, xd[xdOff + 2 * blocks + b]);
            a20 = ((FloatVector) s2.convertShape(VectorOperators.S2F, FS, 0)).fma(w0.mul(dx), a20);
            a21 = ((FloatVector) s2.convertShape(VectorOperators.S2F, FS, 1)).fma(w1.mul(dx), a21);
            dx = FloatVector.broadcast(FS, xd[xdOff + 3 * blocks + b]);
            a30 = ((FloatVector) s3.convertShape(VectorOperators.S2F, FS, 0)).fma(w0.mul(dx), a30);
            a31 = ((FloatVector) s3.convertShape(VectorOperators.S2F, FS, 1)).fma(w1.mul(dx), a31);
        }
        int o = outOff + g * PACK_ROWS;
        a00.intoArray(out, o); a01.intoArray(out, o + L);
        a10.intoArray(out, o + rows); a11.intoArray(out, o + rows + L);
        a20.intoArray(out, o + 2 * rows); a21.intoArray(out, o + 2 * rows + L);
        a30.intoArray(out, o + 3 * rows); a31.intoArray(out, o + 3 * rows + L);
    }

    /**
     * Columns [k0, k0 + kc) of the {@link #PANEL} rows from group g0 on, from a packed copy of {@code type} into the
     * panel's transposed order; {@code scales} is scratch for the K-quants' widened scales.
     */
    private static void decodePackedPanel(GgmlType type, MemorySegment p, int cols, int g0, int k0, int kc, float[] panel, float[] scales) {
        switch (type) {
            case Q4_K -> decodePackedPanelQ4_K(p, cols, g0, k0, kc, panel, scales);
            case Q5_K -> decodePackedPanelQ5_K(p, cols, g0, k0, kc, panel, scales);
            case Q6_K -> decodePackedPanelQ6_K(p, cols, g0, k0, kc, panel, scales);
            default -> decodePackedPanelQ4_0(p, cols, g0, k0, kc, panel);
        }
    }

    /** Row {@code row} of a packed copy of {@code type} as floats at dst[off..off+cols), the values {@link #decode} gives. */
    private static void decodePackedRow(GgmlType type, MemorySegment p, int cols, int row, float[] dst, int off) {
        switch (type) {
            case Q4_K -> decodePackedRowQ4_K(p, cols, row, dst, off);
            case Q5_K -> decodePackedRowQ5_K(p, cols, row, dst, off);
            case Q6_K -> decodePackedRowQ6_K(p, cols, row, dst, off);
            default -> decodePackedRowQ4_0(p, cols, row, dst, off);
        }
    }

    /**
     * Columns [k0, k0 + kc) of the {@link #PANEL} rows from group g0 on, decoded from the packed copy straight into
     * the panel's transposed order (column k's rows side by side at k·PANEL): each packed byte vector is already
     * one column's rows. The values are the file's (q − 8)·d, exact in float, as {@link #decode} gives them.
     */
    private static void decodePackedPanelQ4_0(MemorySegment p, int cols, int g0, int k0, int kc, float[] panel) {
        int blocks = cols / 32;
        for (int h = 0; h < PANEL / PACK_ROWS; h++) {
            long base = ((long) (g0 + h) * blocks + k0 / 32) * PACK_BLOCK_BYTES;
            int lane = h * PACK_ROWS;
            for (int c = 0; c < kc; c += 32, base += PACK_BLOCK_BYTES) {
                FloatVector d0 = FloatVector.fromMemorySegment(FS, p, base, LE);
                FloatVector d1 = FloatVector.fromMemorySegment(FS, p, base + 4L * L, LE);
                long q = base + 4L * PACK_ROWS;
                for (int k = 0; k < 16; k += 2, q += 2 * PACK_ROWS) {
                    ShortVector v = ShortVector.fromMemorySegment(S2L, p, q, LE);
                    // nibble j of a lane is element k, k + 16, k + 1, k + 17 (see foldNibbleActivations)
                    for (int j = 0; j < 4; j++) {
                        ShortVector e = v.lanewise(VectorOperators.LSHR, 4 * j).and((short) 15).sub((short) 8);
                        int at = (c + k + (j >> 1) + 16 * (j & 1)) * PANEL + lane;
                        ((FloatVector) e.convertShape(VectorOperators.S2F, FS, 0)).mul(d0).intoArray(panel, at);
                        ((FloatVector) e.convertShape(VectorOperators.S2F, FS, 1)).mul(d1).intoArray(panel, at + L);
                    }
                }
            }
        }
    }

    /** Row {@code row} of a packed Q4_0 copy as floats at dst[off..off+cols), the values {@link #decode} gives. */
    private static void decodePackedRowQ4_0(MemorySegment p, int cols, int row, float[] dst, int off) {
        int blocks = cols / 32;
        int i = row % PACK_ROWS;
        long base = (long) (row / PACK_ROWS) * blocks * PACK_BLOCK_BYTES;
        for (int b = 0; b < blocks; b++, base += PACK_BLOCK_BYTES) {
            float d = p.get(FLOAT_LE, base + 4L * i);
            // bytes k and k + 1 (k even) of row i side by side, after those of the rows before it
            long q = base + 4L * PACK_ROWS + 2L * i;
            int at = off + 32 * b;
            for (int k = 0; k < 16; k++) {
                int v = p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, q + (k >> 1) * 2L * PACK_ROWS + (k & 1)) & 0xFF;
                dst[at + k] = ((v & 15) - 8) * d;
                dst[at + k + 16] = ((v >> 4) - 8) * d;
            }
        }
    }

    /**
     * Groups [g0, g1) of a packed Q4_K product with n tokens: each token's activations quantized once
     * ({@link #quantizeActivationsPackedQ4_K}), then each group's tokens one after another (the group's weights
     * come from cache after the first).
     */
    private void manyPackedQ4_K(WeightMatrix w, float[] x, int n, float[] out, int part, int g0, int g1) {
        MemorySegment p = packedReady(w);
        int cols = w.cols();
        int rows = w.rows();
        int nsub = cols / 32;
        short[] xs = shortScratch(part, n * cols);
        float[] xd = rowScratch(part, 2 * n * nsub);
        for (int t = 0; t < n; t++) {
            quantizeActivationsPackedQ4_K(x, t * cols, cols, xs, t * cols, xd, 2 * t * nsub);
        }
        float[] scales = sumScratch(part, 16 * PACK_ROWS);
        int pairs = n / 2 * 2;
        for (int g = g0; g < g1; g++) {
            for (int t = 0; t < pairs; t += 2) {
                packedQ4_Kx2(p, cols, xs, t * cols, xd, 2 * t * nsub, out, t * rows, rows, g, scales);
            }
            for (int t = pairs; t < n; t++) {
                packedQ4_K(p, cols, xs, t * cols, xd, 2 * t * nsub, out, t * rows, g, scales);
            }
        }
    }

    /**
     * {@link #packedQ4_K} for two tokens over group g (activations {@code cols} shorts, scales and sums
     * {@code 2·cols/32} floats and outputs {@code rows} apart): each packed byte vector is loaded, widened and split
     * once for both; every token's operations are those of its own one-token call, in the same order. (Two, not
     * four: at four tokens the method grew past what C2 compiles without boxing vectors.)
     */
    private static void packedQ4_Kx2(MemorySegment p, int cols, short[] xs, int xsOff, float[] xd, int xdOff,
            float[] out, int outOff, int rows, int g, float[] scales) {
        int supers = cols / 256;
        int nsub = cols / 32;
        int td = 2 * nsub;
        FloatVector a0 = FloatVector.zero(FS), a1 = FloatVector.zero(FS);
        FloatVector b0 = FloatVector.zero(FS), b1 = FloatVector.zero(FS);
        long base = (long) g * supers * PACK_Q4_K_BYTES;
        for (int sb = 0; sb < supers; sb++, base += PACK_Q4_K_BYTES) {
            packedScalesQ4_K(p, base, scales);
            for (int j = 0; j < 4; j++) {
                int s = 2 * j;
                FloatVector dsLo0 = FloatVector.fromArray(FS, scales, s * PACK_ROWS);
                FloatVector dsLo1 = FloatVector.fromArray(FS, scales, s * PACK_ROWS + L);
                FloatVector dsHi0 = FloatVector.fromArray(FS, scales, (s + 1) * PACK_ROWS);
                FloatVector dsHi1 = FloatVector.fromArray(FS, scales, (s + 1) * PACK_ROWS + L);
                int sub = xdOff + sb * 8 + s;
                FloatVector dxLo = FloatVector.broadcast(FS, xd[sub]);
                FloatVector dxHi = FloatVector.broadcast(FS, xd[sub + 1]);
                FloatVector exLo = FloatVector.broadcast(FS, xd[sub + td]);
                FloatVector exHi = FloatVector.broadcast(FS, xd[sub + td + 1]);
                int xb = xsOff + 256 * sb + 64 * j;
                long q = base + 24L * PACK_ROWS + 32L * j * PACK_ROWS;
                for (int h = 0; h < 32; h += 16) {
                    ShortVector lo = ShortVector.zero(S2L);
                    ShortVector hi = ShortVector.zero(S2L);
                    ShortVector lo2 = ShortVector.zero(S2L);
                    ShortVector hi2 = ShortVector.zero(S2L);
                    for (int k = h; k < h + 16; k++, q += PACK_ROWS) {
                        ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B2L, p, q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2L, 0);
                        ShortVector vl = v.and((short) 15);
                        ShortVector vh = v.lanewise(VectorOperators.LSHR, 4);
                        lo = lo.add(vl.mul(xs[xb + k]));
                        hi = hi.add(vh.mul(xs[xb + 32 + k]));
                        lo2 = lo2.add(vl.mul(xs[xb + cols + k]));
                        hi2 = hi2.add(vh.mul(xs[xb + cols + 32 + k]));
                    }
                    a0 = ((FloatVector) lo.convertShape(VectorOperators.S2F, FS, 0)).fma(dsLo0.mul(dxLo), a0);
                    a1 = ((FloatVector) lo.convertShape(VectorOperators.S2F, FS, 1)).fma(dsLo1.mul(dxLo), a1);
                    a0 = ((FloatVector) hi.convertShape(VectorOperators.S2F, FS, 0)).fma(dsHi0.mul(dxHi), a0);
                    a1 = ((FloatVector) hi.convertShape(VectorOperators.S2F, FS, 1)).fma(dsHi1.mul(dxHi), a1);
                    b0 = ((FloatVector) lo2.convertShape(VectorOperators.S2F, FS, 0)).fma(dsLo0.mul(exLo), b0);
                    b1 = ((FloatVector) lo2.convertShape(VectorOperators.S2F, FS, 1)).fma(dsLo1.mul(exLo), b1);
                    b0 = ((FloatVector) hi2.convertShape(VectorOperators.S2F, FS, 0)).fma(dsHi0.mul(exHi), b0);
                    b1 = ((FloatVector) hi2.convertShape(VectorOperators.S2F, FS, 1)).fma(dsHi1.mul(exHi), b1);
                }
                int m = (8 + s) * PACK_ROWS;
                FloatVector m0 = FloatVector.fromArray(FS, scales, m);
                FloatVector m1 = FloatVector.fromArray(FS, scales, m + L);
                FloatVector n0 = FloatVector.fromArray(FS, scales, m + PACK_ROWS);
                FloatVector n1 = FloatVector.fromArray(FS, scales, m + PACK_ROWS + L);
                FloatVector sxLo = FloatVector.broadcast(FS, -xd[sub + nsub]);
                FloatVector sxHi = FloatVector.broadcast(FS, -xd[sub + nsub + 1]);
                a0 = m0.fma(sxLo, a0);
                a1 = m1.fma(sxLo, a1);
                a0 = n0.fma(sxHi, a0);
                a1 = n1.fma(sxHi, a1);
                sxLo = FloatVector.broadcast(FS, -xd[sub + td + nsub]);
                sxHi = FloatVector.broadcast(FS, -xd[sub + td + nsub + 1]);
                b0 = m0.fma(sxLo, b0);
                b1 = m1.fma(sxLo, b1);
                b0 = n0.fma(sxHi, b0);
                b1 = n1.fma(sxHi, b1);
            }
        }
        int o = outOff + g * PACK_ROWS;
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
        b0.intoArray(out, o + rows);
        b1.intoArray(out, o + rows + L);
    }

    /**
     * Groups [g0, g1) of a packed Q5_K product with n tokens: each token's activations quantized once (as for
     * Q4_K, plus −16·Σx per 16 values as shorts), then each group's tokens one after another.
     */
    private void manyPackedQ5_K(WeightMatrix w, float[] x, int n, float[] out, int part, int g0, int g1) {
        MemorySegment p = packedReady(w);
        int cols = w.cols();
        int rows = w.rows();
        int nsub = cols / 32;
        // per token: the folded activations, then −16·Σx per 16
        int folded = foldedQ5_KLength(cols);
        int span = folded + cols / 16;
        short[] xs = shortScratch(part, n * span);
        float[] xd = rowScratch(part, 2 * n * nsub);
        for (int t = 0; t < n; t++) {
            quantizeActivationsPackedQ4_K(x, t * cols, cols, xs, t * span, xd, 2 * t * nsub);
            scaledBlockSums(xs, t * span, cols, 16, -16, xs, t * span + folded);
            foldQ5_KActivations(xs, t * span, cols);
        }
        float[] scales = sumScratch(part, 24 * PACK_ROWS);
        for (int g = g0; g < g1; g++) {
            for (int t = 0; t < n; t++) {
                packedQ5_K(p, cols, xs, t * span, xd, 2 * t * nsub, out, t * rows, g, scales);
            }
        }
    }

    /**
     * The packed Q5_K design for group g: per super-block and half (elements 0..15, then 16..31 of each
     * sub-block), the eight sub-blocks' sums build up in eight short vectors, one lane per row, from shorts that
     * hold three 5-bit quants each (q in 0..31; {@link PackedWeights#q5_KShortOffset}): with v = q0 + 32·q1 +
     * 1024·q2 and the activations y0, y1, y2 of {@link #foldQ5_KActivations}, v·y0 + (v &gt;&gt;&gt; 5)·y1 +
     * (v &gt;&gt;&gt; 10)·y2 = q0·x0 + q1·x1 + q2·x2, no mask needed; the sixth short of a half is the one the
     * halves share for their elements 15 and 31. Sixteen products of q and int8 activations can pass a short, so
     * each sum starts from −16·Σx of its 16 values: the wrapping short arithmetic then ends at Σ (q − 16)·x
     * (|·| ≤ 16·16·127), exact. Each sum takes fma(sum, d·sc·dx, acc), sub-blocks 0..7 in turn, and after both
     * halves each sub-block takes fma(dmin·m − 16·d·sc, −dx·Σx, acc), which adds the 16·Σx back with the min term.
     * The shared short is a sixth turn of the loop rather than code of its own: with that code the method was too
     * large for C1 ("out of virtual registers") and ran interpreted-slow for seconds.
     */
    private static void packedQ5_K(MemorySegment p, int cols, short[] xs, int xsOff, float[] xd, int xdOff,
            float[] out, int outOff, int g, float[] scales) {
        int supers = cols / 256;
        int nsub = cols / 32;
        int sums = xsOff + foldedQ5_KLength(cols);
        long sv = 2L * PACK_ROWS;
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        long base = (long) g * supers * PACK_Q5_K_BYTES;
        for (int sb = 0; sb < supers; sb++, base += PACK_Q5_K_BYTES) {
            packedScalesQ5_K(p, base, scales);
            int sub = sb * 8;
            long shared = base + PackedWeights.q5_KShortOffset(0, 15, PACK_ROWS);
            for (int h = 0; h < 2; h++) {
                int c16 = sums + 16 * sb + h;
                ShortVector s0 = ShortVector.broadcast(S2L, xs[c16]);
                ShortVector s1 = ShortVector.broadcast(S2L, xs[c16 + 2]);
                ShortVector s2 = ShortVector.broadcast(S2L, xs[c16 + 4]);
                ShortVector s3 = ShortVector.broadcast(S2L, xs[c16 + 6]);
                ShortVector s4 = ShortVector.broadcast(S2L, xs[c16 + 8]);
                ShortVector s5 = ShortVector.broadcast(S2L, xs[c16 + 10]);
                ShortVector s6 = ShortVector.broadcast(S2L, xs[c16 + 12]);
                ShortVector s7 = ShortVector.broadcast(S2L, xs[c16 + 14]);
                long q0 = base + PackedWeights.q5_KShortOffset(0, 16 * h, PACK_ROWS);
                // sub-block s's 18 activations of this half at e0 + 36·s
                int e0 = xsOff + 18 * (16 * sb + h);
                for (int t = 0; t < 6; t++) {
                    long q = t < 5 ? q0 + t * 8 * sv : shared;
                    int e = e0 + 3 * t;
                    ShortVector v = ShortVector.fromMemorySegment(S2L, p, q, LE);
                    s0 = s0.add(v.mul(xs[e])).add(v.lanewise(VectorOperators.LSHR, 5).mul(xs[e + 1]))
                            .add(v.lanewise(VectorOperators.LSHR, 10).mul(xs[e + 2]));
                    v = ShortVector.fromMemorySegment(S2L, p, q + sv, LE);
                    s1 = s1.add(v.mul(xs[e + 36])).add(v.lanewise(VectorOperators.LSHR, 5).mul(xs[e + 37]))
                            .add(v.lanewise(VectorOperators.LSHR, 10).mul(xs[e + 38]));
                    v = ShortVector.fromMemorySegment(S2L, p, q + 2 * sv, LE);
                    s2 = s2.add(v.mul(xs[e + 72])).add(v.lanewise(VectorOperators.LSHR, 5).mul(xs[e + 73]))
                            .add(v.lanewise(VectorOperators.LSHR, 10).mul(xs[e + 74]));
                    v = ShortVector.fromMemorySegment(S2L, p, q + 3 * sv, LE);
                    s3 = s3.add(v.mul(xs[e + 108])).add(v.lanewise(VectorOperators.LSHR, 5).mul(xs[e + 109]))
                            .add(v.lanewise(VectorOperators.LSHR, 10).mul(xs[e + 110]));
                    v = ShortVector.fromMemorySegment(S2L, p, q + 4 * sv, LE);
                    s4 = s4.add(v.mul(xs[e + 144])).add(v.lanewise(VectorOperators.LSHR, 5).mul(xs[e + 145]))
                            .add(v.lanewise(VectorOperators.LSHR, 10).mul(xs[e + 146]));
                    v = ShortVector.fromMemorySegment(S2L, p, q + 5 * sv, LE);
                    s5 = s5.add(v.mul(xs[e + 180])).add(v.lanewise(VectorOperators.LSHR, 5).mul(xs[e + 181]))
                            .add(v.lanewise(VectorOperators.LSHR, 10).mul(xs[e + 182]));
                    v = ShortVector.fromMemorySegment(S2L, p, q + 6 * sv, LE);
                    s6 = s6.add(v.mul(xs[e + 216])).add(v.lanewise(VectorOperators.LSHR, 5).mul(xs[e + 217]))
                            .add(v.lanewise(VectorOperators.LSHR, 10).mul(xs[e + 218]));
                    v = ShortVector.fromMemorySegment(S2L, p, q + 7 * sv, LE);
                    s7 = s7.add(v.mul(xs[e + 252])).add(v.lanewise(VectorOperators.LSHR, 5).mul(xs[e + 253]))
                            .add(v.lanewise(VectorOperators.LSHR, 10).mul(xs[e + 254]));
                }
                FloatVector dx;
                dx = FloatVector.broadcast(FS, xd[xdOff + sub + 0]);
                acc0 = ((FloatVector) s0.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromArray(FS, scales, 0 * PACK_ROWS).mul(dx), acc0);
                acc1 = ((FloatVector) s0.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromArray(FS, scales, 0 * PACK_ROWS + L).mul(dx), acc1);
                dx = FloatVector.broadcast(FS, xd[xdOff + sub + 1]);
                acc0 = ((FloatVector) s1.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromArray(FS, scales, 1 * PACK_ROWS).mul(dx), acc0);
                acc1 = ((FloatVector) s1.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromArray(FS, scales, 1 * PACK_ROWS + L).mul(dx), acc1);
                dx = FloatVector.broadcast(FS, xd[xdOff + sub + 2]);
                acc0 = ((FloatVector) s2.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromArray(FS, scales, 2 * PACK_ROWS).mul(dx), acc0);
                acc1 = ((FloatVector) s2.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromArray(FS, scales, 2 * PACK_ROWS + L).mul(dx), acc1);
                dx = FloatVector.broadcast(FS, xd[xdOff + sub + 3]);
                acc0 = ((FloatVector) s3.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromArray(FS, scales, 3 * PACK_ROWS).mul(dx), acc0);
                acc1 = ((FloatVector) s3.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromArray(FS, scales, 3 * PACK_ROWS + L).mul(dx), acc1);
                dx = FloatVector.broadcast(FS, xd[xdOff + sub + 4]);
                acc0 = ((FloatVector) s4.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromArray(FS, scales, 4 * PACK_ROWS).mul(dx), acc0);
                acc1 = ((FloatVector) s4.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromArray(FS, scales, 4 * PACK_ROWS + L).mul(dx), acc1);
                dx = FloatVector.broadcast(FS, xd[xdOff + sub + 5]);
                acc0 = ((FloatVector) s5.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromArray(FS, scales, 5 * PACK_ROWS).mul(dx), acc0);
                acc1 = ((FloatVector) s5.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromArray(FS, scales, 5 * PACK_ROWS + L).mul(dx), acc1);
                dx = FloatVector.broadcast(FS, xd[xdOff + sub + 6]);
                acc0 = ((FloatVector) s6.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromArray(FS, scales, 6 * PACK_ROWS).mul(dx), acc0);
                acc1 = ((FloatVector) s6.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromArray(FS, scales, 6 * PACK_ROWS + L).mul(dx), acc1);
                dx = FloatVector.broadcast(FS, xd[xdOff + sub + 7]);
                acc0 = ((FloatVector) s7.convertShape(VectorOperators.S2F, FS, 0)).fma(FloatVector.fromArray(FS, scales, 7 * PACK_ROWS).mul(dx), acc0);
                acc1 = ((FloatVector) s7.convertShape(VectorOperators.S2F, FS, 1)).fma(FloatVector.fromArray(FS, scales, 7 * PACK_ROWS + L).mul(dx), acc1);
            }
            for (int s = 0; s < 8; s++) {
                FloatVector sx = FloatVector.broadcast(FS, -xd[xdOff + nsub + sub + s]);
                acc0 = FloatVector.fromArray(FS, scales, (16 + s) * PACK_ROWS).fma(sx, acc0);
                acc1 = FloatVector.fromArray(FS, scales, (16 + s) * PACK_ROWS + L).fma(sx, acc1);
            }
        }
        acc0.intoArray(out, outOff + g * PACK_ROWS);
        acc1.intoArray(out, outOff + g * PACK_ROWS + L);
    }

    /**
     * Columns [k0, k0 + kc) of the {@link #PANEL} rows from group g0 on, from a packed Q5_K copy into the panel's
     * transposed order: q·(d·sc) − dmin·m, the values {@link #decode} gives. {@link #decodePackedPanelQ4_K}'s twin
     * rather than a flag on it: the flag would merge vectors at a branch inside the inner loop, where C2 may box them.
     */
    private static void decodePackedPanelQ5_K(MemorySegment p, int cols, int g0, int k0, int kc, float[] panel, float[] scales) {
        int supers = cols / 256;
        for (int h = 0; h < PANEL / PACK_ROWS; h++) {
            long base = ((long) (g0 + h) * supers + k0 / 256) * PACK_Q5_K_BYTES;
            int lane = h * PACK_ROWS;
            for (int c = 0; c < kc; c += 256, base += PACK_Q5_K_BYTES) {
                packedScalesQ5_K(p, base, scales);
                for (int part = 0; part < 2; part++) {
                    for (int s = 0; s < 8; s++) {
                        FloatVector ds = FloatVector.fromArray(FS, scales, s * PACK_ROWS + L * part);
                        FloatVector m = FloatVector.fromArray(FS, scales, (8 + s) * PACK_ROWS + L * part);
                        for (int k = 0; k < 32; k++) {
                            long q = base + PackedWeights.q5_KShortOffset(s, k, PACK_ROWS);
                            ShortVector n = ShortVector.fromMemorySegment(S2L, p, q, LE)
                                    .lanewise(VectorOperators.LSHR, PackedWeights.q5_KShift(k)).and((short) 31);
                            ((FloatVector) n.convertShape(VectorOperators.S2F, FS, part)).mul(ds).sub(m)
                                    .intoArray(panel, (c + 32 * s + k) * PANEL + lane + L * part);
                        }
                    }
                }
            }
        }
    }

    /**
     * x to int8 in natural order as ggml's {@code quantize_row_q8_K} ({@link #quantizeActivationsToShortsNearest});
     * xd[xdOff + j] gets sub-block j's scale and xd[xdOff + nsub + j] that scale times the sub-block's Σq8.
     */
    private static void quantizeActivationsPackedQ4_K(float[] x, int xOff, int cols, short[] xs, int xsOff, float[] xd, int xdOff) {
        quantizeActivationsToShortsNearest(x, xOff, cols, xs, xsOff, xd, xdOff);
        int nsub = cols / 32;
        for (int j = 0; j < nsub; j++) {
            int sum = 0;
            for (int i = 0; i < 32; i++) {
                sum += xs[xsOff + 32 * j + i];
            }
            xd[xdOff + nsub + j] = xd[xdOff + j] * sum;
        }
    }

    /**
     * The packed Q4_K design for group g: per super-block and nibble-byte column j (sub-blocks 2j in the low
     * nibbles, 2j + 1 in the high), each lane (a row) adds 16 products of nibbles and int8 activations in a short
     * (|·| ≤ 16·15·127), twice per sub-block; each short sum takes fma(sum, d·sc·dx, acc), and each sub-block
     * then its min term, fma(dmin·m, −dx·Σx, acc). Activations from {@link #quantizeActivationsPackedQ4_K}.
     */
    private static void packedQ4_K(MemorySegment p, int cols, short[] xs, int xsOff, float[] xd, int xdOff,
            float[] out, int outOff, int g, float[] scales) {
        int supers = cols / 256;
        int nsub = cols / 32;
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        long base = (long) g * supers * PACK_Q4_K_BYTES;
        for (int sb = 0; sb < supers; sb++, base += PACK_Q4_K_BYTES) {
            packedScalesQ4_K(p, base, scales);
            for (int j = 0; j < 4; j++) {
                int s = 2 * j;
                FloatVector dsLo0 = FloatVector.fromArray(FS, scales, s * PACK_ROWS);
                FloatVector dsLo1 = FloatVector.fromArray(FS, scales, s * PACK_ROWS + L);
                FloatVector dsHi0 = FloatVector.fromArray(FS, scales, (s + 1) * PACK_ROWS);
                FloatVector dsHi1 = FloatVector.fromArray(FS, scales, (s + 1) * PACK_ROWS + L);
                int sub = sb * 8 + s;
                FloatVector dxLo = FloatVector.broadcast(FS, xd[xdOff + sub]);
                FloatVector dxHi = FloatVector.broadcast(FS, xd[xdOff + sub + 1]);
                int xb = xsOff + 256 * sb + 64 * j;
                long q = base + 24L * PACK_ROWS + 32L * j * PACK_ROWS;
                for (int h = 0; h < 32; h += 16) {
                    ShortVector lo = ShortVector.zero(S2L);
                    ShortVector hi = ShortVector.zero(S2L);
                    for (int k = h; k < h + 16; k++, q += PACK_ROWS) {
                        ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B2L, p, q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2L, 0);
                        lo = lo.add(v.and((short) 15).mul(xs[xb + k]));
                        hi = hi.add(v.lanewise(VectorOperators.LSHR, 4).mul(xs[xb + 32 + k]));
                    }
                    acc0 = ((FloatVector) lo.convertShape(VectorOperators.S2F, FS, 0)).fma(dsLo0.mul(dxLo), acc0);
                    acc1 = ((FloatVector) lo.convertShape(VectorOperators.S2F, FS, 1)).fma(dsLo1.mul(dxLo), acc1);
                    acc0 = ((FloatVector) hi.convertShape(VectorOperators.S2F, FS, 0)).fma(dsHi0.mul(dxHi), acc0);
                    acc1 = ((FloatVector) hi.convertShape(VectorOperators.S2F, FS, 1)).fma(dsHi1.mul(dxHi), acc1);
                }
                int m = (8 + s) * PACK_ROWS;
                FloatVector sxLo = FloatVector.broadcast(FS, -xd[xdOff + nsub + sub]);
                FloatVector sxHi = FloatVector.broadcast(FS, -xd[xdOff + nsub + sub + 1]);
                acc0 = FloatVector.fromArray(FS, scales, m).fma(sxLo, acc0);
                acc1 = FloatVector.fromArray(FS, scales, m + L).fma(sxLo, acc1);
                acc0 = FloatVector.fromArray(FS, scales, m + PACK_ROWS).fma(sxHi, acc0);
                acc1 = FloatVector.fromArray(FS, scales, m + PACK_ROWS + L).fma(sxHi, acc1);
            }
        }
        acc0.intoArray(out, outOff + g * PACK_ROWS);
        acc1.intoArray(out, outOff + g * PACK_ROWS + L);
    }

    /**
     * Columns [k0, k0 + kc) of the {@link #PANEL} rows from group g0 on, from a packed Q4_K copy into the panel's
     * transposed order: q·(d·sc) − dmin·m, the values {@link #decode} gives.
     */
    private static void decodePackedPanelQ4_K(MemorySegment p, int cols, int g0, int k0, int kc, float[] panel, float[] scales) {
        int supers = cols / 256;
        for (int h = 0; h < PANEL / PACK_ROWS; h++) {
            long base = ((long) (g0 + h) * supers + k0 / 256) * PACK_Q4_K_BYTES;
            int lane = h * PACK_ROWS;
            for (int c = 0; c < kc; c += 256, base += PACK_Q4_K_BYTES) {
                packedScalesQ4_K(p, base, scales);
                for (int part = 0; part < 2; part++) {
                    for (int s = 0; s < 8; s++) {
                        FloatVector ds = FloatVector.fromArray(FS, scales, s * PACK_ROWS + L * part);
                        FloatVector m = FloatVector.fromArray(FS, scales, (8 + s) * PACK_ROWS + L * part);
                        long q = base + 24L * PACK_ROWS + 32L * (s / 2) * PACK_ROWS;
                        for (int k = 0; k < 32; k++, q += PACK_ROWS) {
                            ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B2L, p, q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2L, 0);
                            ShortVector n = (s & 1) == 0 ? v.and((short) 15) : v.lanewise(VectorOperators.LSHR, 4);
                            ((FloatVector) n.convertShape(VectorOperators.S2F, FS, part)).mul(ds).sub(m)
                                    .intoArray(panel, (c + 32 * s + k) * PANEL + lane + L * part);
                        }
                    }
                }
            }
        }
    }

    /** Row {@code row} of a packed Q4_K copy as floats at dst[off..off+cols): the values {@link #decode} gives. */
    private static void decodePackedRowQ4_K(MemorySegment p, int cols, int row, float[] dst, int off) {
        int supers = cols / 256;
        int i = row % PACK_ROWS;
        long base = (long) (row / PACK_ROWS) * supers * PACK_Q4_K_BYTES;
        for (int sb = 0; sb < supers; sb++, base += PACK_Q4_K_BYTES) {
            float d = p.get(FLOAT_LE, base + 4L * i);
            float dmin = p.get(FLOAT_LE, base + 4L * PACK_ROWS + 4L * i);
            for (int s = 0; s < 8; s++) {
                float ds = d * p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, base + 8L * PACK_ROWS + (long) s * PACK_ROWS + i);
                float m = dmin * p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, base + 16L * PACK_ROWS + (long) s * PACK_ROWS + i);
                long q = base + 24L * PACK_ROWS + i + 32L * (s / 2) * PACK_ROWS;
                int at = off + 256 * sb + 32 * s;
                for (int k = 0; k < 32; k++, q += PACK_ROWS) {
                    int v = p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, q) & 0xFF;
                    dst[at + k] = ((s & 1) == 0 ? v & 15 : v >> 4) * ds - m;
                }
            }
        }
    }

    /** Row {@code row} of a packed Q5_K copy as floats at dst[off..off+cols): the values {@link #decode} gives. */
    private static void decodePackedRowQ5_K(MemorySegment p, int cols, int row, float[] dst, int off) {
        int supers = cols / 256;
        int i = row % PACK_ROWS;
        long base = (long) (row / PACK_ROWS) * supers * PACK_Q5_K_BYTES;
        for (int sb = 0; sb < supers; sb++, base += PACK_Q5_K_BYTES) {
            float d = p.get(FLOAT_LE, base + 4L * i);
            float dmin = p.get(FLOAT_LE, base + 4L * PACK_ROWS + 4L * i);
            for (int s = 0; s < 8; s++) {
                float ds = d * p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, base + 8L * PACK_ROWS + (long) s * PACK_ROWS + i);
                float m = dmin * p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, base + 16L * PACK_ROWS + (long) s * PACK_ROWS + i);
                int at = off + 256 * sb + 32 * s;
                for (int k = 0; k < 32; k++) {
                    long q = base + PackedWeights.q5_KShortOffset(s, k, PACK_ROWS) + 2L * i;
                    int v = p.get(BlockLayouts.SHORT_LE, q) & 0xFFFF;
                    dst[at + k] = (v >>> PackedWeights.q5_KShift(k) & 31) * ds - m;
                }
            }
        }
    }

    /** {@link #manyPackedQ4_K} for Q6_K: activations per 32 values, −32·Σx per 8 after them in xs. */
    private void manyPackedQ6_K(WeightMatrix w, float[] x, int n, float[] out, int part, int g0, int g1) {
        MemorySegment p = packedReady(w);
        int cols = w.cols();
        int rows = w.rows();
        short[] xs = shortScratch(part, n * (cols + cols / 8));
        float[] xd = rowScratch(part, n * (cols / 32));
        int sums = n * cols;
        for (int t = 0; t < n; t++) {
            quantizeActivationsToShortsNearest(x, t * cols, cols, xs, t * cols, xd, t * (cols / 32));
            scaledBlockSums(xs, t * cols, cols, 8, -32, xs, sums + t * (cols / 8));
        }
        float[] scales = sumScratch(part, 32 * PACK_ROWS);
        // tokens four at a time share each group's loads and scales; the rest go one by one, two groups at a time
        int full = n / 4 * 4;
        for (int g = g0; g < g1; g++) {
            for (int t = 0; t < full; t += 4) {
                packedQ6_Kx4(p, cols, xs, t * cols, sums + t * (cols / 8), xd, t * (cols / 32), out, t * rows, rows, g, scales);
            }
        }
        int g = g0;
        for (; g + 2 <= g1; g += 2) {
            for (int t = full; t < n; t++) {
                packedQ6_KPair(p, cols, xs, t * cols, sums + t * (cols / 8), xd, t * (cols / 32), out, t * rows, g, scales);
            }
        }
        for (; g < g1; g++) {
            for (int t = full; t < n; t++) {
                packedQ6_K(p, cols, xs, t * cols, sums + t * (cols / 8), xd, t * (cols / 32), out, t * rows, g, scales);
            }
        }
    }

    /**
     * {@link #packedQ6_K} for four tokens over group g (activations {@code cols}, 8-value sums {@code cols / 8},
     * scales {@code cols / 32} and outputs {@code rows} apart): each packed byte vector is loaded and widened once
     * for the four, and every token's operations are those of its own one-token call, in the same order.
     */
    private static void packedQ6_Kx4(MemorySegment p, int cols, short[] xs, int xsOff, int sumsOff, float[] xd, int xdOff,
            float[] out, int outOff, int rows, int g, float[] scales) {
        int supers = cols / 256;
        int c8 = cols / 8;
        int c32 = cols / 32;
        FloatVector a00 = FloatVector.zero(FS), a01 = FloatVector.zero(FS);
        FloatVector a10 = FloatVector.zero(FS), a11 = FloatVector.zero(FS);
        FloatVector a20 = FloatVector.zero(FS), a21 = FloatVector.zero(FS);
        FloatVector a30 = FloatVector.zero(FS), a31 = FloatVector.zero(FS);
        long base = (long) g * supers * PACK_Q6_K_BYTES;
        for (int sb = 0; sb < supers; sb++, base += PACK_Q6_K_BYTES) {
            packedScalesQ6_K(p, base, scales, 0);
            long q = base + 20L * PACK_ROWS;
            for (int sg = 0; sg < 16; sg++) {
                int e0 = 256 * sb + 16 * sg;
                FloatVector w0 = FloatVector.fromArray(FS, scales, sg * PACK_ROWS);
                FloatVector w1 = FloatVector.fromArray(FS, scales, sg * PACK_ROWS + L);
                int j = xdOff + e0 / 32;
                for (int e = e0; e < e0 + 16; e += 8) {
                    int k = sumsOff + e / 8;
                    ShortVector s0 = ShortVector.broadcast(S2L, xs[k]);
                    ShortVector s1 = ShortVector.broadcast(S2L, xs[k + c8]);
                    ShortVector s2 = ShortVector.broadcast(S2L, xs[k + 2 * c8]);
                    ShortVector s3 = ShortVector.broadcast(S2L, xs[k + 3 * c8]);
                    int x = xsOff + e;
                    for (int i = 0; i < 8; i++, q += PACK_ROWS, x++) {
                        ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B2L, p, q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2L, 0);
                        s0 = s0.add(v.mul(xs[x]));
                        s1 = s1.add(v.mul(xs[x + cols]));
                        s2 = s2.add(v.mul(xs[x + 2 * cols]));
                        s3 = s3.add(v.mul(xs[x + 3 * cols]));
                    }
                    FloatVector dx = FloatVector.broadcast(FS, xd[j]);
                    a00 = ((FloatVector) s0.convertShape(VectorOperators.S2F, FS, 0)).fma(w0.mul(dx), a00);
                    a01 = ((FloatVector) s0.convertShape(VectorOperators.S2F, FS, 1)).fma(w1.mul(dx), a01);
                    dx = FloatVector.broadcast(FS, xd[j + c32]);
                    a10 = ((FloatVector) s1.convertShape(VectorOperators.S2F, FS, 0)).fma(w0.mul(dx), a10);
                    a11 = ((FloatVector) s1.convertShape(VectorOperators.S2F, FS, 1)).fma(w1.mul(dx), a11);
                    dx = FloatVector.broadcast(FS, xd[j + 2 * c32]);
                    a20 = ((FloatVector) s2.convertShape(VectorOperators.S2F, FS, 0)).fma(w0.mul(dx), a20);
                    a21 = ((FloatVector) s2.convertShape(VectorOperators.S2F, FS, 1)).fma(w1.mul(dx), a21);
                    dx = FloatVector.broadcast(FS, xd[j + 3 * c32]);
                    a30 = ((FloatVector) s3.convertShape(VectorOperators.S2F, FS, 0)).fma(w0.mul(dx), a30);
                    a31 = ((FloatVector) s3.convertShape(VectorOperators.S2F, FS, 1)).fma(w1.mul(dx), a31);
                }
            }
        }
        int o = outOff + g * PACK_ROWS;
        a00.intoArray(out, o); a01.intoArray(out, o + L);
        a10.intoArray(out, o + rows); a11.intoArray(out, o + rows + L);
        a20.intoArray(out, o + 2 * rows); a21.intoArray(out, o + 2 * rows + L);
        a30.intoArray(out, o + 3 * rows); a31.intoArray(out, o + 3 * rows + L);
    }

    /**
     * x to int8 in natural order as ggml's {@code quantize_row_q8_K} makes the activations of its K-quant dot
     * products, so that the integer sums are llama.cpp's: per 256 values, iscale = −127/max (max the value of
     * largest magnitude, its sign kept), q = iscale·x rounded half to even, and the scale 1/iscale, written to
     * xd once per 32 values (the kernels' sub-blocks).
     */
    private static void quantizeActivationsToShortsNearest(float[] x, int xOff, int cols, short[] xs, int xsOff, float[] xd, int xdOff) {
        for (int s = 0; s < cols; s += 256) {
            float iscale = q8KInverseScale(x, xOff + s);
            float d = iscale != 0 ? 1f / iscale : 0f;
            for (int i = 0; i < 256; i++) {
                xs[xsOff + s + i] = (short) Math.rint(iscale * x[xOff + s + i]);
            }
            for (int b = 0; b < 8; b++) {
                xd[xdOff + s / 32 + b] = d;
            }
        }
    }

    /**
     * ggml's {@code quantize_row_q8_K} inverse scale for the 256 values at x[off]: −127 over the value of largest
     * magnitude (the first of equal ones), 0 for a block of zeros.
     */
    static float q8KInverseScale(float[] x, int off) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < 256; i++) {
            float ax = Math.abs(x[off + i]);
            if (ax > amax) {
                amax = ax;
                max = x[off + i];
            }
        }
        return amax == 0 ? 0f : -127f / max;
    }

    /**
     * The packed Q6_K design for group g: per 8 values, each lane (a row) adds the products of its unsigned
     * quants (0..63) with the int8 activations in a short, starting from −32·Σx: the sum may wrap on the way,
     * but the true Σ(q − 32)·x of 8 values, at most 8·32·127 = 32512, fits a short, so the result is exact. Each
     * 8-value sum takes fma(sum, d·sc·dx, acc), in value order.
     */
    private static void packedQ6_K(MemorySegment p, int cols, short[] xs, int xsOff, int sumsOff, float[] xd, int xdOff,
            float[] out, int outOff, int g, float[] scales) {
        int supers = cols / 256;
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        long base = (long) g * supers * PACK_Q6_K_BYTES;
        for (int sb = 0; sb < supers; sb++, base += PACK_Q6_K_BYTES) {
            packedScalesQ6_K(p, base, scales, 0);
            long q = base + 20L * PACK_ROWS;
            for (int sg = 0; sg < 16; sg++) {
                int e0 = 256 * sb + 16 * sg;
                FloatVector dx = FloatVector.broadcast(FS, xd[xdOff + e0 / 32]);
                FloatVector f0 = FloatVector.fromArray(FS, scales, sg * PACK_ROWS).mul(dx);
                FloatVector f1 = FloatVector.fromArray(FS, scales, sg * PACK_ROWS + L).mul(dx);
                for (int e = e0; e < e0 + 16; e += 8) {
                    ShortVector s = ShortVector.broadcast(S2L, xs[sumsOff + e / 8]);
                    for (int i = 0; i < 8; i++, q += PACK_ROWS) {
                        ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B2L, p, q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2L, 0);
                        s = s.add(v.mul(xs[xsOff + e + i]));
                    }
                    acc0 = ((FloatVector) s.convertShape(VectorOperators.S2F, FS, 0)).fma(f0, acc0);
                    acc1 = ((FloatVector) s.convertShape(VectorOperators.S2F, FS, 1)).fma(f1, acc1);
                }
            }
        }
        acc0.intoArray(out, outOff + g * PACK_ROWS);
        acc1.intoArray(out, outOff + g * PACK_ROWS + L);
    }

    /**
     * {@link #packedQ6_K} for groups g and g + 1 at once, each broadcast activation serving both; each lane's
     * operations are unchanged. {@code scales} holds 32·PACK_ROWS floats.
     */
    private static void packedQ6_KPair(MemorySegment p, int cols, short[] xs, int xsOff, int sumsOff, float[] xd, int xdOff,
            float[] out, int outOff, int g, float[] scales) {
        int supers = cols / 256;
        long stride = supers * PACK_Q6_K_BYTES;
        FloatVector a0 = FloatVector.zero(FS), a1 = FloatVector.zero(FS);
        FloatVector b0 = FloatVector.zero(FS), b1 = FloatVector.zero(FS);
        long base = g * stride;
        int second = 16 * PACK_ROWS;
        for (int sb = 0; sb < supers; sb++, base += PACK_Q6_K_BYTES) {
            packedScalesQ6_K(p, base, scales, 0);
            packedScalesQ6_K(p, base + stride, scales, second);
            long q = base + 20L * PACK_ROWS;
            for (int sg = 0; sg < 16; sg++) {
                int e0 = 256 * sb + 16 * sg;
                FloatVector dx = FloatVector.broadcast(FS, xd[xdOff + e0 / 32]);
                FloatVector f0 = FloatVector.fromArray(FS, scales, sg * PACK_ROWS).mul(dx);
                FloatVector f1 = FloatVector.fromArray(FS, scales, sg * PACK_ROWS + L).mul(dx);
                FloatVector h0 = FloatVector.fromArray(FS, scales, second + sg * PACK_ROWS).mul(dx);
                FloatVector h1 = FloatVector.fromArray(FS, scales, second + sg * PACK_ROWS + L).mul(dx);
                for (int e = e0; e < e0 + 16; e += 8) {
                    ShortVector s = ShortVector.broadcast(S2L, xs[sumsOff + e / 8]);
                    ShortVector t = s;
                    for (int i = 0; i < 8; i++, q += PACK_ROWS) {
                        ShortVector x = ShortVector.broadcast(S2L, xs[xsOff + e + i]);
                        s = s.add(((ShortVector) ByteVector.fromMemorySegment(B2L, p, q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2L, 0)).mul(x));
                        t = t.add(((ShortVector) ByteVector.fromMemorySegment(B2L, p, q + stride, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2L, 0)).mul(x));
                    }
                    a0 = ((FloatVector) s.convertShape(VectorOperators.S2F, FS, 0)).fma(f0, a0);
                    a1 = ((FloatVector) s.convertShape(VectorOperators.S2F, FS, 1)).fma(f1, a1);
                    b0 = ((FloatVector) t.convertShape(VectorOperators.S2F, FS, 0)).fma(h0, b0);
                    b1 = ((FloatVector) t.convertShape(VectorOperators.S2F, FS, 1)).fma(h1, b1);
                }
            }
        }
        int o = outOff + g * PACK_ROWS;
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
        b0.intoArray(out, o + PACK_ROWS);
        b1.intoArray(out, o + PACK_ROWS + L);
    }

    /** Columns [k0, k0 + kc) of two packed Q6_K groups into the panel's transposed order: (d·sc)·(q − 32). */
    private static void decodePackedPanelQ6_K(MemorySegment p, int cols, int g0, int k0, int kc, float[] panel, float[] scales) {
        int supers = cols / 256;
        for (int h = 0; h < PANEL / PACK_ROWS; h++) {
            long base = ((long) (g0 + h) * supers + k0 / 256) * PACK_Q6_K_BYTES;
            int lane = h * PACK_ROWS;
            for (int c = 0; c < kc; c += 256, base += PACK_Q6_K_BYTES) {
                packedScalesQ6_K(p, base, scales, 0);
                for (int part = 0; part < 2; part++) {
                    long q = base + 20L * PACK_ROWS;
                    for (int sg = 0; sg < 16; sg++) {
                        FloatVector ds = FloatVector.fromArray(FS, scales, sg * PACK_ROWS + L * part);
                        for (int i = 0; i < 16; i++, q += PACK_ROWS) {
                            ShortVector v = ((ShortVector) ByteVector.fromMemorySegment(B2L, p, q, LE)
                                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S2L, 0)).sub((short) 32);
                            ds.mul((FloatVector) v.convertShape(VectorOperators.S2F, FS, part))
                                    .intoArray(panel, (c + 16 * sg + i) * PANEL + lane + L * part);
                        }
                    }
                }
            }
        }
    }

    /** Row {@code row} of a packed Q6_K copy as floats at dst[off..off+cols), the values {@link #decode} gives. */
    private static void decodePackedRowQ6_K(MemorySegment p, int cols, int row, float[] dst, int off) {
        int supers = cols / 256;
        int i = row % PACK_ROWS;
        long base = (long) (row / PACK_ROWS) * supers * PACK_Q6_K_BYTES;
        for (int sb = 0; sb < supers; sb++, base += PACK_Q6_K_BYTES) {
            float d = p.get(FLOAT_LE, base + 4L * i);
            for (int e = 0; e < 256; e++) {
                float ds = d * p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, base + 4L * PACK_ROWS + (long) (e / 16) * PACK_ROWS + i);
                int q = p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, base + 20L * PACK_ROWS + (long) e * PACK_ROWS + i);
                dst[off + 256 * sb + e] = ds * (q - 32);
            }
        }
    }

    /**
     * A packed Q4_K group-block's d·sc for its 8 sub-blocks, then dmin·m, as floats in [sub-block][row] order
     * (products of a half and a 6-bit integer, exact), for the kernel to load as vectors. A method of its own,
     * taking no vectors: widening the scale bytes inside the kernel made it large enough that C2 stopped inlining
     * Vector API calls there and boxed vectors (ten times slower); written as scalar code, the 16·G products cost
     * as much as the group-block's multiplications.
     */
    private static void packedScalesQ4_K(MemorySegment p, long base, float[] scales) {
        for (int part = 0; part < 2; part++) {
            FloatVector d = FloatVector.fromMemorySegment(FS, p, base + 4L * L * part, LE);
            FloatVector dmin = FloatVector.fromMemorySegment(FS, p, base + 4L * PACK_ROWS + 4L * L * part, LE);
            for (int s = 0; s < 8; s++) {
                long sc = base + 8L * PACK_ROWS + (long) s * PACK_ROWS + (long) L * part;
                d.mul((FloatVector) ByteVector.fromMemorySegment(B1L, p, sc, LE).convertShape(VectorOperators.B2F, FS, 0))
                        .intoArray(scales, s * PACK_ROWS + L * part);
                dmin.mul((FloatVector) ByteVector.fromMemorySegment(B1L, p, sc + 8L * PACK_ROWS, LE).convertShape(VectorOperators.B2F, FS, 0))
                        .intoArray(scales, (8 + s) * PACK_ROWS + L * part);
            }
        }
    }

    /**
     * A packed Q5_K group-block's d·sc for its 8 sub-blocks, then dmin·m (for decoding), then dmin·m − 16·d·sc
     * (for {@link #packedQ5_K}'s min term), as floats in [sub-block][row] order. Taking no vectors, as
     * {@link #packedScalesQ4_K}.
     */
    private static void packedScalesQ5_K(MemorySegment p, long base, float[] scales) {
        packedScalesQ4_K(p, base, scales);
        for (int part = 0; part < 2; part++) {
            for (int s = 0; s < 8; s++) {
                int at = s * PACK_ROWS + L * part;
                FloatVector ds = FloatVector.fromArray(FS, scales, at);
                FloatVector.fromArray(FS, scales, at + 8 * PACK_ROWS).sub(ds.mul(16f)).intoArray(scales, at + 16 * PACK_ROWS);
            }
        }
    }

    /** A packed Q6_K group-block's d·sc for its 16 groups of 16 values, as floats in [group][row] order from {@code at}. */
    private static void packedScalesQ6_K(MemorySegment p, long base, float[] scales, int at) {
        for (int part = 0; part < 2; part++) {
            FloatVector d = FloatVector.fromMemorySegment(FS, p, base + 4L * L * part, LE);
            for (int s = 0; s < 16; s++) {
                long sc = base + 4L * PACK_ROWS + (long) s * PACK_ROWS + (long) L * part;
                d.mul((FloatVector) ByteVector.fromMemorySegment(B1L, p, sc, LE).convertShape(VectorOperators.B2F, FS, 0))
                        .intoArray(scales, at + s * PACK_ROWS + L * part);
            }
        }
    }

    /**
     * For the packed Q4_0 kernels: a packed short lane holds a row's bytes k and k + 1 (k even), four nibbles
     * n0..n3 that belong to elements k, k + 16, k + 1, k + 17: v = n0 + 16·n1 + 256·n2 + 4096·n3. Each block's 32
     * activations become, for k = 0, 2, .., 14 in turn, y0 = x[k], y1 = x[k + 16] − 16·x[k],
     * y2 = x[k + 1] − 16·x[k + 16], y3 = x[k + 17] − 16·x[k + 1], so that v·y0 + (v &gt;&gt;&gt; 4)·y1 +
     * (v &gt;&gt;&gt; 8)·y2 + (v &gt;&gt;&gt; 12)·y3 = n0·x[k] + n1·x[k + 16] + n2·x[k + 1] + n3·x[k + 17]: the kernel
     * needs no mask and no widening. The products wrap in short lanes on the way, but the block's sum, the same
     * integer as ever, fits a short, so the result is exact. xs[tmp, tmp + 32) is room for one block.
     */
    private static void foldNibbleActivations(short[] xs, int off, int cols, int tmp) {
        for (int b = off; b < off + cols; b += 32) {
            for (int kk = 0; kk < 8; kk++) {
                int k = 2 * kk;
                xs[tmp + 4 * kk] = xs[b + k];
                xs[tmp + 4 * kk + 1] = (short) (xs[b + k + 16] - 16 * xs[b + k]);
                xs[tmp + 4 * kk + 2] = (short) (xs[b + k + 1] - 16 * xs[b + k + 16]);
                xs[tmp + 4 * kk + 3] = (short) (xs[b + k + 17] - 16 * xs[b + k + 1]);
            }
            System.arraycopy(xs, tmp, xs, b, 32);
        }
    }

    /** Shorts {@link #foldQ5_KActivations} makes of {@code cols} activations: 18 per 16. */
    private static int foldedQ5_KLength(int cols) {
        return cols / 16 * 18;
    }

    /**
     * For {@link #packedQ5_K}: the int8 activations at xs[off..off+cols), in natural order, become 18 per 16, in
     * place. Each three of elements 0..14 (x0, x1, x2) become x0, x1 − 32·x0, x2 − 32·x1 (|·| ≤ 127 + 32·127, a
     * short), as the kernel's three-quant shorts need; the last three are for the short the halves share (q15 +
     * 32·q31 of a sub-block): x15, −32·x15, 0 in a first half, 0, x31, 0 in a second. Run after the sums that
     * need the activations as they are.
     */
    private static void foldQ5_KActivations(short[] xs, int off, int cols) {
        // from the last 16 down, and within 16 from the last element down: every write lands at or after the
        // 16 values' own place, past everything still to be read
        for (int c = cols / 16 - 1; c >= 0; c--) {
            int i = off + 16 * c;
            int o = off + 18 * c;
            short x15 = xs[i + 15];
            boolean first = (c & 1) == 0;
            xs[o + 17] = 0;
            xs[o + 16] = (short) (first ? -32 * x15 : x15);
            xs[o + 15] = first ? x15 : 0;
            for (int j = 12; j >= 0; j -= 3) {
                short x0 = xs[i + j];
                short x1 = xs[i + j + 1];
                short x2 = xs[i + j + 2];
                xs[o + j] = x0;
                xs[o + j + 1] = (short) (x1 - 32 * x0);
                xs[o + j + 2] = (short) (x2 - 32 * x1);
            }
        }
    }

    /**
     * {@code factor} times the sum of each {@code span} int8 activations at xs[off..off+cols), as shorts: the
     * packed kernels' offset terms, −8·Σx per 32 for Q4_0 and −32·Σx per 8 for Q6_K (|·| ≤ 32512, exact).
     */
    private static void scaledBlockSums(short[] xs, int off, int cols, int span, int factor, short[] dst, int dstOff) {
        for (int b = 0; b < cols; b += span) {
            int sum = 0;
            for (int j = 0; j < span; j++) {
                sum += xs[off + b + j];
            }
            dst[dstOff + b / span] = (short) (factor * sum);
        }
    }

    /** The 16 short lanes of one Q4_0 block's products with x (see {@link #matvecQ4_0Int8}); small, so it inlines. */
    private static ShortVector productsQ4_0(MemorySegment seg, long o, short[] xs, int b) {
        ShortVector q = (ShortVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, seg, o + 2, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
        ShortVector lo = q.and((short) 15).sub((short) 8);
        ShortVector hi = q.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
        return lo.mul(ShortVector.fromArray(S16, xs, b)).add(hi.mul(ShortVector.fromArray(S16, xs, b + 16)));
    }

    /**
     * x to Q8_0 blocks as ggml's x86 {@code quantize_row_q8_0} makes them (AVX): the block's scale amax/127 rounded to
     * half, each value times 127/amax (not the rounded scale's inverse) rounded half to even.
     */
    private static void quantizeActivationsAsX86(float[] x, int xOff, int cols, short[] xs, int xsOff, float[] xd, int xdOff) {
        for (int b = 0; b < cols; b += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[xOff + b + j]));
            }
            xd[xdOff + b / 32] = Half.toFloat(Half.fromFloat(amax / 127f));
            float id = amax != 0 ? 127f / amax : 0f;
            for (int j = 0; j < 32; j++) {
                xs[xsOff + b + j] = (short) Math.rint(x[xOff + b + j] * id);
            }
        }
    }

    /**
     * x to Q8_0 blocks (ggml's quantize_row_q8_0: scale amax/127 rounded to half, round half away), the int8 values
     * stored as shorts so the kernels load them without widening.
     */
    private static void quantizeActivationsToShorts(float[] x, int xOff, int cols, short[] xs, int xsOff, float[] xd, int xdOff) {
        for (int b = 0; b < cols; b += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[xOff + b + j]));
            }
            float d = Half.toFloat(Half.fromFloat(amax / 127));
            float id = d != 0 ? 1.0f / d : 0.0f;
            xd[xdOff + b / 32] = d;
            for (int j = 0; j < 32; j++) {
                xs[xsOff + b + j] = (short) Rounding.roundHalfAway(x[xOff + b + j] * id);
            }
        }
    }

    /**
     * The int8 design for Q4_K. Weights load as 16-bit lanes holding two nibble bytes; four masks/shifts give the
     * low and high nibbles of the even and odd byte, each multiplied (in shorts, |q·x| ≤ 15·127) with the
     * activations that {@link #quantizeActivationsQ4_K} laid out in the same lane order. The two products of one
     * sub-block are added as shorts, lane pairs summed into ints, and one float FMA per sub-block applies
     * d·sc·dx. The min term is Σ dmin·m·dx·Σq8 from per-call sums of the int8 activations.
     */
    private static void matvecQ4_KInt8(WeightMatrix w, float[] x, float[] out, int start, int end, short[] xq, float[] xds) {
        int cols = w.cols();
        int nsub = cols / 32;
        int sc8 = 2 * nsub;
        quantizeActivationsQ4_K(x, cols, xq, xds, nsub);
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        for (int r = start; r < end; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(FS);
            FloatVector minAcc = FloatVector.zero(F8);
            for (int j0 = 0; j0 < nsub; j0 += 8, o += 144) {
                long lo8 = seg.get(BlockLayouts.LONG_LE, o + 4);
                int hi4 = seg.get(BlockLayouts.INT_LE, o + 12);
                // the eight combined scales d·sc·dx go through memory so each broadcast is a load, not a shuffle
                ((FloatVector) LongVector.broadcast(LONG2, BlockLayouts.scalesK4(lo8, hi4)).reinterpretAsBytes().convertShape(VectorOperators.B2F, F8, 0))
                        .mul(FloatVector.fromArray(F8, xds, j0)).mul(f16(seg, o)).intoArray(xds, sc8);
                minAcc = ((FloatVector) LongVector.broadcast(LONG2, BlockLayouts.minsK4(lo8, hi4)).reinterpretAsBytes().convertShape(VectorOperators.B2F, F8, 0))
                        .mul(FloatVector.fromArray(F8, xds, nsub + j0)).fma(FloatVector.broadcast(F8, f16(seg, o + 2)), minAcc);
                int xb = 32 * j0;
                for (int t = 0; t < 64; t += Q4K_STEP) {
                    ShortVector q = ShortVector.fromMemorySegment(S2L, seg, o + 16 + 2L * t, LE);
                    ShortVector evenLo = q.and((short) 15);
                    ShortVector oddLo = q.lanewise(VectorOperators.LSHR, 8).and((short) 15);
                    ShortVector evenHi = q.lanewise(VectorOperators.LSHR, 4).and((short) 15);
                    ShortVector oddHi = q.lanewise(VectorOperators.LSHR, 12);
                    IntVector pl = evenLo.mul(ShortVector.fromArray(S2L, xq, xb + t))
                            .add(oddLo.mul(ShortVector.fromArray(S2L, xq, xb + 64 + t))).reinterpretAsInts();
                    IntVector ph = evenHi.mul(ShortVector.fromArray(S2L, xq, xb + 128 + t))
                            .add(oddHi.mul(ShortVector.fromArray(S2L, xq, xb + 192 + t))).reinterpretAsInts();
                    // high short + low short of each int: add the low half into the high half, shift down
                    IntVector sl = pl.add(pl.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    IntVector sh = ph.add(ph.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    int sub = sc8 + 2 * (t >> 4);
                    FloatVector fl = FloatVector.broadcast(FS, xds[sub]);
                    FloatVector fh = FloatVector.broadcast(FS, xds[sub + 1]);
                    if (L == 16) {
                        fl = fl.blend(xds[sub + 2], UPPER8);
                        fh = fh.blend(xds[sub + 3], UPPER8);
                    }
                    acc = ((FloatVector) sl.convert(VectorOperators.I2F, 0)).fma(fl, acc);
                    acc = ((FloatVector) sh.convert(VectorOperators.I2F, 0)).fma(fh, acc);
                }
            }
            out[r] = sum(acc) - sum(minAcc);
        }
    }

    /**
     * The int8 design for Q6_K: the 6-bit quants are assembled in byte lanes as in {@link #dotQ6_K} but without
     * the −32, widened to shorts and multiplied with int8 activations (|q·x| ≤ 63·127), lane pairs summed into
     * ints, and one float FMA per 16-element group applies d·sc·dx. The −32 comes back as 32·Σ d·sc·dx·Σq8
     * over the 16-groups, from per-call sums.
     */
    private static void matvecQ6_KInt8(WeightMatrix w, float[] x, float[] out, int start, int end, short[] xq, float[] xds) {
        int cols = w.cols();
        int ng = cols / 16;
        quantizeActivationsQ6_K(x, cols, xq, xds, ng);
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        for (int r = start; r < end; r++) {
            out[r] = dotQ6_KInt8(seg, r * rowBytes, xq, xds, ng);
        }
    }

    /** One row of {@link #matvecQ6_KInt8}. */
    private static float dotQ6_KInt8(MemorySegment seg, long o, short[] xq, float[] xds, int ng) {
        int scr = 2 * ng;
        FloatVector acc = FloatVector.zero(FS);
        FloatVector offAcc = FloatVector.zero(F8);
        for (int g0 = 0; g0 < ng; g0 += 16, o += 210) {
            FloatVector dv = FloatVector.broadcast(F8, f16(seg, o + 208));
            FloatVector sc0 = (FloatVector) LongVector.broadcast(LONG2, seg.get(BlockLayouts.LONG_LE, o + 192)).reinterpretAsBytes()
                    .convertShape(VectorOperators.B2F, F8, 0);
            FloatVector sc1 = (FloatVector) LongVector.broadcast(LONG2, seg.get(BlockLayouts.LONG_LE, o + 200)).reinterpretAsBytes()
                    .convertShape(VectorOperators.B2F, F8, 0);
            sc0.mul(FloatVector.fromArray(F8, xds, g0)).mul(dv).intoArray(xds, scr);
            sc1.mul(FloatVector.fromArray(F8, xds, g0 + 8)).mul(dv).intoArray(xds, scr + 8);
            offAcc = sc0.mul(FloatVector.fromArray(F8, xds, ng + g0)).fma(dv, offAcc);
            offAcc = sc1.mul(FloatVector.fromArray(F8, xds, ng + g0 + 8)).fma(dv, offAcc);
            for (int half = 0; half < 2; half++) {
                long ql = o + 64L * half;
                long qh = o + 128 + 32L * half;
                for (int l = 0; l < 32; l += 2 * L) {
                    ByteVector a = ByteVector.fromMemorySegment(B2L, seg, ql + l, LE);
                    ByteVector bb = ByteVector.fromMemorySegment(B2L, seg, ql + l + 32, LE);
                    ByteVector h = ByteVector.fromMemorySegment(B2L, seg, qh + l, LE);
                    // byte shifts as 16-bit shifts, written out: the helpers do not inline in a method this size
                    ShortVector hs = h.reinterpretAsShorts();
                    ByteVector q1 = a.and((byte) 15).or(hs.lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30));
                    ByteVector q2 = bb.and((byte) 15).or(hs.lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30));
                    ByteVector q3 = a.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15).or(h.and((byte) 0x30));
                    ByteVector q4 = bb.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15)
                            .or(hs.lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 0x30));
                    int xa = 16 * g0 + 128 * half + l;
                    IntVector p1 = ((ShortVector) q1.convertShape(VectorOperators.B2S, S2L, 0)).mul(ShortVector.fromArray(S2L, xq, xa)).reinterpretAsInts();
                    IntVector p2 = ((ShortVector) q2.convertShape(VectorOperators.B2S, S2L, 0)).mul(ShortVector.fromArray(S2L, xq, xa + 32)).reinterpretAsInts();
                    IntVector p3 = ((ShortVector) q3.convertShape(VectorOperators.B2S, S2L, 0)).mul(ShortVector.fromArray(S2L, xq, xa + 64)).reinterpretAsInts();
                    IntVector p4 = ((ShortVector) q4.convertShape(VectorOperators.B2S, S2L, 0)).mul(ShortVector.fromArray(S2L, xq, xa + 96)).reinterpretAsInts();
                    IntVector s1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    IntVector s2 = p2.add(p2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    IntVector s3 = p3.add(p3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    IntVector s4 = p4.add(p4.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    int gs = scr + 8 * half + l / 16;
                    FloatVector f1 = FloatVector.broadcast(FS, xds[gs]);
                    FloatVector f2 = FloatVector.broadcast(FS, xds[gs + 2]);
                    FloatVector f3 = FloatVector.broadcast(FS, xds[gs + 4]);
                    FloatVector f4 = FloatVector.broadcast(FS, xds[gs + 6]);
                    if (L == 16) {
                        f1 = f1.blend(xds[gs + 1], UPPER8);
                        f2 = f2.blend(xds[gs + 3], UPPER8);
                        f3 = f3.blend(xds[gs + 5], UPPER8);
                        f4 = f4.blend(xds[gs + 7], UPPER8);
                    }
                    acc = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).fma(f1, acc);
                    acc = ((FloatVector) s2.convert(VectorOperators.I2F, 0)).fma(f2, acc);
                    acc = ((FloatVector) s3.convert(VectorOperators.I2F, 0)).fma(f3, acc);
                    acc = ((FloatVector) s4.convert(VectorOperators.I2F, 0)).fma(f4, acc);
                }
            }
        }
        return sum(acc) - 32 * sum(offAcc);
    }

    /**
     * x to int8 in natural order as ggml's {@code quantize_row_q8_K} (see {@link #quantizeActivationsToShortsNearest});
     * {@code xds[g]} gets the scale of 16-group g and {@code xds[ng + g]} that scale times the group's Σq8.
     */
    private static void quantizeActivationsQ6_K(float[] x, int cols, short[] xq, float[] xds, int ng) {
        for (int s = 0; s < cols; s += 256) {
            float iscale = q8KInverseScale(x, s);
            float d = iscale != 0 ? 1f / iscale : 0f;
            for (int g = s / 16; g < s / 16 + 16; g++) {
                int sum = 0;
                for (int i = 16 * g; i < 16 * g + 16; i++) {
                    int q = (int) Math.rint(iscale * x[i]);
                    xq[i] = (short) q;
                    sum += q;
                }
                xds[g] = d;
                xds[ng + g] = d * sum;
            }
        }
    }

    /**
     * x to int8 as ggml's {@code quantize_row_q8_K} (one scale per 256 values), into {@code xq} in the lane order of a Q4_K row's nibble
     * shorts: per super-block 256 shorts, [even lo][odd lo][even hi][odd hi] × 64, where short t of the weights
     * holds bytes 2t and 2t+1 of nibble group t/16 (low nibbles: sub-block 2·(t/16), high: the next one).
     * {@code xds[j]} gets sub-block j's scale and {@code xds[nsub + j]} its scale times Σq8.
     */
    private static void quantizeActivationsQ4_K(float[] x, int cols, short[] xq, float[] xds, int nsub) {
        float iscale = 0f;
        float d = 0f;
        for (int j = 0; j < nsub; j++) {
            int b = 32 * j;
            if ((j & 7) == 0) {
                iscale = q8KInverseScale(x, b);
                d = iscale != 0 ? 1f / iscale : 0f;
            }
            int at = 256 * (j >> 3) + 128 * (j & 1) + 16 * ((j & 7) >> 1);
            int sum = 0;
            for (int k = 0; k < 32; k += 2) {
                int q0 = (int) Math.rint(iscale * x[b + k]);
                int q1 = (int) Math.rint(iscale * x[b + k + 1]);
                xq[at + k / 2] = (short) q0;
                xq[at + 64 + k / 2] = (short) q1;
                sum += q0 + q1;
            }
            xds[j] = d;
            xds[nsub + j] = d * sum;
        }
    }

    /** Any type: decode a chunk of the row into {@code buf} (L1-resident), then FMA it with x. */
    private static float dotDecoded(GgmlType type, MemorySegment seg, long o, float[] x, int cols, float[] buf) {
        long bytesPerChunk = type.byteSize(CHUNK);
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        float tail = 0f;
        for (int c0 = 0; c0 < cols; c0 += CHUNK, o += bytesPerChunk) {
            int n = Math.min(CHUNK, cols - c0);
            decode(type, seg, o, buf, 0, n);
            int i = 0;
            int upper2 = n - n % (2 * L);
            for (; i < upper2; i += 2 * L) {
                acc0 = FloatVector.fromArray(FS, buf, i).fma(FloatVector.fromArray(FS, x, c0 + i), acc0);
                acc1 = FloatVector.fromArray(FS, buf, i + L).fma(FloatVector.fromArray(FS, x, c0 + i + L), acc1);
            }
            for (; i < n; i++) {
                tail += buf[i] * x[c0 + i];
            }
        }
        return sum(acc0.add(acc1)) + tail;
    }

    /** Q8_0 row · x, fused: int8 weights converted to floats in registers, one scale FMA per block. */
    private static float dotQ8_0(MemorySegment seg, long o, float[] x, int cols) {
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < cols; b += 32, o += 34) {
            FloatVector sum = FloatVector.zero(FS);
            for (int c = 0; c < 32; c += BL) {
                ByteVector q = ByteVector.fromMemorySegment(BS, seg, o + 2 + c, LE);
                for (int p = 0; p < BPARTS; p++) {
                    sum = ((FloatVector) q.convertShape(VectorOperators.B2F, FS, p)).fma(FloatVector.fromArray(FS, x, b + c + p * L), sum);
                }
            }
            acc = sum.fma(FloatVector.broadcast(FS, f16(seg, o)), acc);
        }
        return sum(acc);
    }

    /** Q4_0 row · x, fused: nibbles split and offset in byte lanes, converted to floats in registers. */
    private static float dotQ4_0(MemorySegment seg, long o, float[] x, int cols) {
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < cols; b += 32, o += 18) {
            FloatVector sum = FloatVector.zero(FS);
            for (int c = 0; c < 16; c += BL) {
                ByteVector q = ByteVector.fromMemorySegment(BS, seg, o + 2 + c, LE);
                ByteVector lo = q.and((byte) 15).sub((byte) 8);
                ByteVector hi = srl(q, 4).sub((byte) 8);
                for (int p = 0; p < BPARTS; p++) {
                    sum = ((FloatVector) lo.convertShape(VectorOperators.B2F, FS, p)).fma(FloatVector.fromArray(FS, x, b + c + p * L), sum);
                    sum = ((FloatVector) hi.convertShape(VectorOperators.B2F, FS, p)).fma(FloatVector.fromArray(FS, x, b + 16 + c + p * L), sum);
                }
            }
            acc = sum.fma(FloatVector.broadcast(FS, f16(seg, o)), acc);
        }
        return sum(acc);
    }

    /**
     * Q4_K row · x, fused: per 32-element sub-block Σq·x is scaled by d·sc with one vector FMA; the min term
     * Σ dmin·m·Σx uses the sub-block sums of x that {@code xsum} holds (computed once per thread and call).
     */
    private static float dotQ4_K(MemorySegment seg, long o, float[] x, float[] xsum, int cols) {
        FloatVector acc = FloatVector.zero(FS);
        float minTerm = 0f;
        for (int b = 0; b < cols; b += QK_K, o += 144) {
            float d = f16(seg, o);
            float dmin = f16(seg, o + 2);
            long lo8 = seg.get(BlockLayouts.LONG_LE, o + 4);
            int hi4 = seg.get(BlockLayouts.INT_LE, o + 12);
            long scales = BlockLayouts.scalesK4(lo8, hi4);
            long mins = BlockLayouts.minsK4(lo8, hi4);
            for (int c = 0; c < 4; c++) {
                FloatVector sumLo = FloatVector.zero(FS);
                FloatVector sumHi = FloatVector.zero(FS);
                int base = b + 64 * c;
                for (int l = 0; l < 32; l += BL) {
                    ByteVector q = ByteVector.fromMemorySegment(BS, seg, o + 16 + 32 * c + l, LE);
                    ByteVector lo = q.and((byte) 15);
                    ByteVector hi = srl(q, 4);
                    for (int p = 0; p < BPARTS; p++) {
                        sumLo = ((FloatVector) lo.convertShape(VectorOperators.B2F, FS, p)).fma(FloatVector.fromArray(FS, x, base + l + p * L), sumLo);
                        sumHi = ((FloatVector) hi.convertShape(VectorOperators.B2F, FS, p)).fma(FloatVector.fromArray(FS, x, base + 32 + l + p * L), sumHi);
                    }
                }
                int sc0 = (int) (scales >>> (16 * c)) & 0xFF;
                int sc1 = (int) (scales >>> (16 * c + 8)) & 0xFF;
                int m0 = (int) (mins >>> (16 * c)) & 0xFF;
                int m1 = (int) (mins >>> (16 * c + 8)) & 0xFF;
                acc = sumLo.fma(FloatVector.broadcast(FS, d * sc0), acc);
                acc = sumHi.fma(FloatVector.broadcast(FS, d * sc1), acc);
                int sub = base / 32;
                minTerm += dmin * m0 * xsum[sub] + dmin * m1 * xsum[sub + 1];
            }
        }
        return sum(acc) - minTerm;
    }

    /** Sums of x over each 32-element sub-block, into {@code xsum[0..cols/32)}. */
    private static void subBlockSums(float[] x, int cols, float[] xsum) {
        for (int b = 0; b < cols; b += 32) {
            FloatVector s = FloatVector.zero(FS);
            for (int i = 0; i < 32; i += L) {
                s = s.add(FloatVector.fromArray(FS, x, b + i));
            }
            xsum[b / 32] = sum(s);
        }
    }

    /** Q6_K row · x, fused: 6-bit quants assembled in byte lanes, scaled per 16-element group. */
    private static float dotQ6_K(MemorySegment seg, long o, float[] x, int cols) {
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        for (int b = 0; b < cols; b += QK_K, o += 210) {
            float d = f16(seg, o + 208);
            for (int half = 0; half < 2; half++) {
                long ql = o + 64L * half;
                long qh = o + 128 + 32L * half;
                long scales = seg.get(BlockLayouts.LONG_LE, o + 192 + 8L * half);
                int base = b + 128 * half;
                for (int l = 0; l < 32; l += BL) {
                    int is = l / 16;
                    ByteVector a = ByteVector.fromMemorySegment(BS, seg, ql + l, LE);
                    ByteVector bb = ByteVector.fromMemorySegment(BS, seg, ql + l + 32, LE);
                    ByteVector h = ByteVector.fromMemorySegment(BS, seg, qh + l, LE);
                    ByteVector q1 = a.and((byte) 15).or(sll(h, 4).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q2 = bb.and((byte) 15).or(sll(h, 2).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q3 = srl(a, 4).or(h.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q4 = srl(bb, 4).or(srl(h, 2).and((byte) 0x30)).sub((byte) 32);
                    FloatVector s1 = FloatVector.broadcast(FS, d * (byte) (scales >>> (8 * is)));
                    FloatVector s2 = FloatVector.broadcast(FS, d * (byte) (scales >>> (8 * (is + 2))));
                    FloatVector s3 = FloatVector.broadcast(FS, d * (byte) (scales >>> (8 * (is + 4))));
                    FloatVector s4 = FloatVector.broadcast(FS, d * (byte) (scales >>> (8 * (is + 6))));
                    for (int p = 0; p < BPARTS; p++) {
                        int at = base + l + p * L;
                        acc0 = ((FloatVector) q1.convertShape(VectorOperators.B2F, FS, p)).mul(s1).fma(FloatVector.fromArray(FS, x, at), acc0);
                        acc1 = ((FloatVector) q2.convertShape(VectorOperators.B2F, FS, p)).mul(s2).fma(FloatVector.fromArray(FS, x, at + 32), acc1);
                        acc0 = ((FloatVector) q3.convertShape(VectorOperators.B2F, FS, p)).mul(s3).fma(FloatVector.fromArray(FS, x, at + 64), acc0);
                        acc1 = ((FloatVector) q4.convertShape(VectorOperators.B2F, FS, p)).mul(s4).fma(FloatVector.fromArray(FS, x, at + 96), acc1);
                    }
                }
            }
        }
        return sum(acc0.add(acc1));
    }

    /**
     * Rows [rowStart, rowEnd) in tiles of {@link #tileRows} rows: each tile is decoded once into L2-sized scratch,
     * then every group of four activation rows is multiplied with each four-row slice of it ({@link #dot4x4}),
     * so the activations stream from L3 once per tile rather than once per four rows. With four-row tiles, the
     * activations of a long prompt came from L3 for every four rows and prompt processing ran about a third slower.
     */
    private static void matmulTiles(WeightMatrix w, float[] x, int n, float[] out, int rowStart, int rowEnd, float[] tile) {
        int cols = w.cols();
        int rows = w.rows();
        int tileRows = tileRows(cols);
        for (int r0 = rowStart; r0 < rowEnd; r0 += tileRows) {
            int tr = Math.min(tileRows, rowEnd - r0);
            if (packs(w)) {
                MemorySegment p = packedReady(w);
                for (int i = 0; i < tr; i++) {
                    decodePackedRow(w.type(), p, cols, r0 + i, tile, i * cols);
                }
            } else {
                for (int i = 0; i < tr; i++) {
                    decode(w.type(), w.data(), w.rowOffset(r0 + i), tile, i * cols, cols);
                }
            }
            int quads = cols % L == 0 ? tr / 4 * 4 : 0; // rows the micro-kernels take
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                for (int i = 0; i < quads; i += 4) {
                    dot4x4(tile, i * cols, cols, x, t * cols, out, t * rows + r0 + i, rows);
                }
            }
            for (; t < n; t++) {
                for (int i = 0; i < quads; i += 4) {
                    dot4(tile, i * cols, cols, x, t * cols, out, t * rows + r0 + i);
                }
            }
            for (t = 0; t < n; t++) {
                for (int i = quads; i < tr; i++) {
                    out[t * rows + r0 + i] = dotF32(tile, i * cols, x, t * cols, cols);
                }
            }
        }
    }

    /** Rows of a matmul panel: four float vectors. */
    private static final int PANEL = 4 * L;
    /** Columns of a panel decoded at once (a multiple of every block size), 512 KiB of floats at 512 bits. */
    private static final int PANEL_COLS = 2048;
    /**
     * Token count from which matmul takes panels: below it, transposing a panel costs more than the broadcast
     * kernel gains (JMH, 2048×2048, one thread, GFLOP/s, Q4_0 panels against four-row tiles: 48 tokens 150
     * against 130, 64: 154/131, 96: 188/141, 128: 203/138, 512: 234/145). {@code -Dvellama.matmul.panelTokens}
     * moves it.
     */
    private static final int PANEL_MIN_TOKENS = Integer.getInteger("vellama.matmul.panelTokens", 48);

    /**
     * Rows [rowStart, rowEnd) in panels of {@link #PANEL} rows and {@link #PANEL_COLS} columns: a panel is decoded,
     * transposed (column by column, the panel's rows side by side), then the tokens run over it six at a time
     * ({@link #vecmatGroups}), each column's four row vectors multiplied with each token's activation broadcast: no
     * horizontal sums, and each output row vector is stored whole. Leftover rows take {@link #matmulTiles}.
     */
    private static void matmulPanels(WeightMatrix w, float[] x, int n, float[] out, int rowStart, int rowEnd, float[] buf, float[] panel) {
        int cols = w.cols();
        int rows = w.rows();
        GgmlType type = w.type();
        int r0 = rowStart;
        for (; r0 + PANEL <= rowEnd; r0 += PANEL) {
            for (int k0 = 0; k0 < cols; k0 += PANEL_COLS) {
                int kc = Math.min(PANEL_COLS, cols - k0);
                if (packs(w)) {
                    // r0 is a multiple of PACK_ROWS (the shares are groups), so the panel is two whole groups
                    decodePackedPanel(type, packedReady(w), cols, r0 / PACK_ROWS, k0, kc, panel, buf);
                } else {
                    long skip = type.byteSize(k0);
                    for (int i = 0; i < PANEL; i++) {
                        decode(type, w.data(), w.rowOffset(r0 + i) + skip, buf, i * kc, kc);
                    }
                    // transposed four rows at a time: four read streams, one write stream (one row at a time
                    // cost 5% of a 512-token matmul and 22% of a 128-token one; all 64 rows at a time, twice as much)
                    for (int i0 = 0; i0 < PANEL; i0 += 4) {
                        for (int k = 0, b = i0 * kc; k < kc; k++, b++) {
                            int at = k * PANEL + i0;
                            panel[at] = buf[b];
                            panel[at + 1] = buf[b + kc];
                            panel[at + 2] = buf[b + 2 * kc];
                            panel[at + 3] = buf[b + 3 * kc];
                        }
                    }
                }
                if (k0 == 0) {
                    for (int t = 0; t < n; t++) {
                        java.util.Arrays.fill(out, t * rows + r0, t * rows + r0 + PANEL, 0f);
                    }
                }
                vecmatGroups(x, k0, cols, n, kc, panel, 0, PANEL, out, r0, rows, PANEL);
            }
        }
        if (r0 < rowEnd) {
            matmulTiles(w, x, n, out, r0, rowEnd, buf);
        }
    }

    /**
     * Six row vectors (a_c at aOff + c·aStride, c < 6) times the 4L columns of m starting at mOff ({@code rows}
     * rows, {@code stride} apart), added to y_c at yOff + c·yStride: each matrix load serves six FMAs and no
     * horizontal sums are needed. The register block of the panel matmul and of batched attention.
     */
    private static void vecmat6x4(float[] a, int aOff, int aStride, int rows, float[] m, int mOff, int stride, float[] y, int yOff, int yStride) {
        FloatVector a00 = FloatVector.fromArray(FS, y, yOff), a01 = FloatVector.fromArray(FS, y, yOff + L);
        FloatVector a02 = FloatVector.fromArray(FS, y, yOff + 2 * L), a03 = FloatVector.fromArray(FS, y, yOff + 3 * L);
        FloatVector a10 = FloatVector.fromArray(FS, y, yOff + yStride), a11 = FloatVector.fromArray(FS, y, yOff + yStride + L);
        FloatVector a12 = FloatVector.fromArray(FS, y, yOff + yStride + 2 * L), a13 = FloatVector.fromArray(FS, y, yOff + yStride + 3 * L);
        FloatVector a20 = FloatVector.fromArray(FS, y, yOff + 2 * yStride), a21 = FloatVector.fromArray(FS, y, yOff + 2 * yStride + L);
        FloatVector a22 = FloatVector.fromArray(FS, y, yOff + 2 * yStride + 2 * L), a23 = FloatVector.fromArray(FS, y, yOff + 2 * yStride + 3 * L);
        FloatVector a30 = FloatVector.fromArray(FS, y, yOff + 3 * yStride), a31 = FloatVector.fromArray(FS, y, yOff + 3 * yStride + L);
        FloatVector a32 = FloatVector.fromArray(FS, y, yOff + 3 * yStride + 2 * L), a33 = FloatVector.fromArray(FS, y, yOff + 3 * yStride + 3 * L);
        FloatVector a40 = FloatVector.fromArray(FS, y, yOff + 4 * yStride), a41 = FloatVector.fromArray(FS, y, yOff + 4 * yStride + L);
        FloatVector a42 = FloatVector.fromArray(FS, y, yOff + 4 * yStride + 2 * L), a43 = FloatVector.fromArray(FS, y, yOff + 4 * yStride + 3 * L);
        FloatVector a50 = FloatVector.fromArray(FS, y, yOff + 5 * yStride), a51 = FloatVector.fromArray(FS, y, yOff + 5 * yStride + L);
        FloatVector a52 = FloatVector.fromArray(FS, y, yOff + 5 * yStride + 2 * L), a53 = FloatVector.fromArray(FS, y, yOff + 5 * yStride + 3 * L);
        for (int k = 0, mo = mOff; k < rows; k++, mo += stride) {
            FloatVector w0 = FloatVector.fromArray(FS, m, mo);
            FloatVector w1 = FloatVector.fromArray(FS, m, mo + L);
            FloatVector w2 = FloatVector.fromArray(FS, m, mo + 2 * L);
            FloatVector w3 = FloatVector.fromArray(FS, m, mo + 3 * L);
            int ao = aOff + k;
            FloatVector b = FloatVector.broadcast(FS, a[ao]);
            a00 = w0.fma(b, a00); a01 = w1.fma(b, a01); a02 = w2.fma(b, a02); a03 = w3.fma(b, a03);
            b = FloatVector.broadcast(FS, a[ao + aStride]);
            a10 = w0.fma(b, a10); a11 = w1.fma(b, a11); a12 = w2.fma(b, a12); a13 = w3.fma(b, a13);
            b = FloatVector.broadcast(FS, a[ao + 2 * aStride]);
            a20 = w0.fma(b, a20); a21 = w1.fma(b, a21); a22 = w2.fma(b, a22); a23 = w3.fma(b, a23);
            b = FloatVector.broadcast(FS, a[ao + 3 * aStride]);
            a30 = w0.fma(b, a30); a31 = w1.fma(b, a31); a32 = w2.fma(b, a32); a33 = w3.fma(b, a33);
            b = FloatVector.broadcast(FS, a[ao + 4 * aStride]);
            a40 = w0.fma(b, a40); a41 = w1.fma(b, a41); a42 = w2.fma(b, a42); a43 = w3.fma(b, a43);
            b = FloatVector.broadcast(FS, a[ao + 5 * aStride]);
            a50 = w0.fma(b, a50); a51 = w1.fma(b, a51); a52 = w2.fma(b, a52); a53 = w3.fma(b, a53);
        }
        a00.intoArray(y, yOff); a01.intoArray(y, yOff + L); a02.intoArray(y, yOff + 2 * L); a03.intoArray(y, yOff + 3 * L);
        a10.intoArray(y, yOff + yStride); a11.intoArray(y, yOff + yStride + L);
        a12.intoArray(y, yOff + yStride + 2 * L); a13.intoArray(y, yOff + yStride + 3 * L);
        a20.intoArray(y, yOff + 2 * yStride); a21.intoArray(y, yOff + 2 * yStride + L);
        a22.intoArray(y, yOff + 2 * yStride + 2 * L); a23.intoArray(y, yOff + 2 * yStride + 3 * L);
        a30.intoArray(y, yOff + 3 * yStride); a31.intoArray(y, yOff + 3 * yStride + L);
        a32.intoArray(y, yOff + 3 * yStride + 2 * L); a33.intoArray(y, yOff + 3 * yStride + 3 * L);
        a40.intoArray(y, yOff + 4 * yStride); a41.intoArray(y, yOff + 4 * yStride + L);
        a42.intoArray(y, yOff + 4 * yStride + 2 * L); a43.intoArray(y, yOff + 4 * yStride + 3 * L);
        a50.intoArray(y, yOff + 5 * yStride); a51.intoArray(y, yOff + 5 * yStride + L);
        a52.intoArray(y, yOff + 5 * yStride + 2 * L); a53.intoArray(y, yOff + 5 * yStride + 3 * L);
    }

    /** Rows per matmul tile: a multiple of four whose decoded floats fill about {@link #TILE_BYTES}. */
    private static int tileRows(int cols) {
        return Math.max(4, TILE_BYTES / (4 * cols) / 4 * 4);
    }

    /**
     * The matmul micro-kernel: four weight rows × four activation rows in 16 accumulators, so every vector load
     * feeds four FMAs. Writes out[outOff + t·rows + i] for token t and row i.
     */
    private static void dot4x4(float[] w4, int wOff, int cols, float[] x, int xOff, float[] out, int outOff, int rows) {
        FloatVector a00 = FloatVector.zero(FS), a01 = FloatVector.zero(FS), a02 = FloatVector.zero(FS), a03 = FloatVector.zero(FS);
        FloatVector a10 = FloatVector.zero(FS), a11 = FloatVector.zero(FS), a12 = FloatVector.zero(FS), a13 = FloatVector.zero(FS);
        FloatVector a20 = FloatVector.zero(FS), a21 = FloatVector.zero(FS), a22 = FloatVector.zero(FS), a23 = FloatVector.zero(FS);
        FloatVector a30 = FloatVector.zero(FS), a31 = FloatVector.zero(FS), a32 = FloatVector.zero(FS), a33 = FloatVector.zero(FS);
        for (int c = 0; c < cols; c += L) {
            FloatVector w0 = FloatVector.fromArray(FS, w4, wOff + c);
            FloatVector w1 = FloatVector.fromArray(FS, w4, wOff + cols + c);
            FloatVector w2 = FloatVector.fromArray(FS, w4, wOff + 2 * cols + c);
            FloatVector w3 = FloatVector.fromArray(FS, w4, wOff + 3 * cols + c);
            FloatVector x0 = FloatVector.fromArray(FS, x, xOff + c);
            a00 = w0.fma(x0, a00);
            a01 = w1.fma(x0, a01);
            a02 = w2.fma(x0, a02);
            a03 = w3.fma(x0, a03);
            FloatVector x1 = FloatVector.fromArray(FS, x, xOff + cols + c);
            a10 = w0.fma(x1, a10);
            a11 = w1.fma(x1, a11);
            a12 = w2.fma(x1, a12);
            a13 = w3.fma(x1, a13);
            FloatVector x2 = FloatVector.fromArray(FS, x, xOff + 2 * cols + c);
            a20 = w0.fma(x2, a20);
            a21 = w1.fma(x2, a21);
            a22 = w2.fma(x2, a22);
            a23 = w3.fma(x2, a23);
            FloatVector x3 = FloatVector.fromArray(FS, x, xOff + 3 * cols + c);
            a30 = w0.fma(x3, a30);
            a31 = w1.fma(x3, a31);
            a32 = w2.fma(x3, a32);
            a33 = w3.fma(x3, a33);
        }
        out[outOff] = sum(a00);
        out[outOff + 1] = sum(a01);
        out[outOff + 2] = sum(a02);
        out[outOff + 3] = sum(a03);
        out[outOff + rows] = sum(a10);
        out[outOff + rows + 1] = sum(a11);
        out[outOff + rows + 2] = sum(a12);
        out[outOff + rows + 3] = sum(a13);
        out[outOff + 2 * rows] = sum(a20);
        out[outOff + 2 * rows + 1] = sum(a21);
        out[outOff + 2 * rows + 2] = sum(a22);
        out[outOff + 2 * rows + 3] = sum(a23);
        out[outOff + 3 * rows] = sum(a30);
        out[outOff + 3 * rows + 1] = sum(a31);
        out[outOff + 3 * rows + 2] = sum(a32);
        out[outOff + 3 * rows + 3] = sum(a33);
    }

    /** Four contiguous rows of {@code cols} floats dotted with one activation row, sharing its loads. */
    private static void dot4(float[] w4, int wOff, int cols, float[] x, int xOff, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = FloatVector.zero(FS);
        FloatVector a2 = FloatVector.zero(FS);
        FloatVector a3 = FloatVector.zero(FS);
        for (int c = 0; c < cols; c += L) {
            FloatVector xv = FloatVector.fromArray(FS, x, xOff + c);
            a0 = FloatVector.fromArray(FS, w4, wOff + c).fma(xv, a0);
            a1 = FloatVector.fromArray(FS, w4, wOff + cols + c).fma(xv, a1);
            a2 = FloatVector.fromArray(FS, w4, wOff + 2 * cols + c).fma(xv, a2);
            a3 = FloatVector.fromArray(FS, w4, wOff + 3 * cols + c).fma(xv, a3);
        }
        out[outOff] = sum(a0);
        out[outOff + 1] = sum(a1);
        out[outOff + 2] = sum(a2);
        out[outOff + 3] = sum(a3);
    }

    @Override
    public void dequantizeRow(WeightMatrix w, int row, float[] dst, int dstOffset) {
        if (row < 0 || row >= w.rows()) {
            throw new IndexOutOfBoundsException("row " + row + " of " + w.name() + " with " + w.rows() + " rows");
        }
        decode(w.type(), w.data(), w.rowOffset(row), dst, dstOffset, w.cols());
    }

    /**
     * Decodes {@code count} values (whole blocks) at byte {@code o} to floats, with the same float operations as
     * {@link Dequantizer}, so the result is bit-identical; types without a vector decoder use it directly.
     */
    private static void decode(GgmlType type, MemorySegment seg, long o, float[] dst, int dstOff, int count) {
        switch (type) {
            case Q8_0 -> {
                for (int b = 0; b < count; b += 32, o += 34) {
                    decodeQ8_0(seg, o, dst, dstOff + b);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < count; b += 32, o += 18) {
                    decodeQ4_0(seg, o, dst, dstOff + b);
                }
            }
            case Q4_K -> {
                for (int b = 0; b < count; b += QK_K, o += 144) {
                    decodeQ45_K(seg, o, dst, dstOff + b, false);
                }
            }
            case Q6_K -> {
                for (int b = 0; b < count; b += QK_K, o += 210) {
                    decodeQ6_K(seg, o, dst, dstOff + b);
                }
            }
            case Q4_1 -> {
                for (int b = 0; b < count; b += 32, o += 20) {
                    decodeQ4_1(seg, o, dst, dstOff + b);
                }
            }
            case Q5_0 -> {
                for (int b = 0; b < count; b += 32, o += 22) {
                    decodeQ5(seg, o + 2, o + 6, f16(seg, o), 0f, -16, dst, dstOff + b);
                }
            }
            case Q5_1 -> {
                for (int b = 0; b < count; b += 32, o += 24) {
                    decodeQ5(seg, o + 4, o + 8, f16(seg, o), f16(seg, o + 2), 0, dst, dstOff + b);
                }
            }
            case IQ4_NL -> {
                for (int b = 0; b < count; b += 32, o += 18) {
                    decodeIq4(seg, o + 2, f16(seg, o), dst, dstOff + b);
                }
            }
            case IQ4_XS -> {
                for (int b = 0; b < count; b += QK_K, o += 136) {
                    float d = f16(seg, o);
                    int scalesH = BlockLayouts.bits16(seg, o + 2) & 0xFFFF;
                    for (int ib = 0; ib < 8; ib++) {
                        int ls = ((BlockLayouts.u8(seg, o + 4 + ib / 2) >> (4 * (ib % 2))) & 15) | ((scalesH >> (2 * ib)) & 3) << 4;
                        decodeIq4(seg, o + 8 + 16L * ib, d * (ls - 32), dst, dstOff + b + 32 * ib);
                    }
                }
            }
            case Q5_K -> {
                for (int b = 0; b < count; b += QK_K, o += 176) {
                    decodeQ45_K(seg, o, dst, dstOff + b, true);
                }
            }
            case Q2_K -> {
                for (int b = 0; b < count; b += QK_K, o += 84) {
                    decodeQ2_K(seg, o, dst, dstOff + b);
                }
            }
            case Q3_K -> {
                for (int b = 0; b < count; b += QK_K, o += 110) {
                    decodeQ3_K(seg, o, dst, dstOff + b);
                }
            }
            case F32 -> MemorySegment.copy(seg, BlockLayouts.FLOAT_LE, o, dst, dstOff, count);
            case F16 -> decodeF16(seg, o, dst, dstOff, count);
            case BF16 -> decodeBF16(seg, o, dst, dstOff, count);
            default -> Dequantizer.dequantize(type, seg, o, dst, dstOff, count);
        }
    }

    /**
     * Per-byte logical shift right, done as a 16-bit shift plus a mask: x86 has no byte shifts, and C2 widens and
     * narrows for a byte-lane shift. Small enough to inline, so the vector does not escape.
     */
    private static ByteVector srl(ByteVector v, int n) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, n).reinterpretAsBytes().and((byte) (0xFF >>> n));
    }

    /** Per-byte shift left, as a 16-bit shift plus a mask (see {@link #srl}). */
    private static ByteVector sll(ByteVector v, int n) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHL, n).reinterpretAsBytes().and((byte) (0xFF << n));
    }

    private static void decodeQ8_0(MemorySegment seg, long o, float[] dst, int at) {
        FloatVector d = FloatVector.broadcast(FS, f16(seg, o));
        for (int c = 0; c < 32; c += BL) {
            ByteVector q = ByteVector.fromMemorySegment(BS, seg, o + 2 + c, LE);
            for (int p = 0; p < BPARTS; p++) {
                ((FloatVector) q.convertShape(VectorOperators.B2F, FS, p)).mul(d).intoArray(dst, at + c + p * L);
            }
        }
    }

    private static void decodeQ4_0(MemorySegment seg, long o, float[] dst, int at) {
        FloatVector d = FloatVector.broadcast(FS, f16(seg, o));
        for (int c = 0; c < 16; c += BL) {
            ByteVector q = ByteVector.fromMemorySegment(BS, seg, o + 2 + c, LE);
            ByteVector lo = q.and((byte) 15).sub((byte) 8);
            ByteVector hi = srl(q, 4).sub((byte) 8);
            for (int p = 0; p < BPARTS; p++) {
                ((FloatVector) lo.convertShape(VectorOperators.B2F, FS, p)).mul(d).intoArray(dst, at + c + p * L);
                ((FloatVector) hi.convertShape(VectorOperators.B2F, FS, p)).mul(d).intoArray(dst, at + 16 + c + p * L);
            }
        }
    }

    /**
     * A Q4_K super-block, or a Q5_K one ({@code fifthBits}): the same scales and nibbles, the nibbles at o + 48
     * instead of o + 16, and a fifth bit per value from the 32 bytes at o + 16.
     */
    private static void decodeQ45_K(MemorySegment seg, long o, float[] dst, int at, boolean fifthBits) {
        float d = f16(seg, o);
        float dmin = f16(seg, o + 2);
        long qs = o + (fifthBits ? 48 : 16);
        for (int c = 0; c < 4; c++) {
            int sm0 = BlockLayouts.scaleMinK4(seg, o + 4, 2 * c);
            int sm1 = BlockLayouts.scaleMinK4(seg, o + 4, 2 * c + 1);
            FloatVector d1 = FloatVector.broadcast(FS, d * (sm0 & 0xFF));
            FloatVector m1 = FloatVector.broadcast(FS, dmin * (sm0 >> 8));
            FloatVector d2 = FloatVector.broadcast(FS, d * (sm1 & 0xFF));
            FloatVector m2 = FloatVector.broadcast(FS, dmin * (sm1 >> 8));
            int base = at + 64 * c;
            for (int l = 0; l < 32; l += BL) {
                ByteVector q = ByteVector.fromMemorySegment(BS, seg, qs + 32 * c + l, LE);
                ByteVector lo = q.and((byte) 15);
                // byte shifts as 16-bit shifts, written out: in a method this size the helpers were not inlined
                // and every vector they took was boxed (Q5_K matvec ran at 1 GB/s)
                ByteVector hi = q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15);
                if (fifthBits) {
                    // bit 2c (and 2c + 1) of each byte to bit 4: the 16-bit shifts carry nothing into bit 4 of a byte
                    // from its neighbour, since 2c + 1 < 8
                    ShortVector h = ByteVector.fromMemorySegment(BS, seg, o + 16 + l, LE).reinterpretAsShorts();
                    lo = lo.or(h.lanewise(VectorOperators.LSHR, 2 * c).lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x10));
                    hi = hi.or(h.lanewise(VectorOperators.LSHR, 2 * c + 1).lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x10));
                }
                for (int p = 0; p < BPARTS; p++) {
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, FS, p)).mul(d1).sub(m1).intoArray(dst, base + l + p * L);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, FS, p)).mul(d2).sub(m2).intoArray(dst, base + 32 + l + p * L);
                }
            }
        }
    }

    private static void decodeQ6_K(MemorySegment seg, long o, float[] dst, int at) {
        float d = f16(seg, o + 208);
        for (int half = 0; half < 2; half++) {
            long ql = o + 64L * half;
            long qh = o + 128 + 32L * half;
            long sc = o + 192 + 8L * half;
            int base = at + 128 * half;
            for (int l = 0; l < 32; l += BL) {
                int is = l / 16;
                ByteVector a = ByteVector.fromMemorySegment(BS, seg, ql + l, LE);
                ByteVector b = ByteVector.fromMemorySegment(BS, seg, ql + l + 32, LE);
                ByteVector h = ByteVector.fromMemorySegment(BS, seg, qh + l, LE);
                ByteVector q1 = a.and((byte) 15).or(sll(h, 4).and((byte) 0x30)).sub((byte) 32);
                ByteVector q2 = b.and((byte) 15).or(sll(h, 2).and((byte) 0x30)).sub((byte) 32);
                ByteVector q3 = srl(a, 4).or(h.and((byte) 0x30)).sub((byte) 32);
                ByteVector q4 = srl(b, 4).or(srl(h, 2).and((byte) 0x30)).sub((byte) 32);
                FloatVector s1 = FloatVector.broadcast(FS, d * i8(seg, sc + is));
                FloatVector s2 = FloatVector.broadcast(FS, d * i8(seg, sc + is + 2));
                FloatVector s3 = FloatVector.broadcast(FS, d * i8(seg, sc + is + 4));
                FloatVector s4 = FloatVector.broadcast(FS, d * i8(seg, sc + is + 6));
                for (int p = 0; p < BPARTS; p++) {
                    int at1 = base + l + p * L;
                    s1.mul((FloatVector) q1.convertShape(VectorOperators.B2F, FS, p)).intoArray(dst, at1);
                    s2.mul((FloatVector) q2.convertShape(VectorOperators.B2F, FS, p)).intoArray(dst, at1 + 32);
                    s3.mul((FloatVector) q3.convertShape(VectorOperators.B2F, FS, p)).intoArray(dst, at1 + 64);
                    s4.mul((FloatVector) q4.convertShape(VectorOperators.B2F, FS, p)).intoArray(dst, at1 + 96);
                }
            }
        }
    }

    private static void decodeQ4_1(MemorySegment seg, long o, float[] dst, int at) {
        FloatVector d = FloatVector.broadcast(FS, f16(seg, o));
        FloatVector m = FloatVector.broadcast(FS, f16(seg, o + 2));
        for (int c = 0; c < 16; c += BL) {
            ByteVector q = ByteVector.fromMemorySegment(BS, seg, o + 4 + c, LE);
            ByteVector lo = q.and((byte) 15);
            ByteVector hi = srl(q, 4);
            for (int p = 0; p < BPARTS; p++) {
                ((FloatVector) lo.convertShape(VectorOperators.B2F, FS, p)).mul(d).add(m).intoArray(dst, at + c + p * L);
                ((FloatVector) hi.convertShape(VectorOperators.B2F, FS, p)).mul(d).add(m).intoArray(dst, at + 16 + c + p * L);
            }
        }
    }

    /** Lane numbers 0..L-1, for per-lane bit positions. */
    private static final int[] IOTA = iota();

    private static int[] iota() {
        int[] a = new int[L];
        for (int i = 0; i < L; i++) {
            a[i] = i;
        }
        return a;
    }

    /**
     * Q5_0 (offset −16, no min) and Q5_1 (offset 0, min m): nibbles plus the fifth bit, taken per lane from the
     * 32-bit qh word at {@code qhAt}; y = (q + offset)·d + m, as the scalar decoder computes it.
     */
    private static void decodeQ5(MemorySegment seg, long qhAt, long qsAt, float d, float m, int offset, float[] dst, int at) {
        IntVector qh = IntVector.broadcast(IS, seg.get(BlockLayouts.INT_LE, qhAt));
        IntVector lanes = IntVector.fromArray(IS, IOTA, 0);
        FloatVector dv = FloatVector.broadcast(FS, d);
        FloatVector mv = FloatVector.broadcast(FS, m);
        for (int c = 0; c < 16; c += BL) {
            ByteVector q = ByteVector.fromMemorySegment(BS, seg, qsAt + c, LE);
            ByteVector lo = q.and((byte) 15);
            ByteVector hi = srl(q, 4);
            for (int p = 0; p < BPARTS; p++) {
                int j = c + p * L;
                IntVector bitLo = qh.lanewise(VectorOperators.LSHR, lanes.add(j)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector bitHi = qh.lanewise(VectorOperators.LSHR, lanes.add(j + 16)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector qLo = ((IntVector) lo.convertShape(VectorOperators.B2I, IS, p)).or(bitLo).add(offset);
                IntVector qHi = ((IntVector) hi.convertShape(VectorOperators.B2I, IS, p)).or(bitHi).add(offset);
                FloatVector yLo = ((FloatVector) qLo.convert(VectorOperators.I2F, 0)).mul(dv);
                FloatVector yHi = ((FloatVector) qHi.convert(VectorOperators.I2F, 0)).mul(dv);
                if (offset == 0) {
                    yLo = yLo.add(mv);
                    yHi = yHi.add(mv);
                }
                yLo.intoArray(dst, at + j);
                yHi.intoArray(dst, at + 16 + j);
            }
        }
    }

    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Float vectors per 16 bytes. */
    private static final int PARTS16 = 16 / L;

    /** 32 IQ4 values from 16 bytes at {@code qsAt}: nibbles index the 16 levels with a byte shuffle; y = d·level. */
    private static void decodeIq4(MemorySegment seg, long qsAt, float d, float[] dst, int at) {
        ByteVector levels = ByteVector.fromArray(B16, BlockLayouts.IQ4NL_LEVELS, 0);
        ByteVector q = ByteVector.fromMemorySegment(B16, seg, qsAt, LE);
        ByteVector lo = q.and((byte) 15).selectFrom(levels);
        ByteVector hi = srl(q, 4).selectFrom(levels);
        FloatVector dv = FloatVector.broadcast(FS, d);
        for (int p = 0; p < PARTS16; p++) {
            dv.mul((FloatVector) lo.convertShape(VectorOperators.B2F, FS, p)).intoArray(dst, at + p * L);
            dv.mul((FloatVector) hi.convertShape(VectorOperators.B2F, FS, p)).intoArray(dst, at + 16 + p * L);
        }
    }

    private static void decodeQ2_K(MemorySegment seg, long o, float[] dst, int at) {
        float d = f16(seg, o + 80);
        float dmin = f16(seg, o + 82);
        int is = 0;
        int out = at;
        for (int half = 0; half < 2; half++) {
            long qs = o + 16 + 32L * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    int sc = BlockLayouts.u8(seg, o + is++);
                    FloatVector dl = FloatVector.broadcast(FS, d * (sc & 15));
                    FloatVector ml = FloatVector.broadcast(FS, dmin * (sc >> 4));
                    for (int l = 0; l < 16; l += BL) {
                        ByteVector q = srl(ByteVector.fromMemorySegment(BS, seg, qs + 16 * part + l, LE), shift).and((byte) 3);
                        for (int p = 0; p < BPARTS; p++) {
                            dl.mul((FloatVector) q.convertShape(VectorOperators.B2F, FS, p)).sub(ml).intoArray(dst, out + l + p * L);
                        }
                    }
                    out += 16;
                }
            }
        }
    }

    private static void decodeQ3_K(MemorySegment seg, long o, float[] dst, int at) {
        float dAll = f16(seg, o + 108);
        int is = 0;
        int mask = 1;
        int out = at;
        for (int half = 0; half < 2; half++) {
            long qs = o + 32 + 32L * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    FloatVector dl = FloatVector.broadcast(FS, dAll * BlockLayouts.q3kScale(seg, o + 96, is++));
                    for (int l = 0; l < 16; l += BL) {
                        int idx = 16 * part + l;
                        ByteVector low = srl(ByteVector.fromMemorySegment(BS, seg, qs + idx, LE), shift).and((byte) 3);
                        ByteVector hm = ByteVector.fromMemorySegment(BS, seg, o + idx, LE).and((byte) mask);
                        ByteVector q = low.lanewise(VectorOperators.SUB, (byte) 4, hm.compare(VectorOperators.EQ, (byte) 0));
                        for (int p = 0; p < BPARTS; p++) {
                            dl.mul((FloatVector) q.convertShape(VectorOperators.B2F, FS, p)).intoArray(dst, out + l + p * L);
                        }
                    }
                    out += 16;
                }
                mask <<= 1;
            }
        }
    }

    private static void decodeBF16(MemorySegment seg, long o, float[] dst, int at, int count) {
        int upper = FS.loopBound(count);
        int i = 0;
        for (; i < upper; i += L) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(SS, seg, o + 2L * i, LE).convertShape(VectorOperators.S2I, IS, 0);
            bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, at + i);
        }
        for (; i < count; i++) {
            dst[at + i] = Half.bf16ToFloat(BlockLayouts.bits16(seg, o + 2L * i));
        }
    }

    private static void decodeF16(MemorySegment seg, long o, float[] dst, int at, int count) {
        int upper = FS.loopBound(count);
        int i = 0;
        for (; i < upper; i += L) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(SS, seg, o + 2L * i, LE).convertShape(VectorOperators.S2I, IS, 0);
            halfBitsToFloats(bits).intoArray(dst, at + i);
        }
        for (; i < count; i++) {
            dst[at + i] = f16(seg, o + 2L * i);
        }
    }

    private static float dotF32Segment(MemorySegment seg, long off, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        int upper2 = n - n % (2 * L);
        int i = 0;
        for (; i < upper2; i += 2 * L) {
            acc0 = FloatVector.fromMemorySegment(FS, seg, off + 4L * i, LE).fma(FloatVector.fromArray(FS, x, i), acc0);
            acc1 = FloatVector.fromMemorySegment(FS, seg, off + 4L * (i + L), LE).fma(FloatVector.fromArray(FS, x, i + L), acc1);
        }
        float s = sum(acc0.add(acc1));
        for (; i < n; i++) {
            s += seg.get(BlockLayouts.FLOAT_LE, off + 4L * i) * x[i];
        }
        return s;
    }

    private static float dotF32(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        int upper2 = n - n % (2 * L);
        int i = 0;
        for (; i < upper2; i += 2 * L) {
            acc0 = FloatVector.fromArray(FS, a, aOff + i).fma(FloatVector.fromArray(FS, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(FS, a, aOff + i + L).fma(FloatVector.fromArray(FS, b, bOff + i + L), acc1);
        }
        float s = sum(acc0.add(acc1));
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /**
     * Exact IEEE half → float, lane-wise: the magnitude bits shifted into float position and scaled by 2^112
     * (exact, subnormals included); the all-ones exponent (inf/NaN) is patched, the sign copied.
     */
    private static FloatVector halfBitsToFloats(IntVector bits) {
        IntVector mag = bits.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        FloatVector scaled = mag.reinterpretAsFloats().mul(0x1p112f);
        var special = bits.and(0x7C00).compare(VectorOperators.EQ, 0x7C00);
        IntVector fixed = scaled.reinterpretAsInts().blend(mag.or(0x7F800000), special);
        return fixed.or(sign).reinterpretAsFloats();
    }

    @Override
    public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        int upper = FS.loopBound(n);
        FloatVector acc = FloatVector.zero(FS);
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(FS, x, xOff + i);
            acc = v.fma(v, acc);
        }
        double sum = sum(acc);
        for (; i < n; i++) {
            float v = x[xOff + i];
            sum += v * v;
        }
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        i = 0;
        for (; i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(FS, x, xOff + i).mul(scale);
            if (weight != null) {
                v = v.mul(FloatVector.fromArray(FS, weight, i));
            }
            v.intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            float v = x[xOff + i] * scale;
            out[outOff + i] = weight == null ? v : v * weight[i];
        }
    }

    @Override
    public void dotRows(float[] a, int aOff, int aStride, int count, float[] m, int mOff, int n, int cols, float[] y, int yOff,
            int yStride) {
        int upper = FS.loopBound(cols);
        for (int j = 0; j < n; j++) {
            int mo = mOff + j * cols;
            for (int c = 0; c < count; c++) {
                int ao = aOff + c * aStride;
                FloatVector acc = FloatVector.zero(FS);
                int d = 0;
                for (; d < upper; d += L) {
                    acc = FloatVector.fromArray(FS, m, mo + d).fma(FloatVector.fromArray(FS, a, ao + d), acc);
                }
                double sum = sum(acc);
                for (; d < cols; d++) {
                    sum += a[ao + d] * m[mo + d];
                }
                y[yOff + c * yStride + j] = (float) sum;
            }
        }
    }

    @Override
    public void deltaRule(float[] s, int sOff, int dim, float decay, float beta, float[] k, int kOff, float[] v, int vOff,
            float[] q, int qOff, float scale, float[] o, int oOff) {
        int upper = FS.loopBound(dim);
        for (int j = 0; j < dim; j++) {
            int row = sOff + j * dim;
            // the row decays and meets the key in one pass, then takes its update and meets the query in a second,
            // while it is still in the first level of cache
            FloatVector acc = FloatVector.zero(FS);
            int i = 0;
            for (; i < upper; i += L) {
                FloatVector sv = FloatVector.fromArray(FS, s, row + i).mul(decay);
                sv.intoArray(s, row + i);
                acc = sv.fma(FloatVector.fromArray(FS, k, kOff + i), acc);
            }
            float sk = acc.reduceLanes(VectorOperators.ADD);
            for (; i < dim; i++) {
                s[row + i] *= decay;
                sk += s[row + i] * k[kOff + i];
            }
            float delta = (v[vOff + j] - sk) * beta;
            FloatVector acc2 = FloatVector.zero(FS);
            FloatVector dv = FloatVector.broadcast(FS, delta);
            i = 0;
            for (; i < upper; i += L) {
                FloatVector sv = FloatVector.fromArray(FS, k, kOff + i).fma(dv, FloatVector.fromArray(FS, s, row + i));
                sv.intoArray(s, row + i);
                acc2 = sv.fma(FloatVector.fromArray(FS, q, qOff + i), acc2);
            }
            float sq = acc2.reduceLanes(VectorOperators.ADD);
            for (; i < dim; i++) {
                s[row + i] += delta * k[kOff + i];
                sq += s[row + i] * q[qOff + i];
            }
            o[oOff + j] = sq * scale;
        }
    }

    @Override
    public float max(float[] x, int off, int n) {
        int upper = FS.loopBound(n);
        FloatVector mv = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < upper; i += L) {
            mv = mv.max(FloatVector.fromArray(FS, x, off + i));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        return max;
    }

    @Override
    public float expShifted(float[] x, int off, int n, float shift) {
        int upper = FS.loopBound(n);
        FloatVector sv = FloatVector.zero(FS);
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector e = exp(FloatVector.fromArray(FS, x, off + i).sub(shift));
            e.intoArray(x, off + i);
            sv = sv.add(e);
        }
        double sum = sum(sv);
        for (; i < n; i++) {
            float e = PolynomialExp.exp(x[off + i] - shift);
            x[off + i] = e;
            sum += e;
        }
        return (float) sum;
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        float sum = expShifted(x, off, n, max(x, off, n));
        scale(x, off, n, 1f / sum);
    }

    @Override
    public void swiglu(float[] gate, float[] up, int n) {
        int upper = FS.loopBound(n);
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector g = FloatVector.fromArray(FS, gate, i);
            FloatVector denom = exp(g.neg()).add(1f);
            g.div(denom).mul(FloatVector.fromArray(FS, up, i)).intoArray(gate, i);
        }
        for (; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1.0f + PolynomialExp.exp(-g)) * up[i];
        }
    }

    /**
     * {@link PolynomialExp#exp} lane by lane: ggml's vector exp, bit for bit the scalar form, interpreted or compiled
     * (the Vector API's own EXP is not: its interpreted and compiled forms can differ in the last bit).
     */
    static FloatVector exp(FloatVector x) {
        FloatVector rounder = FloatVector.broadcast(FS, PolynomialExp.ROUNDER);
        FloatVector n = x.fma(FloatVector.broadcast(FS, PolynomialExp.LOG2E), rounder).sub(rounder);
        FloatVector negN = n.neg();
        FloatVector b = negN.fma(FloatVector.broadcast(FS, PolynomialExp.LN2_LO),
                negN.fma(FloatVector.broadcast(FS, PolynomialExp.LN2_HI), x));
        FloatVector u = b.mul(b);
        FloatVector j = b.fma(FloatVector.broadcast(FS, PolynomialExp.C5), FloatVector.broadcast(FS, PolynomialExp.C4))
                .fma(u, b.fma(FloatVector.broadcast(FS, PolynomialExp.C3), FloatVector.broadcast(FS, PolynomialExp.C2)))
                .fma(u, b.fma(FloatVector.broadcast(FS, PolynomialExp.C1), FloatVector.broadcast(FS, 1f)));
        IntVector k = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector k1 = k.lanewise(VectorOperators.ASHR, 1);
        FloatVector p1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector p2 = k.sub(k1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector res = j.mul(p1).mul(p2);
        VectorMask<Float> far = n.abs().compare(VectorOperators.GT, PolynomialExp.LIMIT);
        if (far.anyTrue()) {
            FloatVector alt = FloatVector.zero(FS).blend(Float.POSITIVE_INFINITY, n.compare(VectorOperators.GT, 0f));
            res = res.blend(alt, far);
        }
        return res;
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        GeluTable.apply(x, off, n); // a table lookup: no vector form pays here, and it matches llama.cpp's CPU GELU
    }

    @Override
    public void add(float[] dst, int dstOff, float[] src, int srcOff, int n) {
        int upper = FS.loopBound(n);
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector.fromArray(FS, dst, dstOff + i).add(FloatVector.fromArray(FS, src, srcOff + i)).intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) {
            dst[dstOff + i] += src[srcOff + i];
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float s) {
        int upper = FS.loopBound(n);
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector.fromArray(FS, x, off + i).mul(s).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= s;
        }
    }

    @Override
    public void vecmat(float[] a, int aOff, int rows, float[] m, int mOff, int stride, float[] y, int yOff, int n) {
        vecmatRows(a, aOff, rows, m, mOff, stride, y, yOff, n);
    }

    @Override
    public void vecmatBatch(float[] a, int aOff, int aStride, int count, int rows, float[] m, int mOff, int stride,
            float[] y, int yOff, int yStride, int n) {
        vecmatGroups(a, aOff, aStride, count, rows, m, mOff, stride, y, yOff, yStride, n);
    }

    /** {@link #vecmatBatch}: row vectors six at a time through {@link #vecmat6x4}, the rest one by one. */
    private static void vecmatGroups(float[] a, int aOff, int aStride, int count, int rows, float[] m, int mOff, int stride,
            float[] y, int yOff, int yStride, int n) {
        int c = 0;
        for (; c + 6 <= count; c += 6) {
            int j = 0;
            for (; j + 4 * L <= n; j += 4 * L) {
                vecmat6x4(a, aOff + c * aStride, aStride, rows, m, mOff + j, stride, y, yOff + c * yStride + j, yStride);
            }
            for (int e = c; e < c + 6 && j < n; e++) {
                vecmatRows(a, aOff + e * aStride, rows, m, mOff + j, stride, y, yOff + e * yStride + j, n - j);
            }
        }
        for (; c < count; c++) {
            vecmatRows(a, aOff + c * aStride, rows, m, mOff, stride, y, yOff + c * yStride, n);
        }
    }

    private static void vecmatRows(float[] a, int aOff, int rows, float[] m, int mOff, int stride, float[] y, int yOff, int n) {
        int j = 0;
        // four vectors of y stay in registers while all rows stream past
        for (; j + 4 * L <= n; j += 4 * L) {
            int yo = yOff + j;
            FloatVector y0 = FloatVector.fromArray(FS, y, yo);
            FloatVector y1 = FloatVector.fromArray(FS, y, yo + L);
            FloatVector y2 = FloatVector.fromArray(FS, y, yo + 2 * L);
            FloatVector y3 = FloatVector.fromArray(FS, y, yo + 3 * L);
            for (int r = 0, mo = mOff + j; r < rows; r++, mo += stride) {
                FloatVector ar = FloatVector.broadcast(FS, a[aOff + r]);
                y0 = FloatVector.fromArray(FS, m, mo).fma(ar, y0);
                y1 = FloatVector.fromArray(FS, m, mo + L).fma(ar, y1);
                y2 = FloatVector.fromArray(FS, m, mo + 2 * L).fma(ar, y2);
                y3 = FloatVector.fromArray(FS, m, mo + 3 * L).fma(ar, y3);
            }
            y0.intoArray(y, yo);
            y1.intoArray(y, yo + L);
            y2.intoArray(y, yo + 2 * L);
            y3.intoArray(y, yo + 3 * L);
        }
        for (; j + L <= n; j += L) {
            FloatVector y0 = FloatVector.fromArray(FS, y, yOff + j);
            for (int r = 0, mo = mOff + j; r < rows; r++, mo += stride) {
                y0 = FloatVector.fromArray(FS, m, mo).fma(FloatVector.broadcast(FS, a[aOff + r]), y0);
            }
            y0.intoArray(y, yOff + j);
        }
        for (; j < n; j++) {
            float sum = y[yOff + j];
            for (int r = 0, mo = mOff + j; r < rows; r++, mo += stride) {
                sum = Math.fma(a[aOff + r], m[mo], sum);
            }
            y[yOff + j] = sum;
        }
    }

    /** Lane j takes its partner j^1: swaps the two elements of every interleaved pair. */
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(FS, j -> j ^ 1);
    /** Lane j reads cos/sin index j/2. */
    private static final int[] PAIR_INDEX = pairIndex();
    /** −1 on the first element of each pair, +1 on the second. */
    private static final float[] PAIR_SIGN = pairSign();

    private static int[] pairIndex() {
        int[] a = new int[L];
        for (int j = 0; j < L; j++) {
            a[j] = j / 2;
        }
        return a;
    }

    private static float[] pairSign() {
        float[] a = new float[L];
        for (int j = 0; j < L; j++) {
            a[j] = (j & 1) == 0 ? -1f : 1f;
        }
        return a;
    }

    /**
     * Pairs (2i, 2i+1): y = x·cos + swap(x)·(∓sin), with cos/sin duplicated across each pair. Same products and
     * sums as the scalar form, so the same results.
     */
    private static void ropeInterleaved(float[] x, int off, int nHeads, int headDim, int nRot, float[] cos, float[] sin) {
        FloatVector sign = FloatVector.fromArray(FS, PAIR_SIGN, 0);
        int upper = nRot - nRot % L;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            int e = 0;
            for (; e < upper; e += L) {
                FloatVector v = FloatVector.fromArray(FS, x, base + e);
                FloatVector c = FloatVector.fromArray(FS, cos, e / 2, PAIR_INDEX, 0);
                FloatVector s = FloatVector.fromArray(FS, sin, e / 2, PAIR_INDEX, 0).mul(sign);
                v.mul(c).add(v.rearrange(SWAP_PAIRS).mul(s)).intoArray(x, base + e);
            }
            for (int i = e / 2; i < nRot / 2; i++) {
                float x0 = x[base + 2 * i];
                float x1 = x[base + 2 * i + 1];
                x[base + 2 * i] = x0 * cos[i] - x1 * sin[i];
                x[base + 2 * i + 1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }

    @Override
    public void rope(float[] x, int off, int nHeads, int headDim, int nRot, float[] cos, float[] sin, boolean neox) {
        int half = nRot / 2;
        if (!neox) {
            ropeInterleaved(x, off, nHeads, headDim, nRot, cos, sin);
            return;
        }
        int upper = FS.loopBound(half);
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            int i = 0;
            for (; i < upper; i += L) {
                FloatVector x0 = FloatVector.fromArray(FS, x, base + i);
                FloatVector x1 = FloatVector.fromArray(FS, x, base + i + half);
                FloatVector c = FloatVector.fromArray(FS, cos, i);
                FloatVector s = FloatVector.fromArray(FS, sin, i);
                x0.mul(c).sub(x1.mul(s)).intoArray(x, base + i);
                x0.mul(s).add(x1.mul(c)).intoArray(x, base + i + half);
            }
            for (; i < half; i++) {
                float x0 = x[base + i];
                float x1 = x[base + i + half];
                x[base + i] = x0 * cos[i] - x1 * sin[i];
                x[base + i + half] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
