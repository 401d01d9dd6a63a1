// Row-wise RMSNorm and softmax. One block per row; rows are contiguous, n values each.
#include "common.cuh"

// out = x / sqrt(mean(x^2) + eps) * weight. out may be x. weight may be null (no scaling).
extern "C" __global__ void rmsnorm(float* out, const float* x, const float* weight, int n, float eps) {
    __shared__ float scratch[WARP];
    const float* xr = x + (size_t) blockIdx.x * n;
    float* yr = out + (size_t) blockIdx.x * n;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_sum(ss, scratch);
    float scale = rsqrtf(ss / (float) n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = xr[i] * scale;
        yr[i] = weight ? v * weight[i] : v;
    }
}

// The residual add and the next RMSNorm in one pass (decode fuses them): x += r, then out = rmsnorm(x)·weight.
// Each thread adds the elements it then squares, in rmsnorm's order, so the results are those of add then rmsnorm.
extern "C" __global__ void add_rmsnorm(float* out, float* x, const float* r, const float* weight, int n, float eps) {
    __shared__ float scratch[WARP];
    float* xr = x + (size_t) blockIdx.x * n;
    const float* rr = r + (size_t) blockIdx.x * n;
    float* yr = out + (size_t) blockIdx.x * n;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = xr[i] + rr[i];
        xr[i] = v;
        ss += v * v;
    }
    ss = block_sum(ss, scratch);
    float scale = rsqrtf(ss / (float) n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = xr[i] * scale;
        yr[i] = weight ? v * weight[i] : v;
    }
}

// In place: x = exp(x - max) / sum.
extern "C" __global__ void softmax(float* x, int n) {
    __shared__ float scratch[WARP];
    float* r = x + (size_t) blockIdx.x * n;
    float m = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, r[i]);
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float e = expf(r[i] - m);
        r[i] = e;
        s += e;
    }
    s = block_sum(s, scratch);
    float inv = 1.0f / s;
    for (int i = threadIdx.x; i < n; i += blockDim.x) r[i] *= inv;
}
