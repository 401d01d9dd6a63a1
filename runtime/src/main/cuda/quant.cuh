// Decoders of the weight formats kept on the GPU (GGUF's layouts). Each format reads a row in "parts" of 8
// weights, one part per thread, so that a warp's loads of weights and of activations are contiguous:
// part(row, pi, w, e0, e1) decodes part pi of the row into w, where w[0..3] are elements e0..e0+3 and w[4..7]
// elements e1..e1+3 (both multiples of 4, so activations load as float4). They are also built for the host, where
// a test compares them with the Java dequantizer without a GPU.
#ifndef VELLAMA_QUANT_CUH
#define VELLAMA_QUANT_CUH

#include "common.cuh"

static __host__ __device__ __forceinline__ uint32_t load_u32_2(const uint8_t* p) { // 2-byte aligned
    const uint16_t* h = (const uint16_t*) p;
    return (uint32_t) h[0] | ((uint32_t) h[1] << 16);
}

struct Q4_0 {
    static constexpr int BLOCK_ELEMS = 32;
    static constexpr int BLOCK_BYTES = 18;
    static __host__ __device__ __forceinline__ void part(const uint8_t* row, int pi, float* w, int& e0, int& e1) {
        int p = pi & 3;
        const uint8_t* b = row + (size_t) (pi >> 2) * BLOCK_BYTES;
        float d = load_half(b);
        uint32_t q = load_u32_2(b + 2 + 4 * p);
#pragma unroll
        for (int j = 0; j < 4; j++) {
            uint32_t byte = (q >> (8 * j)) & 255u;
            w[j] = d * (float) ((int) (byte & 15u) - 8);
            w[4 + j] = d * (float) ((int) (byte >> 4) - 8);
        }
        e0 = (pi >> 2) * 32 + 4 * p;
        e1 = e0 + 16;
    }
};

struct Q8_0 {
    static constexpr int BLOCK_ELEMS = 32;
    static constexpr int BLOCK_BYTES = 34;
    static __host__ __device__ __forceinline__ void part(const uint8_t* row, int pi, float* w, int& e0, int& e1) {
        const uint8_t* b = row + (size_t) (pi >> 2) * BLOCK_BYTES;
        float d = load_half(b);
        const uint8_t* q = b + 2 + 8 * (pi & 3);
        uint32_t lo = load_u32_2(q);
        uint32_t hi = load_u32_2(q + 4);
#pragma unroll
        for (int j = 0; j < 4; j++) {
            w[j] = d * (float) (int8_t) (lo >> (8 * j));
            w[4 + j] = d * (float) (int8_t) (hi >> (8 * j));
        }
        e0 = 8 * pi;
        e1 = e0 + 4;
    }
};

// Q4_K: 256 elements in 8 sub-blocks of 32, each with a 6-bit scale and min packed in 12 bytes.
struct Q4_K {
    static constexpr int BLOCK_ELEMS = 256;
    static constexpr int BLOCK_BYTES = 144;
    // d·sc and dmin·m of sub-block j (0..7): 6-bit scales and mins packed in the 12 bytes after d and dmin
    static __host__ __device__ __forceinline__ void scale_min(const uint8_t* b, int j, float& scale, float& min) {
        const uint8_t* s = b + 4;
        int sc, m;
        if (j < 4) {
            sc = s[j] & 63;
            m = s[j + 4] & 63;
        } else {
            sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
            m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
        }
        scale = load_half(b) * (float) sc;
        min = load_half(b + 2) * (float) m;
    }
    // a part is a quarter of a 32-element sub-block; blocks are 16-byte aligned (144 bytes), so quants load as 2 words
    static __host__ __device__ __forceinline__ void part(const uint8_t* row, int pi, float* w, int& e0, int& e1) {
        const uint8_t* b = row + (size_t) (pi >> 5) * BLOCK_BYTES;
        int j = (pi >> 2) & 7;
        int p = pi & 3;
        float scale, min;
        scale_min(b, j, scale, min);
        const uint32_t* qs = (const uint32_t*) (b + 16 + 32 * (j / 2) + 8 * p);
        uint32_t lo = qs[0];
        uint32_t hi = qs[1];
        int shift = (j & 1) ? 4 : 0;
#pragma unroll
        for (int l = 0; l < 4; l++) {
            w[l] = scale * (float) ((lo >> (8 * l + shift)) & 15u) - min;
            w[4 + l] = scale * (float) ((hi >> (8 * l + shift)) & 15u) - min;
        }
        e0 = (pi >> 5) * 256 + 32 * j + 8 * p;
        e1 = e0 + 4;
    }
};

// Q6_K: 256 elements in 16 groups of 16, each with a signed 8-bit scale; 4 low bits in ql, 2 high bits in qh.
struct Q6_K {
    static constexpr int BLOCK_ELEMS = 256;
    static constexpr int BLOCK_BYTES = 210;
    static __host__ __device__ __forceinline__ void part(const uint8_t* row, int pi, float* w, int& e0, int& e1) {
        const uint8_t* b = row + (size_t) (pi >> 5) * BLOCK_BYTES;
        int p = pi & 31;
        int half = p >> 4;           // which 128 elements
        int quarter = (p & 15) >> 2; // which 32 of them
        int l = 8 * (p & 3);         // first of the 8 within those 32
        int group = l >> 4;          // which 16 of those 32
        uint32_t ql0 = load_u32_2(b + 64 * half + 32 * (quarter & 1) + l);
        uint32_t ql1 = load_u32_2(b + 64 * half + 32 * (quarter & 1) + l + 4);
        uint32_t qh0 = load_u32_2(b + 128 + 32 * half + l);
        uint32_t qh1 = load_u32_2(b + 128 + 32 * half + l + 4);
        int lowShift = quarter >= 2 ? 4 : 0;
        int highShift = 2 * quarter;
        float d = load_half(b + 208) * (float) ((const int8_t*) (b + 192))[8 * half + group + 2 * quarter];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int q0 = (int) (((ql0 >> (8 * i + lowShift)) & 15u) | (((qh0 >> (8 * i + highShift)) & 3u) << 4));
            int q1 = (int) (((ql1 >> (8 * i + lowShift)) & 15u) | (((qh1 >> (8 * i + highShift)) & 3u) << 4));
            w[i] = d * (float) (q0 - 32);
            w[4 + i] = d * (float) (q1 - 32);
        }
        e0 = (pi >> 5) * 256 + 8 * p;
        e1 = e0 + 4;
    }
};

// IEEE half, the format every other weight type is converted to at upload.
struct F16 {
    static constexpr int BLOCK_ELEMS = 32;
    static constexpr int BLOCK_BYTES = 64;
    static __host__ __device__ __forceinline__ void part(const uint8_t* row, int pi, float* w, int& e0, int& e1) {
        const __half* h = (const __half*) (row + (size_t) pi * 16);
#pragma unroll
        for (int j = 0; j < 8; j++) {
            w[j] = __half2float(h[j]);
        }
        e0 = 8 * pi;
        e1 = e0 + 4;
    }
};

template <class Q>
static __host__ __device__ __forceinline__ size_t row_bytes(int cols) {
    return (size_t) (cols / Q::BLOCK_ELEMS) * Q::BLOCK_BYTES;
}

// Part pi of a row decoded to F32 in place: dst[e] for each of its 8 elements (dst is the row's start).
template <class Q>
static __host__ __device__ __forceinline__ void decode_part(const uint8_t* row, int pi, float* dst) {
    float w[8];
    int e0, e1;
    Q::part(row, pi, w, e0, e1);
#pragma unroll
    for (int j = 0; j < 4; j++) {
        dst[e0 + j] = w[j];
        dst[e1 + j] = w[4 + j];
    }
}

#endif
