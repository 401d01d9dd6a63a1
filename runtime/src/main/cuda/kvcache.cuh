// How the KV cache stores a value on the GPU, by ggml type id (llama.cpp's -ctk / -ctv): F16 halves, or Q8_0 and
// Q4_0 blocks of 32 values along each row, byte for byte as llama.cpp and the CPU cache quantize them (the same scale
// choice, float operations and truncations as quantize_row_*_ref). A row (one position) holds every kv head; heads
// are a multiple of 32 values for the block types, so value e of a row is value e % 32 of its block and a warp whose
// lanes hold 32 consecutive values of a row holds one whole block.
#ifndef VELLAMA_KVCACHE_CUH
#define VELLAMA_KVCACHE_CUH

#include "common.cuh"

#define KV_F16 1
#define KV_Q4_0 2
#define KV_Q8_0 8

// Bytes per block of 32 values of a block type.
static __device__ __forceinline__ int kv_block_bytes(int type) {
    return type == KV_Q8_0 ? 34 : 18;
}

// Value e of row `row` (rows of `width` values) as a float.
static __device__ __forceinline__ float kv_load(const void* cache, int type, size_t row, int width, int e) {
    size_t i = row * width + e;
    if (type == KV_F16) return __half2float(((const __half*) cache)[i]);
    const uint8_t* b = (const uint8_t*) cache + (i / 32) * kv_block_bytes(type);
    int j = (int) (i % 32);
    if (type == KV_Q8_0) return load_half(b) * (float) (int8_t) b[2 + j];
    int q = j < 16 ? b[2 + j] & 15 : b[2 + j - 16] >> 4;
    return (float) (q - 8) * load_half(b);
}

// The same as a half, without a round trip through float for F16 (what the prefill tiles hold).
static __device__ __forceinline__ __half kv_load_half(const void* cache, int type, size_t row, int width, int e) {
    if (type == KV_F16) return ((const __half*) cache)[row * width + e];
    return __float2half_rn(kv_load(cache, type, row, width, e));
}

static __device__ __forceinline__ void store_half(uint8_t* p, float x) {
    unsigned short bits = __half_as_ushort(__float2half_rn(x));
    p[0] = (uint8_t) (bits & 255);
    p[1] = (uint8_t) (bits >> 8);
}

// Stores x as value e of row `row`. For the block types every lane of a warp calls this at once, lane l with a value
// of its block's position l (e % 32 == lane), and the 32 values quantize together; F16 stores alone.
static __device__ __forceinline__ void kv_store(void* cache, int type, size_t row, int width, int e, float x) {
    size_t i = row * width + e;
    if (type == KV_F16) {
        ((__half*) cache)[i] = __float2half_rn(x);
        return;
    }
    int lane = (int) (i % 32);
    uint8_t* b = (uint8_t*) cache + (i / 32) * kv_block_bytes(type);
    if (type == KV_Q8_0) {
        float d = warp_max(fabsf(x)) / 127;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        if (lane == 0) store_half(b, d);
        b[2 + lane] = (uint8_t) (int8_t) (int) roundf(__fmul_rn(x, id));
        return;
    }
    // Q4_0: the value of largest magnitude, sign kept (the first one on ties), sets the scale
    float a = fabsf(x);
    float m = x;
    int at = lane;
    for (int o = WARP / 2; o > 0; o >>= 1) {
        float oa = __shfl_xor_sync(0xffffffffu, a, o);
        float om = __shfl_xor_sync(0xffffffffu, m, o);
        int oat = __shfl_xor_sync(0xffffffffu, at, o);
        if (oa > a || (oa == a && oat < at)) {
            a = oa;
            m = om;
            at = oat;
        }
    }
    float d = m / -8;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    // no fused multiply-add: ggml rounds the product before adding
    int q = min(15, (int) (int8_t) (int) __fadd_rn(__fmul_rn(x, id), 8.5f));
    int high = __shfl_xor_sync(0xffffffffu, q, 16);
    if (lane == 0) store_half(b, d);
    if (lane < 16) b[2 + lane] = (uint8_t) (q | high << 4);
}

#endif
