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
