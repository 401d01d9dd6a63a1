// Runs CUDA kernels on the host for tests on machines without a GPU: every block in turn, each of its threads as a
// fiber of one OS thread, switched at every __syncthreads and warp shuffle, which therefore act as
// barriers of the whole block (the kernels here reach them uniformly; a thread that has returned counts as
// arrived). Blind to timing and memory-model questions; it checks indexing, reductions and control flow.
#ifndef VELLAMA_EMULATOR_H
#define VELLAMA_EMULATOR_H

#include <cuda_fp16.h>
#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
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
inline EmuDim threadIdx;
inline EmuDim blockIdx;

// Switching fibers: on x86-64 a switch of stacks that saves only the callee-saved registers (glibc's swapcontext
// also saves the signal mask, a system call per switch: 1 µs, which made the switches most of an emulated run);
// elsewhere ucontext.
#if defined(__x86_64__)
#define EMU_FAST_SWITCH 1
// Saves the callee-saved registers on the current stack and its pointer in *from, then resumes the stack at to.
extern "C" void vellama_emu_switch(void** from, void* to);
asm(R"(
    .text
    .globl vellama_emu_switch
    .hidden vellama_emu_switch
    .type vellama_emu_switch, @function
vellama_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size vellama_emu_switch, .-vellama_emu_switch
)");
#else
#define EMU_FAST_SWITCH 0
#endif

struct EmuBlock {
    static constexpr size_t STACK = 64 * 1024;
#if EMU_FAST_SWITCH
    void* scheduler;           // saved stack pointers
    std::vector<void*> fibers;
#else
    ucontext_t scheduler;
    std::vector<ucontext_t> fibers;
#endif
    std::vector<std::unique_ptr<char[]>> stacks;
    std::vector<bool> finished;
    std::vector<uint32_t> exchange; // the bits of each thread's shuffled value
    std::vector<float> dynamicShared;
    std::function<void()> body;
    unsigned current = 0;
};
inline EmuBlock emuBlock;

#define DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(emuBlock.dynamicShared.data())

// Hands control back to the scheduler until every thread of the block has reached this point.
inline void emu_barrier() {
#if EMU_FAST_SWITCH
    vellama_emu_switch(&emuBlock.fibers[emuBlock.current], emuBlock.scheduler);
#else
    swapcontext(&emuBlock.fibers[emuBlock.current], &emuBlock.scheduler);
#endif
}

inline void __syncthreads() {
    emu_barrier();
}

template <class T>
inline T __shfl_xor_sync(unsigned, T v, int mask) {
    static_assert(sizeof(T) == 4, "32-bit values only");
    unsigned tid = threadIdx.x;
    std::memcpy(&emuBlock.exchange[tid], &v, 4);
    emu_barrier();
    T other;
    std::memcpy(&other, &emuBlock.exchange[(tid & ~31u) + ((tid % 32) ^ mask)], 4);
    emu_barrier(); // nobody overwrites its slot before all have read
    return other;
}

// Rounded float products and sums that the compiler may not fuse (the host build never contracts them: no -march
// with FMA).
inline float __fmul_rn(float a, float b) {
    return a * b;
}
inline float __fadd_rn(float a, float b) {
    return a + b;
}

inline float rsqrtf(float x) {
    return 1.0f / std::sqrt(x);
}
using std::max;
using std::min;

// Tensor-core fragments (nvcuda::wmma) for the emulator: every thread's fragment holds the whole tile, so a warp's
// collective load and product are done by all its threads alike, with the same results, and its store by one of
// them. The layout of elements in a real fragment is unspecified, and kernels here only touch fragments through
// these calls. Pointers and strides are checked as the real API requires (256-bit aligned, ldm a multiple of 16
// bytes).
namespace nvcuda::wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
    static constexpr int ROWS = std::is_same_v<Use, matrix_b> ? K : M;
    static constexpr int COLS = std::is_same_v<Use, matrix_a> ? K : N;
    static constexpr int num_elements = ROWS * COLS;
    T x[ROWS * COLS]; // element (r, c) at x[r * COLS + c]
};

inline void emu_check_operand(const void* p, unsigned ldm, size_t elementBytes) {
    if (reinterpret_cast<uintptr_t>(p) % 32 != 0 || (ldm * elementBytes) % 16 != 0) {
        fprintf(stderr, "wmma: pointer %p or ldm %u breaks the alignment rules\n", p, ldm);
        abort();
    }
}

template <class Use, int M, int N, int K, class T, class Layout>
void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const T* p, unsigned ldm) {
    using F = fragment<Use, M, N, K, T, Layout>;
    emu_check_operand(p, ldm, sizeof(T));
    for (int r = 0; r < F::ROWS; r++)
        for (int c = 0; c < F::COLS; c++)
            f.x[r * F::COLS + c] = std::is_same_v<Layout, row_major> ? p[r * ldm + c] : p[c * ldm + r];
}

template <int M, int N, int K, class T>
void load_matrix_sync(fragment<accumulator, M, N, K, T>& f, const T* p, unsigned ldm, layout_t layout) {
    emu_check_operand(p, ldm, sizeof(T));
    for (int r = 0; r < M; r++)
        for (int c = 0; c < N; c++) f.x[r * N + c] = layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r];
}

// The warp's threads run one after another here, each with the whole tile: only its last thread writes, so that
// every thread of the warp has loaded what the store replaces (a tile loaded, added to and stored back) before it
// changes, as in the real collective store.
template <int M, int N, int K, class T>
void store_matrix_sync(T* p, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t layout) {
    emu_check_operand(p, ldm, sizeof(T));
    if (threadIdx.x % 32 != 31 && threadIdx.x != blockDim.x - 1) return;
    for (int r = 0; r < M; r++)
        for (int c = 0; c < N; c++) (layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r]) = f.x[r * N + c];
}

template <class F, class V>
void fill_fragment(F& f, V v) {
    for (int i = 0; i < F::num_elements; i++) f.x[i] = v;
}

// d = a·b + c with the F16 products exact in F32, as the tensor cores form them
template <int M, int N, int K, class T, class LA, class LB>
void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, T, LA>& a,
              const fragment<matrix_b, M, N, K, T, LB>& b, const fragment<accumulator, M, N, K, float>& c) {
    float out[M * N];
    for (int r = 0; r < M; r++)
        for (int col = 0; col < N; col++) {
            float s = c.x[r * N + col];
            for (int k = 0; k < K; k++) s += __half2float(a.x[r * K + k]) * __half2float(b.x[k * N + col]);
            out[r * N + col] = s;
        }
    std::copy(out, out + M * N, d.x);
}
} // namespace nvcuda::wmma

inline void emu_fiber_entry() {
    emuBlock.body();
    emuBlock.finished[emuBlock.current] = true;
#if EMU_FAST_SWITCH
    emu_barrier(); // a finished thread is never resumed
    abort();
#endif
}

#if EMU_FAST_SWITCH
// A fresh stack that the first switch to it enters at emu_fiber_entry: six zeroed callee-saved registers, the entry
// as the return address, and a null return address for the entry itself, aligned as after a call.
inline void* emu_fiber_stack(char* stack, size_t size) {
    uintptr_t top = (reinterpret_cast<uintptr_t>(stack) + size) & ~static_cast<uintptr_t>(15);
    void** sp = reinterpret_cast<void**>(top - 16) - 6;
    for (int i = 0; i < 6; i++) sp[i] = nullptr;
    sp[6] = reinterpret_cast<void*>(&emu_fiber_entry);
    sp[7] = nullptr;
    return sp;
}
#endif

// Launches f() over a 2-D grid of 1-D blocks (the only shapes the runtime uses).
template <class F>
void emu_launch(unsigned gridX, unsigned gridY, unsigned threads, size_t sharedBytes, F f) {
    blockDim = {threads, 1, 1};
    gridDim = {gridX, gridY, 1};
    EmuBlock& b = emuBlock;
    while (b.stacks.size() < threads) b.stacks.push_back(std::make_unique<char[]>(EmuBlock::STACK));
    b.fibers.resize(threads);
    b.body = f;
    for (unsigned by = 0; by < gridY; by++) {
        for (unsigned bx = 0; bx < gridX; bx++) {
            blockIdx = {bx, by, 0};
            b.exchange.assign(threads, 0u);
            b.dynamicShared.assign(sharedBytes / sizeof(float) + 1, 0.0f);
            b.finished.assign(threads, false);
            for (unsigned t = 0; t < threads; t++) {
#if EMU_FAST_SWITCH
                b.fibers[t] = emu_fiber_stack(b.stacks[t].get(), EmuBlock::STACK);
#else
                getcontext(&b.fibers[t]);
                b.fibers[t].uc_stack.ss_sp = b.stacks[t].get();
                b.fibers[t].uc_stack.ss_size = EmuBlock::STACK;
                b.fibers[t].uc_link = &b.scheduler;
                makecontext(&b.fibers[t], emu_fiber_entry, 0);
#endif
            }
            // one pass runs every live thread to its next barrier (or its end)
            for (bool live = true; live;) {
                live = false;
                for (unsigned t = 0; t < threads; t++) {
                    if (b.finished[t]) continue;
                    b.current = t;
                    threadIdx = {t, 0, 0};
#if EMU_FAST_SWITCH
                    vellama_emu_switch(&b.scheduler, b.fibers[t]);
#else
                    swapcontext(&b.scheduler, &b.fibers[t]);
#endif
                    live |= !b.finished[t];
                }
            }
        }
    }
}

#endif
