// Element-wise kernels over flat F32 arrays, one thread per element.
#include "common.cuh"

// gate = silu(gate) * up
extern "C" __global__ void swiglu(float* gate, const float* up, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = gate[i];
    gate[i] = g / (1.0f + expf(-g)) * up[i];
}

// dst += src (the residual connection)
extern "C" __global__ void add(float* dst, const float* src, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] += src[i];
}

// x[t][i] += bias[i] for n values in rows of width
extern "C" __global__ void add_bias(float* x, const float* bias, int width, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += bias[i % width];
}
