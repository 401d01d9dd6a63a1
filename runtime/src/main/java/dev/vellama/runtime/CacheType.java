package dev.vellama.runtime;

import dev.vellama.gguf.GgmlType;

/**
 * How a session's KV cache stores keys or values: llama.cpp's {@code --cache-type-k} / {@code --cache-type-v}
 * choices. F16 is the default; F32 never rounds; the block types hold a context in less memory (Q8_0 about half
 * of F16, Q4_0 about a quarter) at a small cost in perplexity, in ggml's block formats.
 */
public enum CacheType {
    F32(GgmlType.F32), F16(GgmlType.F16), BF16(GgmlType.BF16), Q8_0(GgmlType.Q8_0), Q4_0(GgmlType.Q4_0),
    Q4_1(GgmlType.Q4_1), Q5_0(GgmlType.Q5_0), Q5_1(GgmlType.Q5_1);

    private final GgmlType ggmlType;

    CacheType(GgmlType ggmlType) {
        this.ggmlType = ggmlType;
    }

    /** The block format, as a GGUF tensor of this type would hold it. */
    public GgmlType ggmlType() {
        return ggmlType;
    }

    /** llama.cpp's name: {@code f16}, {@code q8_0}, ... */
    public String llamaName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Bytes one value takes, on average. */
    public double bytesPerValue() {
        return (double) ggmlType.bytesPerBlock() / ggmlType.blockSize();
    }

    /** A type by llama.cpp's name. */
    public static CacheType parse(String name) {
        for (CacheType t : values()) {
            if (t.llamaName().equals(name.strip().toLowerCase(java.util.Locale.ROOT))) {
                return t;
            }
        }
        if (name.equalsIgnoreCase("iq4_nl")) {
            throw new IllegalArgumentException("cache type iq4_nl is not supported yet; use q4_0 or q4_1 for a 4-bit cache");
        }
        throw new IllegalArgumentException("unknown cache type '" + name + "'; one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1");
    }
}
