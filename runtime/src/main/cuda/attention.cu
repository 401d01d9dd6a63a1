// Attention over the KV cache. Rows of the cache are positions; a row holds every kv head (width kvHeads *
// headDim), in the format kType or vType (kvcache.cuh: F16, Q8_0 or Q4_0). Keys are stored after RoPE. The position of the first token, pos0, is read from device memory (*pos),
// so that a captured launch (a CUDA graph) replays for any position.
#include "common.cuh"
#include "kvcache.cuh"

#ifndef VELLAMA_EMULATOR_H
#include <mma.h>
#endif

#define AT_Q 32   // query tokens per prefill block
#define AT_K 64   // cache rows per prefill tile
#define AT_THREADS 256 // threads per prefill block (8 per query row), as CudaKernels launches them

// Whether query position qpos sees cache position p (causal, within its window).
static __device__ __forceinline__ bool attention_sees(int qpos, int p, int window) {
    return p <= qpos && p > qpos - window;
}

// A raw score q·k made what the softmax takes: scaled, then soft-capped when softcap > 0.
static __device__ __forceinline__ float attention_score(float dot, float scale, float softcap) {
    float s = dot * scale;
    return softcap > 0.0f ? softcap * tanhf(s / softcap) : s;
}

// One step of the online softmax for a tile of AT_K cache rows, by the 8 neighbouring threads that own query row
// r (scores sc[j] for rows tid % 8 + 8j, −inf where not seen): the row's new running max, the probabilities
// exp(s − max) into p (row r's AT_K entries, float or half), the row's sum and the factor its earlier output is to
// be scaled by (rowScale), as every thread of the block calls it.
template <class P>
static __device__ __forceinline__ void attention_online_step(const float* sc, int r, int tid, P* p, float* rowMax,
                                                             float* rowSum, float* rowScale) {
    float tileMax = -INFINITY;
#pragma unroll
    for (int j = 0; j < AT_K / 8; j++) tileMax = fmaxf(tileMax, sc[j]);
    // the 8 threads of a row are neighbouring lanes of one warp
    for (int o = 4; o > 0; o >>= 1) tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, o));
    float oldMax = rowMax[r];
    float newMax = fmaxf(oldMax, tileMax);
    float tileSum = 0.0f;
#pragma unroll
    for (int j = 0; j < AT_K / 8; j++) {
        float e = sc[j] > -INFINITY ? expf(sc[j] - newMax) : 0.0f;
        p[tid % 8 + 8 * j] = (P) e;
        tileSum += e;
    }
    for (int o = 4; o > 0; o >>= 1) tileSum += __shfl_xor_sync(0xffffffffu, tileSum, o);
    __syncthreads(); // every thread of the row has read rowMax
    if (tid % 8 == 0) {
        float corr = oldMax > -INFINITY ? expf(oldMax - newMax) : 0.0f;
        rowScale[r] = corr;
        rowSum[r] = rowSum[r] * corr + tileSum;
        rowMax[r] = newMax;
    }
    __syncthreads();
}

// What prefill block (x, h) covers: query tokens [t0, t0 + rows) of head h at positions pos0 + t0.., its kv head's
// features from kvOff in cache rows of width values, and the cache positions [kStart, kEnd) any of its queries sees.
struct AttentionBlock {
    int t0, h, rows, pos0, width, kvOff, kStart, kEnd;
};

static __device__ __forceinline__ AttentionBlock attention_block(int n, int heads, int kvHeads, int headDim,
                                                                 const int* pos, int window) {
    AttentionBlock b;
    b.t0 = blockIdx.x * AT_Q;
    b.h = blockIdx.y;
    b.rows = min(AT_Q, n - b.t0);
    b.pos0 = *pos;
    b.width = kvHeads * headDim;
    b.kvOff = (b.h / (heads / kvHeads)) * headDim;
    int firstLen = b.pos0 + b.t0 + 1;
    b.kStart = firstLen > window ? firstLen - window : 0;
    b.kEnd = b.pos0 + b.t0 + b.rows; // past the last row any query of the block sees
    return b;
}

// Cache rows [k0, k0 + AT_K) of one kv head (features from kvOff) into the F16 tiles ks and vs (rows of ld halves),
// value by value in any cache format; rows from kEnd on are zeros. Every thread of the block takes part.
static __device__ __forceinline__ void attention_load_tile(const void* kCache, const void* vCache, int kType,
                                                           int vType, __half* ks, __half* vs, int ld, int k0, int kEnd,
                                                           int headDim, int width, int kvOff, int cells,
                                                           const int* origin) {
    for (int i = threadIdx.x; i < AT_K * headDim; i += blockDim.x) {
        int c = i / headDim;
        int d = i % headDim;
        int p = k0 + c;
        __half zero = __float2half_rn(0.0f);
        size_t row = (size_t) ((p + *origin) % cells);
        ks[c * ld + d] = p < kEnd ? kv_load_half(kCache, kType, row, width, kvOff + d) : zero;
        vs[c * ld + d] = p < kEnd ? kv_load_half(vCache, vType, row, width, kvOff + d) : zero;
    }
}

// k, v: [n][width] F32 for positions pos0 .. pos0+n-1, stored into the caches (F16 rounded to nearest even, the
// block types a warp per block; width a multiple of 32 for those, so every warp holds whole blocks). A cache
// of `cells` rows keeps position p in row (p + *origin) % cells: a ring for sliding-window layers, whose origin
// moves when a context shift renumbers the positions it holds; cells above every position and origin 0 otherwise.
// The same mapping holds in the attention kernels.
extern "C" __global__ void store_kv(void* kCache, void* vCache, const float* k, const float* v, const int* pos,
                                    int n, int width, int cells, const int* origin, int kType, int vType) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n * width) return; // whole warps
    size_t row = (size_t) ((*pos + *origin + idx / width) % cells);
    kv_store(kCache, kType, row, width, idx % width, k[idx]);
    kv_store(vCache, vType, row, width, idx % width, v[idx]);
}

// Causal attention over the cache rows 0 .. pos of each query token at position pos (pos0 .. pos0+n-1), or only
// the last `window` of them (a sliding window); scores soft-capped to softcap·tanh(s/softcap) when softcap > 0.
// q and out: [n][heads * headDim]. Two designs, both with work per token that grows linearly with the context:
//   decode (n = 1): attention_split gives each block AS_SPLIT cache rows of one head (so a long cache keeps the
//     whole GPU busy), writing the block's max score, sum of exponentials and unnormalised output; attention_combine
//     merges a head's blocks. The grid covers the `positions` the caller sizes for (a captured graph's capacity);
//     blocks past pos + 1 return at once and the merge reads only the blocks that can hold rows.
//   prefill (n > 1): attention_tiled gives each block AT_Q query tokens of one head and walks the cache in tiles of
//     AT_K rows held in shared memory, with an online softmax (running max and sum, the output rescaled as the max
//     grows), so every key and value is read once per AT_Q queries instead of once per query.

#define AS_SPLIT 256
#define AS_THREADS 128 // threads per decode block, as CudaKernels launches them

// Block (s, h): rows [s·AS_SPLIT, (s+1)·AS_SPLIT) of head h's window into part[(h·splits + s)·(headDim + 2)]: the
// max score m, the sum l of exp(score − m), then Σ exp(score − m)·v. An empty block writes m = −inf, l = 0.
// Dynamic shared memory: (headDim + AS_SPLIT + 32) floats.
extern "C" __global__ void attention_split(const float* __restrict__ q, const void* __restrict__ kCache,
                                           const void* __restrict__ vCache, float* __restrict__ part, int heads,
                                           int kvHeads, int headDim, const int* pos, float scale, int window,
                                           float softcap, int splits, int cells, const int* origin, int kType,
                                           int vType) {
    DYNAMIC_SHARED(float, shared);
    int s = blockIdx.x;
    int h = blockIdx.y;
    int len = *pos + 1;
    int start = len > window ? len - window : 0;
    int p0 = max(start, s * AS_SPLIT);
    int p1 = min(len, (s + 1) * AS_SPLIT);
    float* dst = part + ((size_t) h * splits + s) * (headDim + 2);
    if (p0 >= p1) { // the whole block takes this branch alike
        if (threadIdx.x == 0) {
            dst[0] = -INFINITY;
            dst[1] = 0.0f;
        }
        return;
    }
    float* qs = shared;
    float* scores = qs + headDim;
    float* scratch = scores + AS_SPLIT;
    int width = kvHeads * headDim;
    int kvOff = (h / (heads / kvHeads)) * headDim;
    for (int i = threadIdx.x; i < headDim; i += blockDim.x) qs[i] = q[(size_t) h * headDim + i];
    __syncthreads();
    // one warp per row, its lanes across the head's features (contiguous loads); every warp runs the same number
    // of rounds so that each reaches the shuffles alike
    int lane = threadIdx.x % WARP;
    int warps = blockDim.x / WARP;
    for (int base = p0; base < p1; base += warps) {
        int p = base + threadIdx.x / WARP;
        float acc = 0.0f;
        if (p < p1) {
            size_t row = (size_t) ((p + *origin) % cells);
            for (int i = lane; i < headDim; i += WARP) acc += kv_load(kCache, kType, row, width, kvOff + i) * qs[i];
        }
        acc = warp_sum(acc);
        if (lane == 0 && p < p1) scores[p - p0] = attention_score(acc, scale, softcap);
    }
    __syncthreads();
    float m = -INFINITY;
    for (int i = threadIdx.x; i < p1 - p0; i += blockDim.x) m = fmaxf(m, scores[i]);
    m = block_max(m, scratch);
    float l = 0.0f;
    for (int i = threadIdx.x; i < p1 - p0; i += blockDim.x) {
        float e = expf(scores[i] - m);
        scores[i] = e;
        l += e;
    }
    l = block_sum(l, scratch);
    __syncthreads();
    for (int i = threadIdx.x; i < headDim; i += blockDim.x) {
        float acc = 0.0f;
        for (int p = p0; p < p1; p++) {
            acc += scores[p - p0] * kv_load(vCache, vType, (size_t) ((p + *origin) % cells), width, kvOff + i);
        }
        dst[2 + i] = acc;
    }
    if (threadIdx.x == 0) {
        dst[0] = m;
        dst[1] = l;
    }
}

// Head h's output from its blocks' partial results: each rescaled by exp(m_s − max m) and summed, over l.
extern "C" __global__ void attention_combine(const float* __restrict__ part, float* __restrict__ out, int headDim,
                                             const int* pos, int splits) {
    int h = blockIdx.x;
    int used = min(splits, (*pos + AS_SPLIT) / AS_SPLIT); // the blocks that can hold rows 0 .. pos
    const float* ph = part + (size_t) h * splits * (headDim + 2);
    float m = -INFINITY;
    for (int s = 0; s < used; s++) m = fmaxf(m, ph[(size_t) s * (headDim + 2)]);
    float l = 0.0f;
    for (int s = 0; s < used; s++) {
        float ms = ph[(size_t) s * (headDim + 2)];
        if (ms > -INFINITY) l += expf(ms - m) * ph[(size_t) s * (headDim + 2) + 1];
    }
    for (int i = threadIdx.x; i < headDim; i += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s < used; s++) {
            const float* ps = ph + (size_t) s * (headDim + 2);
            if (ps[0] > -INFINITY) acc += expf(ps[0] - m) * ps[2 + i];
        }
        out[(size_t) h * headDim + i] = acc / l;
    }
}


// Block (x, h): query tokens [x·AT_Q, x·AT_Q + AT_Q) of head h. Thread tid owns query row tid / 8 in both phases:
// scores for cache rows tid % 8 + 8j of a tile, then output features tid % 8 + 8j. Shared rows are padded (odd
// word strides) so that the 8 rows a warp reads at once fall in different banks. Dynamic shared memory:
// attention_tiled_shared(headDim) bytes.
static __host__ __device__ __forceinline__ int attention_tiled_shared(int headDim) {
    return 4 * AT_Q * (headDim + 1) * 2 + 2 * AT_K * (headDim + 2) * 2 + 4 * AT_Q * (AT_K + 1) + 4 * 3 * AT_Q;
}

extern "C" __global__ void attention_tiled(const float* __restrict__ q, const void* __restrict__ kCache,
                                           const void* __restrict__ vCache, float* __restrict__ out, int heads,
                                           int kvHeads, int headDim, const int* pos, float scale, int window,
                                           float softcap, int n, int cells, const int* origin, int kType,
                                           int vType) {
    DYNAMIC_SHARED(float, shared);
    int qd = headDim + 1;          // float stride of qs and os
    int kd = headDim + 2;          // half stride of ks and vs
    float* qs = shared;                          // [AT_Q][qd]
    float* os = qs + AT_Q * qd;                  // [AT_Q][qd]
    float* ps = os + AT_Q * qd;                  // [AT_Q][AT_K + 1]
    float* rowMax = ps + AT_Q * (AT_K + 1);      // [AT_Q]
    float* rowSum = rowMax + AT_Q;               // [AT_Q]
    float* rowScale = rowSum + AT_Q;             // [AT_Q]
    __half* ks = (__half*) (rowScale + AT_Q);    // [AT_K][kd]
    __half* vs = ks + AT_K * kd;                 // [AT_K][kd]
    int tid = threadIdx.x;
    auto [t0, h, rows, pos0, width, kvOff, kStart, kEnd] = attention_block(n, heads, kvHeads, headDim, pos, window);
    for (int i = tid; i < AT_Q * headDim; i += blockDim.x) {
        int r = i / headDim;
        int d = i % headDim;
        qs[r * qd + d] = r < rows ? q[((size_t) (t0 + r) * heads + h) * headDim + d] : 0.0f;
        os[r * qd + d] = 0.0f;
    }
    if (tid < AT_Q) {
        rowMax[tid] = -INFINITY;
        rowSum[tid] = 0.0f;
    }
    int r = tid / 8;          // this thread's query row
    int qpos = pos0 + t0 + r; // its position
    for (int k0 = kStart; k0 < kEnd; k0 += AT_K) {
        __syncthreads(); // the previous tile is no longer read
        attention_load_tile(kCache, vCache, kType, vType, ks, vs, kd, k0, kEnd, headDim, width, kvOff, cells, origin);
        __syncthreads();
        float sc[AT_K / 8];
#pragma unroll
        for (int j = 0; j < AT_K / 8; j++) {
            int c = tid % 8 + 8 * j;
            int p = k0 + c;
            sc[j] = -INFINITY;
            if (r < rows && p < kEnd && attention_sees(qpos, p, window)) {
                float acc = 0.0f;
                for (int d = 0; d < headDim; d++) acc += qs[r * qd + d] * __half2float(ks[c * kd + d]);
                sc[j] = attention_score(acc, scale, softcap);
            }
        }
        attention_online_step(sc, r, tid, ps + r * (AT_K + 1), rowMax, rowSum, rowScale);
        float corr = rowScale[r];
        for (int d = tid % 8; d < headDim; d += 8) {
            float acc = os[r * qd + d] * corr;
            for (int c = 0; c < AT_K; c++) acc += ps[r * (AT_K + 1) + c] * __half2float(vs[c * kd + d]);
            os[r * qd + d] = acc;
        }
    }
    __syncthreads();
    for (int i = tid; i < rows * headDim; i += blockDim.x) {
        int rr = i / headDim;
        int d = i % headDim;
        out[((size_t) (t0 + rr) * heads + h) * headDim + d] = os[rr * qd + d] / rowSum[rr];
    }
}

// attention_tiled on tensor cores (heads of a multiple of 16 features; with -Dvellama.cuda.matmul=mma): the same
// walk and online softmax, with q rounded to F16 and S = q·kᵀ and o += p·v as 16x16x16 WMMA products (F32 sums)
// over shared tiles; the softmax itself runs in F32 on S, and p is rounded to F16 for its product with v. Eight
// warps: for S each takes one 16x16 block of the 32x64 scores, for o the 16x16 blocks i = warp, warp + 8, ...
#define ATM_LDH(d) ((d) + 8)   // halves per row of the q, k and v tiles
#define ATM_LDS (AT_K + 4)     // floats per row of the score tile
#define ATM_LDP (AT_K + 8)     // halves per row of the probability tile
#define ATM_LDO(d) ((d) + 4)   // floats per row of the output tile

static __host__ __device__ __forceinline__ int attention_mma_shared(int headDim) {
    return 32 + 2 * AT_Q * ATM_LDH(headDim) + 2 * 2 * AT_K * ATM_LDH(headDim) + 4 * AT_Q * ATM_LDS + 2 * AT_Q * ATM_LDP
           + 4 * AT_Q * ATM_LDO(headDim) + 4 * 3 * AT_Q;
}

extern "C" __global__ void attention_tiled_mma(const float* __restrict__ q, const void* __restrict__ kCache,
                                               const void* __restrict__ vCache, float* __restrict__ out, int heads,
                                               int kvHeads, int headDim, const int* pos, float scale, int window,
                                               float softcap, int n, int cells, const int* origin, int kType,
                                               int vType) {
    using namespace nvcuda;
    DYNAMIC_SHARED(float, shared);
    // every tile starts on a 32-byte boundary, as the WMMA loads and stores require
    unsigned char* base = (unsigned char*) (((uintptr_t) shared + 31) & ~(uintptr_t) 31);
    int ldh = ATM_LDH(headDim);
    int ldo = ATM_LDO(headDim);
    __half* qh = (__half*) base;                       // [AT_Q][ldh]
    __half* kh = qh + AT_Q * ldh;                      // [AT_K][ldh]
    __half* vh = kh + AT_K * ldh;                      // [AT_K][ldh]
    float* ss = (float*) (vh + AT_K * ldh);            // [AT_Q][ATM_LDS]
    __half* ph = (__half*) (ss + AT_Q * ATM_LDS);      // [AT_Q][ATM_LDP]
    float* os = (float*) (ph + AT_Q * ATM_LDP);        // [AT_Q][ldo]
    float* rowMax = os + AT_Q * ldo;
    float* rowSum = rowMax + AT_Q;
    float* rowScale = rowSum + AT_Q;
    int tid = threadIdx.x;
    int warp = tid / WARP;
    auto [t0, h, rows, pos0, width, kvOff, kStart, kEnd] = attention_block(n, heads, kvHeads, headDim, pos, window);
    for (int i = tid; i < AT_Q * headDim; i += blockDim.x) {
        int r = i / headDim;
        int d = i % headDim;
        qh[r * ldh + d] = __float2half_rn(r < rows ? q[((size_t) (t0 + r) * heads + h) * headDim + d] : 0.0f);
        os[r * ldo + d] = 0.0f;
    }
    if (tid < AT_Q) {
        rowMax[tid] = -INFINITY;
        rowSum[tid] = 0.0f;
    }
    int r = tid / 8;
    int qpos = pos0 + t0 + r;
    int chunks = headDim / 8; // 16-byte pieces of a row
    for (int k0 = kStart; k0 < kEnd; k0 += AT_K) {
        __syncthreads();
        if (kType == KV_F16 && vType == KV_F16) {
            for (int i = tid; i < AT_K * chunks; i += blockDim.x) {
                int c = i / chunks;
                int d = 8 * (i % chunks);
                int p = k0 + c;
                uint4 kv = make_uint4(0u, 0u, 0u, 0u);
                uint4 vv = kv;
                if (p < kEnd) {
                    size_t row = (size_t) ((p + *origin) % cells) * width + kvOff + d;
                    kv = *(const uint4*) ((const __half*) kCache + row);
                    vv = *(const uint4*) ((const __half*) vCache + row);
                }
                *(uint4*) (kh + c * ldh + d) = kv;
                *(uint4*) (vh + c * ldh + d) = vv;
            }
        } else { // a block type: value by value, decoded into the F16 tiles
            attention_load_tile(kCache, vCache, kType, vType, kh, vh, ldh, k0, kEnd, headDim, width, kvOff, cells,
                                origin);
        }
        __syncthreads();
        {
            int wr = warp / 4; // this warp's 16 query rows
            int wc = warp % 4; // and 16 cache rows
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> s;
            wmma::fill_fragment(s, 0.0f);
            for (int kk = 0; kk < headDim; kk += 16) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
                wmma::load_matrix_sync(a, qh + 16 * wr * ldh + kk, ldh);
                wmma::load_matrix_sync(b, kh + 16 * wc * ldh + kk, ldh);
                wmma::mma_sync(s, a, b, s);
            }
            wmma::store_matrix_sync(ss + 16 * wr * ATM_LDS + 16 * wc, s, ATM_LDS, wmma::mem_row_major);
        }
        __syncthreads();
        float sc[AT_K / 8];
#pragma unroll
        for (int j = 0; j < AT_K / 8; j++) {
            int c = tid % 8 + 8 * j;
            int p = k0 + c;
            sc[j] = -INFINITY;
            if (r < rows && p < kEnd && attention_sees(qpos, p, window)) {
                sc[j] = attention_score(ss[r * ATM_LDS + c], scale, softcap);
            }
        }
        attention_online_step(sc, r, tid, ph + r * ATM_LDP, rowMax, rowSum, rowScale);
        for (int i = tid; i < AT_Q * headDim; i += blockDim.x) os[(i / headDim) * ldo + i % headDim] *= rowScale[i / headDim];
        __syncthreads();
        for (int blk = warp; blk < 2 * (headDim / 16); blk += blockDim.x / WARP) {
            int br = blk % 2;  // 16 query rows
            int bc = blk / 2;  // 16 features
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> o;
            wmma::load_matrix_sync(o, os + 16 * br * ldo + 16 * bc, ldo, wmma::mem_row_major);
            for (int kk = 0; kk < AT_K; kk += 16) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> b;
                wmma::load_matrix_sync(a, ph + 16 * br * ATM_LDP + kk, ATM_LDP);
                wmma::load_matrix_sync(b, vh + kk * ldh + 16 * bc, ldh);
                wmma::mma_sync(o, a, b, o);
            }
            wmma::store_matrix_sync(os + 16 * br * ldo + 16 * bc, o, ldo, wmma::mem_row_major);
        }
    }
    __syncthreads();
    for (int i = tid; i < rows * headDim; i += blockDim.x) {
        int rr = i / headDim;
        int d = i % headDim;
        out[((size_t) (t0 + rr) * heads + h) * headDim + d] = os[rr * ldo + d] / rowSum[rr];
    }
}
