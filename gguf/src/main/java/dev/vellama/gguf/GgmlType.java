package dev.vellama.gguf;

/**
 * Every tensor type id llama.cpp's ggml defines, with its block size (elements per block) and bytes per block.
 * Sizes are known for every type, so tensor sizes of any file are right even where no kernel exists yet.
 */
public enum GgmlType {
    /** 32-bit IEEE float. */
    F32(0, 1, 4),
    /** 16-bit IEEE half float. */
    F16(1, 1, 2),
    /** 4-bit: blocks of 32 with one f16 scale, 4.5 bits per weight. */
    Q4_0(2, 32, 18),
    /** 4-bit: blocks of 32 with an f16 scale and minimum, 5 bits per weight. */
    Q4_1(3, 32, 20),
    /** 5-bit: blocks of 32 with one f16 scale, 5.5 bits per weight. */
    Q5_0(6, 32, 22),
    /** 5-bit: blocks of 32 with an f16 scale and minimum, 6 bits per weight. */
    Q5_1(7, 32, 24),
    /** 8-bit: blocks of 32 with one f16 scale, 8.5 bits per weight. */
    Q8_0(8, 32, 34),
    /** 8-bit with an f16 scale and sum per block of 32; ggml's activation format for Q4_1 and Q5_1 dot products. */
    Q8_1(9, 32, 36),
    /** 2-bit k-quant: super-blocks of 256 with 4-bit sub-block scales and minimums, 2.625 bits per weight. */
    Q2_K(10, 256, 84),
    /** 3-bit k-quant: super-blocks of 256 with 6-bit sub-block scales, 3.4375 bits per weight. */
    Q3_K(11, 256, 110),
    /** 4-bit k-quant: super-blocks of 256 with 6-bit sub-block scales and minimums, 4.5 bits per weight. */
    Q4_K(12, 256, 144),
    /** 5-bit k-quant: super-blocks of 256 with 6-bit sub-block scales and minimums, 5.5 bits per weight. */
    Q5_K(13, 256, 176),
    /** 6-bit k-quant: super-blocks of 256 with 8-bit sub-block scales, 6.5625 bits per weight. */
    Q6_K(14, 256, 210),
    /** 8-bit k-quant with a float scale and block sums; ggml's activation format for k-quant dot products. */
    Q8_K(15, 256, 292),
    /** 2-bit i-quant on an E8-lattice codebook, 2.0625 bits per weight. */
    IQ2_XXS(16, 256, 66),
    /** 2-bit i-quant, 2.3125 bits per weight. */
    IQ2_XS(17, 256, 74),
    /** 3-bit i-quant, 3.0625 bits per weight. */
    IQ3_XXS(18, 256, 98),
    /** 1-bit i-quant, 1.5625 bits per weight. */
    IQ1_S(19, 256, 50),
    /** 4-bit non-linear codebook in blocks of 32 with an f16 scale, 4.5 bits per weight. */
    IQ4_NL(20, 32, 18),
    /** 3-bit i-quant, 3.4375 bits per weight. */
    IQ3_S(21, 256, 110),
    /** 2-bit i-quant, 2.5625 bits per weight. */
    IQ2_S(22, 256, 82),
    /** IQ4_NL's codebook in super-blocks of 256 with 6-bit sub-block scales, 4.25 bits per weight. */
    IQ4_XS(23, 256, 136),
    /** 8-bit signed integer. */
    I8(24, 1, 1),
    /** 16-bit signed integer. */
    I16(25, 1, 2),
    /** 32-bit signed integer. */
    I32(26, 1, 4),
    /** 64-bit signed integer. */
    I64(27, 1, 8),
    /** 64-bit IEEE double. */
    F64(28, 1, 8),
    /** 1-bit i-quant, 1.75 bits per weight. */
    IQ1_M(29, 256, 56),
    /** bfloat16: the top 16 bits of an F32. */
    BF16(30, 1, 2),
    /** Ternary (-1, 0, 1) weights packed in base 3, mostly five to a byte, 1.6875 bits per weight. */
    TQ1_0(34, 256, 54),
    /** Ternary (-1, 0, 1) weights in 2 bits each with an f16 scale, 2.0625 bits per weight. */
    TQ2_0(35, 256, 66),
    /** OCP microscaling FP4: 32 E2M1 values sharing one E8M0 scale, 4.25 bits per weight (gpt-oss). */
    MXFP4(39, 32, 17);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** {@return the type's id in GGUF tensor infos (ggml's {@code ggml_type} value)} */
    public int id() {
        return id;
    }

    /** {@return elements per block: 1 for plain types, 32 or 256 for quantized ones} */
    public int blockSize() {
        return blockSize;
    }

    /** {@return bytes of one block, scales included} */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** {@return whether values are stored in blocks of more than one (quantized), not one by one} */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /**
     * Bytes taken by {@code elements} values; the count must be a multiple of the block size.
     *
     * @param elements number of values, a multiple of {@link #blockSize()}
     * @return their size in bytes, whole blocks
     * @throws IllegalArgumentException when {@code elements} is not a multiple of the block size
     * @throws ArithmeticException when the size overflows a long
     */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(elements + " elements is not a multiple of " + name() + "'s block size " + blockSize);
        }
        return Math.multiplyExact(elements / blockSize, (long) bytesPerBlock);
    }

    /**
     * Looks a type up by its GGUF id.
     *
     * @param id the id read from a tensor info
     * @return the type with this id, or null when llama.cpp defines none (removed or unknown ids)
     */
    public static GgmlType byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
