// Runs CUDA kernels on the host for tests on machines without a GPU: every block in turn, each of its threads as a
// real thread, __syncthreads as a barrier of the block, warp shuffles as an exchange between the 32 threads of a
// warp. Slow, and blind to timing and memory-model questions; it checks indexing, reductions and control flow.
#ifndef VELLAMA_EMULATOR_H
#define VELLAMA_EMULATOR_H

#include <cuda_fp16.h>

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#undef __restrict__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
// static locals persist across the threads of a block (blocks run one at a time)
#define __shared__ static

struct EmuDim {
    unsigned x = 1, y = 1, z = 1;
};

inline EmuDim blockDim;
inline EmuDim gridDim;
inline thread_local EmuDim threadIdx;
inline thread_local EmuDim blockIdx;

struct EmuBlock {
    std::unique_ptr<std::barrier<>> all;
    std::vector<std::unique_ptr<std::barrier<>>> warps;
    std::vector<float> exchange;
    std::vector<float> dynamicShared;
};
inline EmuBlock emuBlock;

#define DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(emuBlock.dynamicShared.data())

inline void __syncthreads() {
    emuBlock.all->arrive_and_wait();
}

inline float __shfl_xor_sync(unsigned, float v, int mask) {
    int tid = threadIdx.x;
    int warp = tid / 32;
    emuBlock.exchange[tid] = v;
    emuBlock.warps[warp]->arrive_and_wait();
    float other = emuBlock.exchange[warp * 32 + ((tid % 32) ^ mask)];
    emuBlock.warps[warp]->arrive_and_wait();
    return other;
}

inline float rsqrtf(float x) {
    return 1.0f / std::sqrt(x);
}
using std::min;

// Launches f() over a 2-D grid of 1-D blocks (the only shapes the runtime uses).
template <class F>
void emu_launch(unsigned gridX, unsigned gridY, unsigned threads, size_t sharedBytes, F f) {
    blockDim = {threads, 1, 1};
    gridDim = {gridX, gridY, 1};
    for (unsigned by = 0; by < gridY; by++) {
        for (unsigned bx = 0; bx < gridX; bx++) {
            emuBlock.all = std::make_unique<std::barrier<>>(threads);
            emuBlock.warps.clear();
            for (unsigned w = 0; w < (threads + 31) / 32; w++) {
                emuBlock.warps.push_back(std::make_unique<std::barrier<>>(std::min(32u, threads - 32 * w)));
            }
            emuBlock.exchange.assign(threads, 0.0f);
            emuBlock.dynamicShared.assign(sharedBytes / sizeof(float) + 1, 0.0f);
            std::vector<std::thread> pool;
            for (unsigned t = 0; t < threads; t++) {
                pool.emplace_back([=] {
                    threadIdx = {t, 0, 0};
                    blockIdx = {bx, by, 0};
                    f();
                });
            }
            for (auto& th : pool) th.join();
        }
    }
}

#endif
