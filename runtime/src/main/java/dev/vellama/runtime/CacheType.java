package dev.vellama.runtime;

import dev.vellama.gguf.GgmlType;

/**
 * How a session's KV cache stores keys or values: llama.cpp's {@code --cache-type-k} / {@code --cache-type-v}
 * choices. F16 is the default; F32 never rounds; the block types hold a context in less memory (Q8_0 about half
 * of F16, Q4_0 about a quarter) at a small cost in perplexity, in ggml's block formats.
 */
public enum CacheType {
    /** 32-bit floats: 4 bytes a value, never rounded. */
    F32(GgmlType.F32),
    /** 16-bit IEEE halves: 2 bytes a value, llama.cpp's default. */
    F16(GgmlType.F16),
    /** bfloat16: 2 bytes a value, float32's range with fewer mantissa bits. */
    BF16(GgmlType.BF16),
    /** 8-bit blocks of 32 values with one f16 scale: about 1.06 bytes a value. */
    Q8_0(GgmlType.Q8_0),
    /** 4-bit blocks of 32 values with one f16 scale: about 0.56 bytes a value. */
    Q4_0(GgmlType.Q4_0),
    /** 4-bit blocks of 32 values with an f16 scale and minimum: about 0.63 bytes a value. */
    Q4_1(GgmlType.Q4_1),
    /** 5-bit blocks of 32 values with one f16 scale: about 0.69 bytes a value. */
    Q5_0(GgmlType.Q5_0),
    /** 5-bit blocks of 32 values with an f16 scale and minimum: about 0.75 bytes a value. */
    Q5_1(GgmlType.Q5_1),
    /** 4-bit blocks of 32 values on a non-linear grid with one f16 scale: about 0.56 bytes a value. */
    IQ4_NL(GgmlType.IQ4_NL);

    private final GgmlType ggmlType;

    CacheType(GgmlType ggmlType) {
        this.ggmlType = ggmlType;
    }

    /** {@return the block format, as a GGUF tensor of this type would hold it} */
    public GgmlType ggmlType() {
        return ggmlType;
    }

    /**
     * {@return whether a CUDA pass keeps its cache in this type: F16, Q8_0 and Q4_0, what llama.cpp's CUDA build
     * offers by default} (The kernels' own check is {@code CudaKernels.supportsCacheType}, kept where the CUDA
     * classes load.)
     */
    public boolean onCuda() {
        return this == F16 || this == Q8_0 || this == Q4_0;
    }

    /** {@return llama.cpp's name for the type: {@code f16}, {@code q8_0}, ...} */
    public String llamaName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** {@return the bytes one value takes, on average (block bytes / values per block)} */
    public double bytesPerValue() {
        return (double) ggmlType.bytesPerBlock() / ggmlType.blockSize();
    }

    /**
     * A type by llama.cpp's name, as {@code --cache-type-k} takes it.
     *
     * @param name the name, any case, surrounding blanks ignored
     * @return the type
     * @throws IllegalArgumentException if no cache type has that name (llama.cpp's names, as {@link #llamaName} gives them)
     */
    public static CacheType parse(String name) {
        for (CacheType t : values()) {
            if (t.llamaName().equals(name.strip().toLowerCase(java.util.Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown cache type '" + name + "'; one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0,"
                + " q5_1, iq4_nl");
    }
}
