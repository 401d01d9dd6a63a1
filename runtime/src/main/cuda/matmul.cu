// Quantized weights times F32 activations: y[t][r] = sum_c W[r][c] * x[t][c].
// One warp per weight row; each lane decodes whole units and dots them with up to TOKENS activation rows, so a
// unit is decoded once per group of tokens. The matrix-vector kernels are the one-token case.
#include "quant.cuh"

#define MM_TOKENS 8

template <class Q, int TOKENS>
static __device__ __forceinline__ void matmul_rows(const uint8_t* __restrict__ w, const float* __restrict__ x,
                                                   float* __restrict__ y, int rows, int cols, int n) {
    int r = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int lane = threadIdx.x % WARP;
    if (r >= rows) return;
    int t0 = blockIdx.y * TOKENS;
    int nt = min(TOKENS, n - t0);
    const uint8_t* row = w + (size_t) r * row_bytes<Q>(cols);
    int units = cols / Q::UNIT;
    float acc[TOKENS];
#pragma unroll
    for (int t = 0; t < TOKENS; t++) acc[t] = 0.0f;
    for (int u = lane; u < units; u += WARP) {
        float v[Q::UNIT];
        Q::decode(row, u, v);
#pragma unroll
        for (int t = 0; t < TOKENS; t++) {
            if (t < nt) {
                const float* xt = x + (size_t) (t0 + t) * cols + (size_t) u * Q::UNIT;
                float s = 0.0f;
#pragma unroll
                for (int i = 0; i < Q::UNIT; i++) s += v[i] * xt[i];
                acc[t] += s;
            }
        }
    }
#pragma unroll
    for (int t = 0; t < TOKENS; t++) {
        float s = warp_sum(acc[t]);
        if (lane == 0 && t < nt) y[(size_t) (t0 + t) * rows + r] = s;
    }
}

#define DEFINE_MATMUL(NAME, Q)                                                                                   \
    extern "C" __global__ void matvec_##NAME(const uint8_t* w, const float* x, float* y, int rows, int cols) {  \
        matmul_rows<Q, 1>(w, x, y, rows, cols, 1);                                                             \
    }                                                                                                          \
    extern "C" __global__ void matmul_##NAME(const uint8_t* w, const float* x, float* y, int rows, int cols,    \
                                             int n) {                                                          \
        matmul_rows<Q, MM_TOKENS>(w, x, y, rows, cols, n);                                                     \
    }

DEFINE_MATMUL(q4_0, Q4_0)
DEFINE_MATMUL(q8_0, Q8_0)
DEFINE_MATMUL(q4_k, Q4_K)
DEFINE_MATMUL(q6_k, Q6_K)
DEFINE_MATMUL(f16, F16)
