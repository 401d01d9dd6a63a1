// Attention over the F16 KV cache. Rows of the cache are positions; a row holds every kv head (width kvHeads *
// headDim). Keys are stored after RoPE. The position of the first token, pos0, is read from device memory (*pos),
// so that a captured launch (a CUDA graph) replays for any position.
#include "common.cuh"

// k, v: [n][width] F32 for positions pos0 .. pos0+n-1, stored into the caches rounded to nearest even.
extern "C" __global__ void store_kv(__half* kCache, __half* vCache, const float* k, const float* v, const int* pos,
                                    int n, int width) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n * width) return;
    size_t dst = (size_t) *pos * width + idx;
    kCache[dst] = __float2half_rn(k[idx]);
    vCache[dst] = __float2half_rn(v[idx]);
}

// Causal attention of n query tokens at positions pos0 .. pos0+n-1 over cache rows 0 .. pos, or only the last
// `window` of them (a sliding window); scores soft-capped to softcap·tanh(s/softcap) when softcap > 0. One
// block per (head, token); decode is n = 1. Scores live in dynamic shared memory: (headDim + pos0 + n + 32)
// floats at least. q and out: [n][heads * headDim].
extern "C" __global__ void attention(const float* q, const __half* kCache, const __half* vCache, float* out,
                                     int heads, int kvHeads, int headDim, const int* pos, float scale, int window,
                                     float softcap) {
    DYNAMIC_SHARED(float, shared);
    int h = blockIdx.x;
    int t = blockIdx.y;
    int len = *pos + t + 1;
    int start = len > window ? len - window : 0;
    float* qs = shared;
    float* scores = shared + headDim;
    float* scratch = scores + len;
    int width = kvHeads * headDim;
    int kvOff = (h / (heads / kvHeads)) * headDim;
    const float* qr = q + ((size_t) t * heads + h) * headDim;
    for (int i = threadIdx.x; i < headDim; i += blockDim.x) qs[i] = qr[i];
    __syncthreads();

    float m = -INFINITY;
    for (int p = start + threadIdx.x; p < len; p += blockDim.x) {
        const __half* kr = kCache + (size_t) p * width + kvOff;
        float s = 0.0f;
        for (int i = 0; i < headDim; i++) s += __half2float(kr[i]) * qs[i];
        s *= scale;
        if (softcap > 0.0f) s = softcap * tanhf(s / softcap);
        scores[p] = s;
        m = fmaxf(m, s);
    }
    m = block_max(m, scratch);
    float sum = 0.0f;
    for (int p = start + threadIdx.x; p < len; p += blockDim.x) {
        float e = expf(scores[p] - m);
        scores[p] = e;
        sum += e;
    }
    sum = block_sum(sum, scratch);
    float inv = 1.0f / sum;
    __syncthreads();

    float* o = out + ((size_t) t * heads + h) * headDim;
    for (int i = threadIdx.x; i < headDim; i += blockDim.x) {
        float acc = 0.0f;
        for (int p = start; p < len; p++) acc += scores[p] * __half2float(vCache[(size_t) p * width + kvOff + i]);
        o[i] = acc * inv;
    }
}
