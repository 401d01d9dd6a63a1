// Element-wise kernels over flat F32 arrays, one thread per element.
#include "common.cuh"

// gate = silu(gate) * up
extern "C" __global__ void swiglu(float* gate, const float* up, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = gate[i];
    gate[i] = g / (1.0f + expf(-g)) * up[i];
}

// gate = gelu(gate) * up, GELU in its tanh form (Gemma)
extern "C" __global__ void geglu(float* gate, const float* up, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = gate[i];
    const float sqrt2OverPi = 0.79788456080286535587989211986876f;
    gate[i] = 0.5f * g * (1.0f + tanhf(sqrt2OverPi * g * (1.0f + 0.044715f * g * g))) * up[i];
}

// x *= s (Gemma's embedding scale)
extern "C" __global__ void scale(float* x, float s, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= s;
}

// x = cap * tanh(x / cap) (Gemma 2's soft-capped logits)
extern "C" __global__ void softcap(float* x, float cap, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = cap * tanhf(x[i] / cap);
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

// x[t][i] *= factors[*pos + t] over n rows of `width` (the queries' attention temperature, tabulated per position
// on the host as the CPU computes it; the position read from device memory, so a captured graph replays).
extern "C" __global__ void scale_by_position(float* x, const float* factors, int n, int width, const int* pos) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * width) return;
    x[i] *= factors[*pos + i / width];
}
