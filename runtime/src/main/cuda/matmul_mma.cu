// Prompt processing on tensor cores: y[t][r] = sum_c W[r][c] * x[t][c] with F16 operands and F32 accumulation
// (the WMMA API's 16x16x16 tiles, sm_70 and newer). The weights are decoded by the same part readers as every other
// kernel and rounded to F16 in shared memory; the activations are first rounded to F16 by to_half_rows, each token's
// row divided by a power of two that keeps its largest value below 2^15 (so no activation overflows F16, and small
// rows keep their precision), and the tile's sums are multiplied back by it. The SIMT matmul_<type> stays for
// matrices whose width is not a multiple of MH_K.
#include "quant.cuh"

#ifndef VELLAMA_EMULATOR_H
#include <mma.h>
#endif

#define MH_ROWS 128   // weight rows per block
#define MH_TOKENS 64  // tokens per block
#define MH_K 64       // columns per step
#define MH_THREADS 256
#define MH_LDA (MH_K + 8)      // halves per shared row of a tile: padded against bank conflicts, a multiple of 8
#define MH_LDC (MH_ROWS + 4)   // floats per token of the result tile, a multiple of 4

// x[n][cols] F32 -> xh[n][cols] F16 and scale[n], one block per token: xh = x / scale, scale a power of two.
extern "C" __global__ void to_half_rows(const float* __restrict__ x, __half* __restrict__ xh, float* __restrict__ scale,
                                        int cols) {
    __shared__ float scratch[32];
    const float* xr = x + (size_t) blockIdx.x * cols;
    __half* hr = xh + (size_t) blockIdx.x * cols;
    float m = 0.0f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) m = fmaxf(m, fabsf(xr[i]));
    m = block_max(m, scratch);
    int e = 0;
    if (m > 0.0f && m <= 3.0e38f) frexpf(m, &e); // m < 2^e
    int shift = max(-100, min(100, e - 15));      // m / 2^shift < 2^15, and 2^-shift stays a finite float
    float inv = ldexpf(1.0f, -shift);             // multiplying by a power of two is exact
    for (int i = threadIdx.x; i < cols; i += blockDim.x) hr[i] = __float2half_rn(xr[i] * inv);
    if (threadIdx.x == 0) scale[blockIdx.x] = ldexpf(1.0f, shift);
}

// One block: MH_ROWS weight rows by MH_TOKENS tokens; eight warps, each 32 rows by 32 tokens (2x2 fragments).
// Per step of MH_K columns every thread decodes four 8-weight parts into the F16 weight tile and copies 16
// activations; then each warp runs 4x4 tensor-core products from shared memory. The F32 results go through shared
// memory (reusing the tiles' space) so that stores to y are contiguous rows and the edges can be cut.
template <class Q>
static __device__ __forceinline__ void matmul_mma_tile(const uint8_t* __restrict__ w, const __half* __restrict__ xh,
                                                       const float* __restrict__ xscale, float* __restrict__ y,
                                                       int rows, int cols, int n) {
    using namespace nvcuda;
    constexpr int TILES_BYTES = 2 * (MH_ROWS + MH_TOKENS) * MH_LDA;
    constexpr int RESULT_BYTES = 4 * MH_TOKENS * MH_LDC;
    __shared__ __align__(32) unsigned char smem[TILES_BYTES > RESULT_BYTES ? TILES_BYTES : RESULT_BYTES];
    __half* ws = (__half*) smem;            // [MH_ROWS][MH_LDA]: element (row, k)
    __half* xs = ws + MH_ROWS * MH_LDA;     // [MH_TOKENS][MH_LDA]: element (token, k)
    float* cs = (float*) smem;              // [MH_TOKENS][MH_LDC]: element (token, row), after the last step
    int tid = threadIdx.x;
    int warp = tid / WARP;
    int r0 = blockIdx.x * MH_ROWS;
    int t0 = blockIdx.y * MH_TOKENS;
    int wm = (warp & 3) * 32; // the warp's first row in the tile
    int wn = (warp >> 2) * 32; // its first token
    size_t rb = row_bytes<Q>(cols);

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int k0 = 0; k0 < cols; k0 += MH_K) {
#pragma unroll
        for (int i = 0; i < MH_ROWS * MH_K / 8 / MH_THREADS; i++) {
            int p = tid + i * MH_THREADS;
            int lr = p / (MH_K / 8); // the tile row
            int lp = p % (MH_K / 8); // the part within this step
            float v[8];
            int e0 = 8 * lp;
            int e1 = e0 + 4;
            if (r0 + lr < rows) {
                Q::part(w + (size_t) (r0 + lr) * rb, k0 / 8 + lp, v, e0, e1);
                e0 -= k0;
                e1 -= k0;
            } else {
#pragma unroll
                for (int j = 0; j < 8; j++) v[j] = 0.0f;
            }
            __half* dst = ws + lr * MH_LDA;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                dst[e0 + j] = __float2half_rn(v[j]);
                dst[e1 + j] = __float2half_rn(v[4 + j]);
            }
        }
#pragma unroll
        for (int i = 0; i < MH_TOKENS * MH_K / 8 / MH_THREADS; i++) {
            int p = tid + i * MH_THREADS;
            int lt = p / (MH_K / 8);       // the tile token
            int lc = 8 * (p % (MH_K / 8)); // its first of 8 columns
            uint4 h = make_uint4(0u, 0u, 0u, 0u);
            if (t0 + lt < n) h = *(const uint4*) (xh + (size_t) (t0 + lt) * cols + k0 + lc);
            *(uint4*) (xs + lt * MH_LDA + lc) = h;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < MH_K; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b[2];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(a[i], ws + (wm + 16 * i) * MH_LDA + kk, MH_LDA);
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(b[j], xs + (wn + 16 * j) * MH_LDA + kk, MH_LDA);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(cs + (wn + 16 * j) * MH_LDC + wm + 16 * i, acc[i][j], MH_LDC, wmma::mem_col_major);
    __syncthreads();
    for (int p = tid; p < MH_TOKENS * MH_ROWS; p += MH_THREADS) {
        int lt = p / MH_ROWS;
        int lr = p % MH_ROWS;
        if (t0 + lt < n && r0 + lr < rows) y[(size_t) (t0 + lt) * rows + r0 + lr] = cs[lt * MH_LDC + lr] * xscale[t0 + lt];
    }
}

#define DEFINE_MATMUL_MMA(NAME, Q)                                                                             \
    extern "C" __global__ void matmul_mma_##NAME(const uint8_t* w, const __half* xh, const float* xscale,      \
                                                 float* y, int rows, int cols, int n) {                        \
        matmul_mma_tile<Q>(w, xh, xscale, y, rows, cols, n);                                                   \
    }

DEFINE_MATMUL_MMA(q4_0, Q4_0)
DEFINE_MATMUL_MMA(q8_0, Q8_0)
DEFINE_MATMUL_MMA(q4_k, Q4_K)
DEFINE_MATMUL_MMA(q6_k, Q6_K)
DEFINE_MATMUL_MMA(f16, F16)
