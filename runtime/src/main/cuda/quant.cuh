// Decoders of the weight formats kept on the GPU. A row is cut into "units" of consecutive elements, small enough
// to hold in registers; unit u covers elements [u * UNIT, (u + 1) * UNIT) of the row. Layouts are GGUF's. They are
// also built for the host, where a test compares them with the Java dequantizer without a GPU.
#ifndef VELLAMA_QUANT_CUH
#define VELLAMA_QUANT_CUH

#include "common.cuh"

struct Q4_0 {
    static constexpr int UNIT = 32;
    static constexpr int BLOCK_ELEMS = 32;
    static constexpr int BLOCK_BYTES = 18;
    static __host__ __device__ __forceinline__ void decode(const uint8_t* row, int u, float* v) {
        const uint8_t* b = row + (size_t) u * BLOCK_BYTES;
        float d = load_half(b);
        const uint8_t* qs = b + 2;
#pragma unroll
        for (int j = 0; j < 16; j++) {
            v[j] = d * (float) ((qs[j] & 15) - 8);
            v[j + 16] = d * (float) ((qs[j] >> 4) - 8);
        }
    }
};

struct Q8_0 {
    static constexpr int UNIT = 32;
    static constexpr int BLOCK_ELEMS = 32;
    static constexpr int BLOCK_BYTES = 34;
    static __host__ __device__ __forceinline__ void decode(const uint8_t* row, int u, float* v) {
        const uint8_t* b = row + (size_t) u * BLOCK_BYTES;
        float d = load_half(b);
        const int8_t* qs = (const int8_t*) (b + 2);
#pragma unroll
        for (int j = 0; j < 32; j++) {
            v[j] = d * (float) qs[j];
        }
    }
};

// Q4_K: 256 elements in 8 sub-blocks of 32, each with a 6-bit scale and min packed in 12 bytes.
struct Q4_K {
    static constexpr int UNIT = 32;
    static constexpr int BLOCK_ELEMS = 256;
    static constexpr int BLOCK_BYTES = 144;
    static __host__ __device__ __forceinline__ void decode(const uint8_t* row, int u, float* v) {
        const uint8_t* b = row + (size_t) (u / 8) * BLOCK_BYTES;
        int j = u % 8;
        float d = load_half(b);
        float dmin = load_half(b + 2);
        const uint8_t* s = b + 4;
        int sc, m;
        if (j < 4) {
            sc = s[j] & 63;
            m = s[j + 4] & 63;
        } else {
            sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
            m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
        }
        float scale = d * (float) sc;
        float min = dmin * (float) m;
        const uint8_t* qs = b + 16 + 32 * (j / 2);
        int shift = (j & 1) ? 4 : 0;
#pragma unroll
        for (int l = 0; l < 32; l++) {
            v[l] = scale * (float) ((qs[l] >> shift) & 15) - min;
        }
    }
};

// Q6_K: 256 elements in 16 groups of 16, each with a signed 8-bit scale; 4 low bits in ql, 2 high bits in qh.
struct Q6_K {
    static constexpr int UNIT = 16;
    static constexpr int BLOCK_ELEMS = 256;
    static constexpr int BLOCK_BYTES = 210;
    static __host__ __device__ __forceinline__ void decode(const uint8_t* row, int u, float* v) {
        const uint8_t* b = row + (size_t) (u / 16) * BLOCK_BYTES;
        int k = u % 16;
        int half = k / 8;          // which 128 elements
        int quarter = (k % 8) / 2; // which 32 of them
        int group = k % 2;         // which 16 of those
        const uint8_t* ql = b + 64 * half + 32 * (quarter & 1);
        const uint8_t* qh = b + 128 + 32 * half;
        int lowShift = quarter >= 2 ? 4 : 0;
        int highShift = 2 * quarter;
        float d = load_half(b + 208) * (float) ((const int8_t*) (b + 192))[8 * half + group + 2 * quarter];
#pragma unroll
        for (int i = 0; i < 16; i++) {
            int l = 16 * group + i;
            int q = ((ql[l] >> lowShift) & 15) | (((qh[l] >> highShift) & 3) << 4);
            v[i] = d * (float) (q - 32);
        }
    }
};

// IEEE half, the format every other weight type is converted to at upload.
struct F16 {
    static constexpr int UNIT = 32;
    static constexpr int BLOCK_ELEMS = 32;
    static constexpr int BLOCK_BYTES = 64;
    static __host__ __device__ __forceinline__ void decode(const uint8_t* row, int u, float* v) {
        const __half* h = (const __half*) (row + (size_t) u * BLOCK_BYTES);
#pragma unroll
        for (int j = 0; j < 32; j++) {
            v[j] = __half2float(h[j]);
        }
    }
};

template <class Q>
static __host__ __device__ __forceinline__ size_t row_bytes(int cols) {
    return (size_t) (cols / Q::BLOCK_ELEMS) * Q::BLOCK_BYTES;
}

#endif
