// Token embedding: out[t][c] = W[ids[t]][c], the row decoded to F32. One block per token.
#include "quant.cuh"

template <class Q>
static __device__ __forceinline__ void get_rows(const uint8_t* __restrict__ w, const int* __restrict__ ids,
                                                float* __restrict__ out, int cols) {
    int t = blockIdx.x;
    const uint8_t* row = w + (size_t) ids[t] * row_bytes<Q>(cols);
    float* dst = out + (size_t) t * cols;
    for (int pi = threadIdx.x; pi < cols / 8; pi += blockDim.x) decode_part<Q>(row, pi, dst);
}

#define DEFINE_GET_ROWS(NAME, Q)                                                                               \
    extern "C" __global__ void get_rows_##NAME(const uint8_t* w, const int* ids, float* out, int cols) {      \
        get_rows<Q>(w, ids, out, cols);                                                                      \
    }

DEFINE_GET_ROWS(q4_0, Q4_0)
DEFINE_GET_ROWS(q8_0, Q8_0)
DEFINE_GET_ROWS(q4_k, Q4_K)
DEFINE_GET_ROWS(q6_k, Q6_K)
DEFINE_GET_ROWS(f16, F16)
