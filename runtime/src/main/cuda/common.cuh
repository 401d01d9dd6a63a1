// Helpers shared by every kernel file. Each .cu includes this and also compiles on its own.
#ifndef VELLAMA_COMMON_CUH
#define VELLAMA_COMMON_CUH

#include <cuda_fp16.h>
#include <stdint.h>

#define WARP 32

// The dynamic shared memory of a launch; a macro so that the host emulation used by tests can supply its own.
#ifndef DYNAMIC_SHARED
#define DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

// GGUF blocks are packed without padding, so fp16 fields are read byte by byte.
static __host__ __device__ __forceinline__ float load_half(const uint8_t* p) {
    unsigned short bits = (unsigned short) (p[0] | (p[1] << 8));
    return __half2float(__ushort_as_half(bits));
}

static __device__ __forceinline__ float warp_sum(float v) {
    for (int o = WARP / 2; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    return v;
}

static __device__ __forceinline__ float warp_max(float v) {
    for (int o = WARP / 2; o > 0; o >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    }
    return v;
}

// Sum over the whole block; every thread gets the result. scratch holds at least 32 floats.
static __device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x % WARP;
    int warp = threadIdx.x / WARP;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = (blockDim.x + WARP - 1) / WARP;
    v = lane < warps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

static __device__ __forceinline__ float block_max(float v, float* scratch) {
    int lane = threadIdx.x % WARP;
    int warp = threadIdx.x / WARP;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = (blockDim.x + WARP - 1) / WARP;
    v = lane < warps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

#endif
