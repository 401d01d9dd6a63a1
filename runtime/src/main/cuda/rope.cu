// Rotary position embedding in place on rows [token][head][headDim]. The angles come from the host as tables
// cos[pos][pairs] and sin[pos][pairs], computed once the way the CPU path computes them, so both paths agree.
// NORM rotates neighbouring pairs (2i, 2i+1); NEOX rotates (i, i + nRot/2). The first token's position is read
// from device memory, so a captured launch (a CUDA graph) replays for any position.
#include "common.cuh"
#include "kvcache.cuh"

// The two features of pair i of a head (nRot/2 pairs) in NORM or NEOX order.
static __device__ __forceinline__ void rope_pair(int i, int half, int neox, int& i0, int& i1) {
    i0 = neox ? i : 2 * i;
    i1 = neox ? i + half : 2 * i + 1;
}

// The pair (x0, x1) turned by the angle whose cosine and sine are c and s: the first value, or the second.
static __device__ __forceinline__ float rope_turned(float x0, float x1, float c, float s, bool first) {
    return first ? x0 * c - x1 * s : x0 * s + x1 * c;
}

// Thread idx of n·heads·nRot/2 turns its pair of rows [token][head][headDim] at positions *pos + token.
static __device__ __forceinline__ void rope_rows(float* x, const float* cos, const float* sin, int idx, int heads,
                                                 int headDim, int nRot, const int* pos, int neox) {
    int half = nRot / 2;
    int i = idx % half;
    int h = (idx / half) % heads;
    int t = idx / (half * heads);
    float* base = x + ((size_t) t * heads + h) * headDim;
    int i0, i1;
    rope_pair(i, half, neox, i0, i1);
    size_t a = (size_t) (*pos + t) * half + i;
    float x0 = base[i0];
    float x1 = base[i1];
    base[i0] = rope_turned(x0, x1, cos[a], sin[a], true);
    base[i1] = rope_turned(x0, x1, cos[a], sin[a], false);
}

// Feature f of a head, turned by cos[i]/sin[i] of its pair when f < nRot; value(j) reads feature j of the head
// (from an F32 row, or decoded from a cache row).
template <class Value>
static __device__ __forceinline__ float rope_feature(Value value, int f, int nRot, int neox, const float* cos,
                                                     const float* sin) {
    if (f >= nRot) return value(f);
    int half = nRot / 2;
    int i = neox ? f % half : f / 2;
    int i0, i1;
    rope_pair(i, half, neox, i0, i1);
    return rope_turned(value(i0), value(i1), cos[i], sin[i], f == i0);
}

extern "C" __global__ void rope(float* x, const float* cos, const float* sin, int n, int heads, int headDim,
                                int nRot, const int* pos, int neox) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n * heads * (nRot / 2)) return;
    rope_rows(x, cos, sin, idx, heads, headDim, nRot, pos, neox);
}

// Feature f of the head whose features start at value e − f of a cache row, turned as rope_feature turns it: a
// context shift's key.
static __device__ __forceinline__ float kv_turned(const void* cache, int type, size_t row, int width, int e, int f,
                                                  int nRot, int neox, const float* cos, const float* sin) {
    int head = e - f;
    return rope_feature([=](int j) { return kv_load(cache, type, row, width, head + j); }, f, nRot, neox, cos, sin);
}

// Threads of rope_store_kv before its cache part: the q pairs, rounded up to whole warps so that each warp of the
// cache part holds whole blocks of a row (the block types quantize a block per warp).
static __host__ __device__ __forceinline__ int rope_store_kv_first(int n, int heads, int nRot) {
    return (n * heads * (nRot / 2) + WARP - 1) / WARP * WARP;
}

// RoPE on q in place and on k as it is stored, with v, into the caches (decode fuses rope, rope and store_kv):
// threads [0, n·heads·nRot/2) rotate q's pairs as rope does; from rope_store_kv_first on, n·kvHeads·headDim threads
// each store one element of k (rotated, from both values of its pair) and of v at positions pos0.. of the caches (in
// the rows store_kv uses, in the formats kType and vType). k is left as it was.
extern "C" __global__ void rope_store_kv(float* q, const float* k, const float* v, void* kCache, void* vCache,
                                         const float* cos, const float* sin, int n, int heads, int kvHeads,
                                         int headDim, int nRot, const int* pos, int neox, int cells,
                                         const int* origin, int kType, int vType) {
    int half = nRot / 2;
    int qPairs = n * heads * half;
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < qPairs) {
        rope_rows(q, cos, sin, idx, heads, headDim, nRot, pos, neox);
        return;
    }
    int width = kvHeads * headDim;
    int e = idx - rope_store_kv_first(n, heads, nRot);
    if (e < 0 || e >= n * width) return; // whole warps of the cache part
    int t = e / width;
    int f = e % headDim; // the feature within its head
    size_t a = (size_t) (*pos + t) * half; // this position's angles
    const float* head = k + (size_t) e - f;
    float value = rope_feature([=](int j) { return head[j]; }, f, nRot, neox, cos + a, sin + a);
    size_t row = (size_t) ((*pos + *origin + t) % cells); // the row store_kv uses
    kv_store(kCache, kType, row, width, e % width, value);
    kv_store(vCache, vType, row, width, e % width, v[e]);
}

// A context shift of one layer's cache: rows [from, from + count) move to [to, to + count), each key turned by the
// rotation cos/sin (nRot/2 pairs, a shift's −discard positions) as rope turns it, values only moved (a block type's
// values quantize back to the same bytes). The ranges must not overlap (count <= from − to), so no row is read
// after it is written; longer moves go in pieces.
extern "C" __global__ void shift_kv(void* kCache, void* vCache, const float* cos, const float* sin, int from,
                                    int to, int count, int kvHeads, int headDim, int nRot, int neox, int kType,
                                    int vType) {
    int width = kvHeads * headDim;
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= count * width) return; // whole warps
    int t = idx / width;
    int e = idx % width;
    float key = kv_turned(kCache, kType, (size_t) (from + t), width, e, e % headDim, nRot, neox, cos, sin);
    float value = kv_load(vCache, vType, (size_t) (from + t), width, e);
    kv_store(kCache, kType, (size_t) (to + t), width, e, key);
    kv_store(vCache, vType, (size_t) (to + t), width, e, value);
}

// A context shift of a ring (a sliding-window layer's cache of `cells` rows): the keys of positions [from, from +
// count) are turned in place by the rotation cos/sin, in the rows they occupy ((p + origin) % cells, the origin
// before the shift); the caller then moves the origin, so that the same rows hold the renumbered positions. One
// block per position and kv head, a thread per feature (blockDim = headDim): the head is read whole before any of
// it is written.
extern "C" __global__ void turn_ring_keys(void* kCache, const float* cos, const float* sin, int from, int count,
                                          int kvHeads, int headDim, int nRot, int neox, int cells, int origin,
                                          int kType) {
    int t = blockIdx.x / kvHeads;
    int h = blockIdx.x % kvHeads;
    int f = threadIdx.x;
    int width = kvHeads * headDim;
    size_t row = (size_t) ((from + t + origin) % cells);
    float value = kv_turned(kCache, kType, row, width, h * headDim + f, f, nRot, neox, cos, sin);
    __syncthreads();
    kv_store(kCache, kType, row, width, h * headDim + f, value);
}
