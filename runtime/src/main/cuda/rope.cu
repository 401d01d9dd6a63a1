// Rotary position embedding in place on rows [token][head][headDim]. The angles come from the host as tables
// cos[pos][pairs] and sin[pos][pairs], computed once the way the CPU path computes them, so both paths agree.
// NORM rotates neighbouring pairs (2i, 2i+1); NEOX rotates (i, i + nRot/2). The first token's position is read
// from device memory, so a captured launch (a CUDA graph) replays for any position.
#include "common.cuh"

extern "C" __global__ void rope(float* x, const float* cos, const float* sin, int n, int heads, int headDim,
                                int nRot, const int* pos, int neox) {
    int half = nRot / 2;
    int total = n * heads * half;
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    int i = idx % half;
    int h = (idx / half) % heads;
    int t = idx / (half * heads);
    float* base = x + ((size_t) t * heads + h) * headDim;
    int i0 = neox ? i : 2 * i;
    int i1 = neox ? i + half : 2 * i + 1;
    size_t a = (size_t) (*pos + t) * half + i;
    float c = cos[a];
    float s = sin[a];
    float x0 = base[i0];
    float x1 = base[i1];
    base[i0] = x0 * c - x1 * s;
    base[i1] = x0 * s + x1 * c;
}

// RoPE on q in place and on k as it is stored, with v, into the F16 caches (decode fuses rope, rope and store_kv):
// threads [0, n·heads·nRot/2) rotate q's pairs as rope does; the next n·kvHeads·headDim threads each write one
// element of k (rotated, from both values of its pair) and of v at positions pos0.. of the caches (in the rows
// store_kv uses). k is left as it was.
extern "C" __global__ void rope_store_kv(float* q, const float* k, const float* v, __half* kCache, __half* vCache,
                                         const float* cos, const float* sin, int n, int heads, int kvHeads,
                                         int headDim, int nRot, const int* pos, int neox, int cells,
                                         const int* origin) {
    int half = nRot / 2;
    int qPairs = n * heads * half;
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < qPairs) {
        int i = idx % half;
        int h = (idx / half) % heads;
        int t = idx / (half * heads);
        float* base = q + ((size_t) t * heads + h) * headDim;
        int i0 = neox ? i : 2 * i;
        int i1 = neox ? i + half : 2 * i + 1;
        size_t a = (size_t) (*pos + t) * half + i;
        float c = cos[a];
        float s = sin[a];
        float x0 = base[i0];
        float x1 = base[i1];
        base[i0] = x0 * c - x1 * s;
        base[i1] = x0 * s + x1 * c;
        return;
    }
    int width = kvHeads * headDim;
    int e = idx - qPairs;
    if (e >= n * width) return;
    int t = e / width;
    int f = e % headDim; // the feature within its head
    const float* head = k + (size_t) e - f;
    float value = k[e];
    if (f < nRot) {
        int i = neox ? f % half : f / 2;
        bool first = neox ? f < half : f % 2 == 0;
        int i0 = neox ? i : 2 * i;
        int i1 = neox ? i + half : 2 * i + 1;
        size_t a = (size_t) (*pos + t) * half + i;
        float c = cos[a];
        float s = sin[a];
        float x0 = head[i0];
        float x1 = head[i1];
        value = first ? x0 * c - x1 * s : x0 * s + x1 * c;
    }
    size_t dst = (size_t) ((*pos + *origin + t) % cells) * width + e % width; // the row store_kv uses
    kCache[dst] = __float2half_rn(value);
    vCache[dst] = __float2half_rn(v[e]);
}

// A context shift of one layer's cache: rows [from, from + count) move to [to, to + count), each key turned by the
// rotation cos/sin (nRot/2 pairs, a shift's −discard positions) as rope turns it, values only moved. The ranges
// must not overlap (count <= from − to), so no row is read after it is written; longer moves go in pieces.
extern "C" __global__ void shift_kv(__half* kCache, __half* vCache, const float* cos, const float* sin, int from,
                                    int to, int count, int kvHeads, int headDim, int nRot, int neox) {
    int width = kvHeads * headDim;
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= count * width) return;
    int t = idx / width;
    int e = idx % width;
    int f = e % headDim;
    size_t src = (size_t) (from + t) * width;
    size_t dst = (size_t) (to + t) * width;
    float value = __half2float(kCache[src + e]);
    if (f < nRot) {
        int half = nRot / 2;
        int i = neox ? f % half : f / 2;
        bool first = neox ? f < half : f % 2 == 0;
        size_t head = src + e - f;
        float x0 = __half2float(kCache[head + (neox ? i : 2 * i)]);
        float x1 = __half2float(kCache[head + (neox ? i + half : 2 * i + 1)]);
        value = first ? x0 * cos[i] - x1 * sin[i] : x0 * sin[i] + x1 * cos[i];
    }
    kCache[dst + e] = __float2half_rn(value);
    vCache[dst + e] = vCache[src + e];
}

// A context shift of a ring (a sliding-window layer's cache of `cells` rows): the keys of positions [from, from +
// count) are turned in place by the rotation cos/sin, in the rows they occupy ((p + origin) % cells, the origin
// before the shift); the caller then moves the origin, so that the same rows hold the renumbered positions. One
// thread per pair, so both of its values are read before either is written.
extern "C" __global__ void turn_ring_keys(__half* kCache, const float* cos, const float* sin, int from, int count,
                                          int kvHeads, int headDim, int nRot, int neox, int cells, int origin) {
    int half = nRot / 2;
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= count * kvHeads * half) return;
    int i = idx % half;
    int h = (idx / half) % kvHeads;
    int t = idx / (half * kvHeads);
    __half* base = kCache + ((size_t) ((from + t + origin) % cells) * kvHeads + h) * headDim;
    int i0 = neox ? i : 2 * i;
    int i1 = neox ? i + half : 2 * i + 1;
    float x0 = __half2float(base[i0]);
    float x1 = __half2float(base[i1]);
    base[i0] = __float2half_rn(x0 * cos[i] - x1 * sin[i]);
    base[i1] = __float2half_rn(x0 * sin[i] + x1 * cos[i]);
}
