// Quantized weights times F32 activations: y[t][r] = sum_c W[r][c] * x[t][c].
#include "quant.cuh"

// Matrix-vector (decode): one warp per ROWS weight rows (matvec_<type>: 1, matvec2_<type>: 2). Lane i reads parts
// i, i + 32, ... of each row (8 weights each), so a warp's weight loads are contiguous stretches of the rows and
// its activation loads float4s side by side; with 2 rows each activation load serves both (for 4-bit weights the
// activations are most of the bytes a warp reads).

static __device__ __forceinline__ float dot8(const float* v, float4 a, float4 b) {
    return v[0] * a.x + v[1] * a.y + v[2] * a.z + v[3] * a.w + v[4] * b.x + v[5] * b.y + v[6] * b.z + v[7] * b.w;
}

template <class Q, int ROWS>
static __device__ __forceinline__ void matvec_rows(const uint8_t* __restrict__ w, const float* __restrict__ x,
                                                   float* __restrict__ y, int rows, int cols, int block) {
    int r0 = (block * (blockDim.x / WARP) + threadIdx.x / WARP) * ROWS;
    int lane = threadIdx.x % WARP;
    if (r0 >= rows) return;
    size_t rb = row_bytes<Q>(cols);
    const uint8_t* row[ROWS];
#pragma unroll
    for (int i = 0; i < ROWS; i++) row[i] = w + (size_t) min(r0 + i, rows - 1) * rb; // past the end: re-read
    int parts = cols / 8;
    float acc[ROWS];
#pragma unroll
    for (int i = 0; i < ROWS; i++) acc[i] = 0.0f;
    for (int pi = lane; pi < parts; pi += WARP) {
        float v[8];
        int e0, e1;
        Q::part(row[0], pi, v, e0, e1);
        float4 a = *(const float4*) (x + e0);
        float4 b = *(const float4*) (x + e1);
        acc[0] += dot8(v, a, b);
#pragma unroll
        for (int i = 1; i < ROWS; i++) {
            Q::part(row[i], pi, v, e0, e1);
            acc[i] += dot8(v, a, b);
        }
    }
#pragma unroll
    for (int i = 0; i < ROWS; i++) {
        float s = warp_sum(acc[i]);
        if (lane == 0 && r0 + i < rows) y[r0 + i] = s;
    }
}

// Up to three matrices of one format and width that multiply the same activations (q, k and v; gate and up) in
// one launch: blocks [0, b0) take rows of w0, the next b1 blocks rows of w1, the rest rows of w2 (rows2 may be 0).
// Every row is computed exactly as matvec_<type> computes it.
template <class Q, int ROWS>
static __device__ __forceinline__ void matvec_group(const uint8_t* w0, const uint8_t* w1, const uint8_t* w2,
                                                    const float* x, float* y0, float* y1, float* y2, int rows0,
                                                    int rows1, int rows2, int cols) {
    int per = (blockDim.x / WARP) * ROWS; // rows per block
    int b0 = (rows0 + per - 1) / per;
    int b1 = (rows1 + per - 1) / per;
    int b = blockIdx.x;
    if (b < b0) {
        matvec_rows<Q, ROWS>(w0, x, y0, rows0, cols, b);
    } else if (b < b0 + b1) {
        matvec_rows<Q, ROWS>(w1, x, y1, rows1, cols, b - b0);
    } else {
        matvec_rows<Q, ROWS>(w2, x, y2, rows2, cols, b - b0 - b1);
    }
}

// A few tokens at once (continuous batching's decode rows): one warp per weight row, as matvec_<type>, each part
// decoded once and dotted with up to MV_TOKENS tokens' activations, y[t][r]. Each token's sum runs in the order
// matvec_<type> (and matvec2_<type>) use, so a token's result equals its lone matrix-vector product.
#define MV_TOKENS 8

template <class Q>
static __device__ __forceinline__ void matvec_tokens(const uint8_t* __restrict__ w, const float* __restrict__ x,
                                                     float* __restrict__ y, int rows, int cols, int n) {
    int r = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int lane = threadIdx.x % WARP;
    if (r >= rows) return;
    const uint8_t* row = w + (size_t) r * row_bytes<Q>(cols);
    int parts = cols / 8;
    float acc[MV_TOKENS];
#pragma unroll
    for (int t = 0; t < MV_TOKENS; t++) acc[t] = 0.0f;
    for (int pi = lane; pi < parts; pi += WARP) {
        float v[8];
        int e0, e1;
        Q::part(row, pi, v, e0, e1);
#pragma unroll
        for (int t = 0; t < MV_TOKENS; t++) {
            if (t < n) {
                float4 a = *(const float4*) (x + (size_t) t * cols + e0);
                float4 b = *(const float4*) (x + (size_t) t * cols + e1);
                acc[t] += dot8(v, a, b);
            }
        }
    }
#pragma unroll
    for (int t = 0; t < MV_TOKENS; t++) {
        if (t < n) {
            float s = warp_sum(acc[t]);
            if (lane == 0) y[(size_t) t * rows + r] = s;
        }
    }
}

// Batched (prompt processing): a block of MM_THREADS threads computes a tile of MM_ROWS weight rows by MM_TOKENS
// tokens. For each 32-element stretch of the rows, every thread decodes one part of the weight tile and loads 8
// activations into shared memory, then each thread accumulates a 4x4 patch of the tile from it. Each weight is
// decoded once per MM_TOKENS tokens; threads side by side own neighbouring rows, so stores to y are contiguous.
#define MM_ROWS 64
#define MM_TOKENS 64
#define MM_K 32
#define MM_THREADS 256
#define MM_PAD 4

template <class Q>
static __device__ __forceinline__ void matmul_tile(const uint8_t* __restrict__ w, const float* __restrict__ x,
                                                   float* __restrict__ y, int rows, int cols, int n) {
    __shared__ float ws[MM_K][MM_ROWS + MM_PAD];
    __shared__ float xs[MM_K][MM_TOKENS + MM_PAD];
    int tid = threadIdx.x;
    int r0 = blockIdx.x * MM_ROWS;
    int t0 = blockIdx.y * MM_TOKENS;
    int lr = tid >> 2; // the row (and token) this thread loads
    int lp = tid & 3;  // which part of the 32-element stretch
    int tr = (tid & 15) * 4; // first of the 4 rows this thread accumulates
    int tt = (tid >> 4) * 4; // first of its 4 tokens
    const uint8_t* wrow = r0 + lr < rows ? w + (size_t) (r0 + lr) * row_bytes<Q>(cols) : nullptr;
    const float* xrow = t0 + lr < n ? x + (size_t) (t0 + lr) * cols : nullptr;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < cols; k0 += MM_K) {
        float v[8];
        int e0 = 8 * lp;
        int e1 = e0 + 4;
        if (wrow != nullptr) {
            Q::part(wrow, k0 / 8 + lp, v, e0, e1);
            e0 -= k0;
            e1 -= k0;
        } else {
#pragma unroll
            for (int j = 0; j < 8; j++) v[j] = 0.0f;
        }
#pragma unroll
        for (int j = 0; j < 4; j++) {
            ws[e0 + j][lr] = v[j];
            ws[e1 + j][lr] = v[4 + j];
        }
        float4 a = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        float4 b = a;
        if (xrow != nullptr) {
            a = *(const float4*) (xrow + k0 + 8 * lp);
            b = *(const float4*) (xrow + k0 + 8 * lp + 4);
        }
        xs[8 * lp + 0][lr] = a.x;
        xs[8 * lp + 1][lr] = a.y;
        xs[8 * lp + 2][lr] = a.z;
        xs[8 * lp + 3][lr] = a.w;
        xs[8 * lp + 4][lr] = b.x;
        xs[8 * lp + 5][lr] = b.y;
        xs[8 * lp + 6][lr] = b.z;
        xs[8 * lp + 7][lr] = b.w;
        __syncthreads();
#pragma unroll 8
        for (int k = 0; k < MM_K; k++) {
            float4 wv = *(const float4*) &ws[k][tr];
            float4 xv = *(const float4*) &xs[k][tt];
            float wr[4] = {wv.x, wv.y, wv.z, wv.w};
            float xr[4] = {xv.x, xv.y, xv.z, xv.w};
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += wr[i] * xr[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int j = 0; j < 4; j++) {
        int t = t0 + tt + j;
        if (t >= n) break;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int r = r0 + tr + i;
            if (r < rows) y[(size_t) t * rows + r] = acc[i][j];
        }
    }
}

#define DEFINE_MATMUL(NAME, Q)                                                                                   \
    extern "C" __global__ void matvec_##NAME(const uint8_t* w, const float* x, float* y, int rows, int cols) {  \
        matvec_rows<Q, 1>(w, x, y, rows, cols, blockIdx.x);                                                    \
    }                                                                                                          \
    extern "C" __global__ void matvec2_##NAME(const uint8_t* w, const float* x, float* y, int rows, int cols) { \
        matvec_rows<Q, 2>(w, x, y, rows, cols, blockIdx.x);                                                    \
    }                                                                                                          \
    extern "C" __global__ void matvec_group_##NAME(const uint8_t* w0, const uint8_t* w1, const uint8_t* w2,    \
                                                   const float* x, float* y0, float* y1, float* y2, int rows0, \
                                                   int rows1, int rows2, int cols) {                           \
        matvec_group<Q, 1>(w0, w1, w2, x, y0, y1, y2, rows0, rows1, rows2, cols);                              \
    }                                                                                                          \
    extern "C" __global__ void matvec2_group_##NAME(const uint8_t* w0, const uint8_t* w1, const uint8_t* w2,   \
                                                    const float* x, float* y0, float* y1, float* y2, int rows0, \
                                                    int rows1, int rows2, int cols) {                          \
        matvec_group<Q, 2>(w0, w1, w2, x, y0, y1, y2, rows0, rows1, rows2, cols);                              \
    }                                                                                                          \
    extern "C" __global__ void matvecn_##NAME(const uint8_t* w, const float* x, float* y, int rows, int cols,   \
                                              int n) {                                                         \
        matvec_tokens<Q>(w, x, y, rows, cols, n);                                                              \
    }                                                                                                          \
    extern "C" __global__ void matmul_##NAME(const uint8_t* w, const float* x, float* y, int rows, int cols,    \
                                             int n) {                                                          \
        matmul_tile<Q>(w, x, y, rows, cols, n);                                                                \
    }

DEFINE_MATMUL(q4_0, Q4_0)
DEFINE_MATMUL(q8_0, Q8_0)
DEFINE_MATMUL(q4_k, Q4_K)
DEFINE_MATMUL(q6_k, Q6_K)
DEFINE_MATMUL(f16, F16)
