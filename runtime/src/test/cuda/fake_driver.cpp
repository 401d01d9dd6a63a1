// A stand-in for libcuda.so.1 that runs the kernels in the host emulator, so the Java side (bindings, launches,
// copies, the forward pass) can be tested end to end without a GPU. Every entry point is defined with the
// prototype of the real cuda.h (whose macros also pick the _v2 names), and handed out by cuGetProcAddress_v2
// as the real driver does. Device memory is host memory; streams and events are placeholders.
#include "emulator.h"

#include "../../main/cuda/kernels.cu"

#include <cuda.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

struct Kernel {
    std::function<void(void**, unsigned, unsigned, unsigned, size_t)> launch;
};

#define P(i, T) (*reinterpret_cast<T*>(params[i]))
#define KERNEL(NAME, CALL)                                                                                   \
    {#NAME, Kernel{[](void** params, unsigned gx, unsigned gy, unsigned bx, size_t shared) {                \
         emu_launch(gx, gy, bx, shared, [&] { CALL; });                                                      \
     }}}
#define MATMUL_KERNELS(T)                                                                                    \
    KERNEL(matvec_##T, matvec_##T(P(0, const uint8_t*), P(1, const float*), P(2, float*), P(3, int), P(4, int))), \
    KERNEL(matvec2_##T, matvec2_##T(P(0, const uint8_t*), P(1, const float*), P(2, float*), P(3, int), P(4, int))), \
    KERNEL(matvecn_##T, matvecn_##T(P(0, const uint8_t*), P(1, const float*), P(2, float*), P(3, int), P(4, int), \
                                    P(5, int))),                                                             \
    KERNEL(matmul_##T, matmul_##T(P(0, const uint8_t*), P(1, const float*), P(2, float*), P(3, int), P(4, int),   \
                                  P(5, int))),                                                               \
    KERNEL(matvec_group_##T, matvec_group_##T(P(0, const uint8_t*), P(1, const uint8_t*), P(2, const uint8_t*),   \
                                              P(3, const float*), P(4, float*), P(5, float*), P(6, float*),       \
                                              P(7, int), P(8, int), P(9, int), P(10, int))),                      \
    KERNEL(matvec2_group_##T, matvec2_group_##T(P(0, const uint8_t*), P(1, const uint8_t*), P(2, const uint8_t*), \
                                                P(3, const float*), P(4, float*), P(5, float*), P(6, float*),     \
                                                P(7, int), P(8, int), P(9, int), P(10, int))),                    \
    KERNEL(matmul_mma_##T, matmul_mma_##T(P(0, const uint8_t*), P(1, const __half*), P(2, const float*),          \
                                          P(3, float*), P(4, int), P(5, int), P(6, int))),                   \
    KERNEL(get_rows_##T, get_rows_##T(P(0, const uint8_t*), P(1, const int*), P(2, float*), P(3, int)))

std::map<std::string, Kernel> kernels = {
    MATMUL_KERNELS(q4_0), MATMUL_KERNELS(q8_0), MATMUL_KERNELS(q4_k), MATMUL_KERNELS(q6_k), MATMUL_KERNELS(f16),
    KERNEL(to_half_rows, to_half_rows(P(0, const float*), P(1, __half*), P(2, float*), P(3, int))),
    KERNEL(rmsnorm, rmsnorm(P(0, float*), P(1, const float*), P(2, const float*), P(3, int), P(4, float))),
    KERNEL(add_rmsnorm, add_rmsnorm(P(0, float*), P(1, float*), P(2, const float*), P(3, const float*), P(4, int),
                                    P(5, float))),
    KERNEL(rope_store_kv, rope_store_kv(P(0, float*), P(1, const float*), P(2, const float*), P(3, void*),
                                        P(4, void*), P(5, const float*), P(6, const float*), P(7, int), P(8, int),
                                        P(9, int), P(10, int), P(11, int), P(12, const int*), P(13, int), P(14, int),
                                        P(15, const int*), P(16, int), P(17, int))),
    KERNEL(shift_kv, shift_kv(P(0, void*), P(1, void*), P(2, const float*), P(3, const float*), P(4, int),
                              P(5, int), P(6, int), P(7, int), P(8, int), P(9, int), P(10, int), P(11, int),
                              P(12, int))),
    KERNEL(turn_ring_keys, turn_ring_keys(P(0, void*), P(1, const float*), P(2, const float*), P(3, int), P(4, int),
                                          P(5, int), P(6, int), P(7, int), P(8, int), P(9, int), P(10, int),
                                          P(11, int))),
    KERNEL(softmax, softmax(P(0, float*), P(1, int))),
    KERNEL(rope, rope(P(0, float*), P(1, const float*), P(2, const float*), P(3, int), P(4, int), P(5, int),
                      P(6, int), P(7, const int*), P(8, int))),
    KERNEL(store_kv, store_kv(P(0, void*), P(1, void*), P(2, const float*), P(3, const float*), P(4, const int*),
                              P(5, int), P(6, int), P(7, int), P(8, const int*), P(9, int), P(10, int))),
    KERNEL(attention_split, attention_split(P(0, const float*), P(1, const void*), P(2, const void*), P(3, float*),
                                            P(4, int), P(5, int), P(6, int), P(7, const int*), P(8, float), P(9, int),
                                            P(10, float), P(11, int), P(12, int), P(13, const int*), P(14, int),
                                            P(15, int))),
    KERNEL(attention_combine, attention_combine(P(0, const float*), P(1, float*), P(2, int), P(3, const int*), P(4, int))),
    KERNEL(attention_tiled_mma, attention_tiled_mma(P(0, const float*), P(1, const void*), P(2, const void*),
                                                    P(3, float*), P(4, int), P(5, int), P(6, int), P(7, const int*),
                                                    P(8, float), P(9, int), P(10, float), P(11, int), P(12, int),
                                                    P(13, const int*), P(14, int), P(15, int))),
    KERNEL(attention_tiled, attention_tiled(P(0, const float*), P(1, const void*), P(2, const void*), P(3, float*),
                                            P(4, int), P(5, int), P(6, int), P(7, const int*), P(8, float), P(9, int),
                                            P(10, float), P(11, int), P(12, int), P(13, const int*), P(14, int),
                                            P(15, int))),
    KERNEL(swiglu, swiglu(P(0, float*), P(1, const float*), P(2, int))),
    KERNEL(geglu, geglu(P(0, float*), P(1, const float*), P(2, int))),
    KERNEL(scale, scale(P(0, float*), P(1, float), P(2, int))),
    KERNEL(scale_by_position, scale_by_position(P(0, float*), P(1, const float*), P(2, int), P(3, int),
                                                P(4, const int*))),
    KERNEL(softcap, softcap(P(0, float*), P(1, float), P(2, int))),
    KERNEL(add, add(P(0, float*), P(1, const float*), P(2, int))),
    KERNEL(add_bias, add_bias(P(0, float*), P(1, const float*), P(2, int), P(3, int))),
};

int module_token;
int context_token;

// Stream capture: while capturing, launches are recorded with copies of their parameter values (the Java side
// passes a block of KernelArgs.MAX_ARGS pointers to 8-byte slots) and run when the graph is launched.
constexpr int MAX_ARGS = 24;
struct Recorded {
    Kernel* kernel;
    unsigned gx, gy, bx;
    size_t shared;
    uint64_t values[MAX_ARGS];
};
struct Graph {
    std::vector<Recorded> launches;
};
Graph* capturing = nullptr;
using Clock = std::chrono::steady_clock;

}  // namespace

CUresult CUDAAPI cuInit(unsigned int) { return CUDA_SUCCESS; }

CUresult CUDAAPI cuGetErrorName(CUresult error, const char** s) {
    switch (error) {
        case CUDA_SUCCESS: *s = "CUDA_SUCCESS"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_VALUE: *s = "CUDA_ERROR_INVALID_VALUE"; return CUDA_SUCCESS;
        case CUDA_ERROR_OUT_OF_MEMORY: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return CUDA_SUCCESS;
        case CUDA_ERROR_NOT_FOUND: *s = "CUDA_ERROR_NOT_FOUND"; return CUDA_SUCCESS;
        default: *s = nullptr; return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult CUDAAPI cuGetErrorString(CUresult error, const char** s) {
    switch (error) {
        case CUDA_ERROR_INVALID_VALUE: *s = "invalid argument"; return CUDA_SUCCESS;
        case CUDA_ERROR_OUT_OF_MEMORY: *s = "out of memory"; return CUDA_SUCCESS;
        case CUDA_ERROR_NOT_FOUND: *s = "named symbol not found"; return CUDA_SUCCESS;
        default: *s = nullptr; return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult CUDAAPI cuDriverGetVersion(int* v) { *v = 13000; return CUDA_SUCCESS; }
CUresult CUDAAPI cuDeviceGetCount(int* n) { *n = 1; return CUDA_SUCCESS; }
CUresult CUDAAPI cuDeviceGet(CUdevice* d, int ordinal) {
    if (ordinal != 0) return CUDA_ERROR_INVALID_VALUE;
    *d = 0;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGetName(char* name, int len, CUdevice) {
    snprintf(name, len, "Host emulation");
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGetAttribute(int* v, CUdevice_attribute a, CUdevice) {
    switch (a) {
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 1; break;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; break;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = 232448; break;
        default: return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceTotalMem(size_t* bytes, CUdevice) { *bytes = size_t(1) << 32; return CUDA_SUCCESS; }
CUresult CUDAAPI cuMemGetInfo(size_t* free, size_t* total) {
    *free = *total = size_t(1) << 32;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext* c, CUdevice) {
    *c = reinterpret_cast<CUcontext>(&context_token);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuCtxSetCurrent(CUcontext c) {
    return c == reinterpret_cast<CUcontext>(&context_token) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult CUDAAPI cuCtxSynchronize() { return CUDA_SUCCESS; }

CUresult CUDAAPI cuModuleLoadDataEx(CUmodule* m, const void* image, unsigned int n, CUjit_option*, void**) {
    // the real driver would JIT this; here it must at least be the kernels' PTX
    const char* text = static_cast<const char*>(image);
    if (n != 0 || !strstr(text, ".entry attention_tiled(")) return CUDA_ERROR_INVALID_VALUE;
    *m = reinterpret_cast<CUmodule>(&module_token);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuModuleUnload(CUmodule) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name) {
    auto it = kernels.find(name);
    if (m != reinterpret_cast<CUmodule>(&module_token) || it == kernels.end()) return CUDA_ERROR_NOT_FOUND;
    *f = reinterpret_cast<CUfunction>(&it->second);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuFuncSetAttribute(CUfunction, CUfunction_attribute a, int value) {
    return a == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES && value <= 232448 ? CUDA_SUCCESS
                                                                                   : CUDA_ERROR_INVALID_VALUE;
}
CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                                unsigned int by, unsigned int bz, unsigned int shared, CUstream, void** params,
                                void** extra) {
    if (gz != 1 || by != 1 || bz != 1 || extra != nullptr || bx == 0 || bx > 1024 || gx == 0 || gy == 0)
        return CUDA_ERROR_INVALID_VALUE;
    if (shared > 48 * 1024 && shared > 232448) return CUDA_ERROR_INVALID_VALUE;
    if (capturing != nullptr) {
        Recorded r{reinterpret_cast<Kernel*>(f), gx, gy, bx, shared, {}};
        for (int i = 0; i < MAX_ARGS; i++) memcpy(&r.values[i], params[i], 8);
        capturing->launches.push_back(r);
        return CUDA_SUCCESS;
    }
    reinterpret_cast<Kernel*>(f)->launch(params, gx, gy, bx, shared);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAlloc(CUdeviceptr* p, size_t bytes) {
    void* m = calloc(1, bytes);
    if (!m) return CUDA_ERROR_OUT_OF_MEMORY;
    *p = reinterpret_cast<CUdeviceptr>(m);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemFree(CUdeviceptr p) {
    free(reinterpret_cast<void*>(p));
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyHtoD(CUdeviceptr d, const void* s, size_t n) {
    memcpy(reinterpret_cast<void*>(d), s, n);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyDtoH(void* d, CUdeviceptr s, size_t n) {
    memcpy(d, reinterpret_cast<void*>(s), n);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyDtoD(CUdeviceptr d, CUdeviceptr s, size_t n) {
    memcpy(reinterpret_cast<void*>(d), reinterpret_cast<void*>(s), n);
    return CUDA_SUCCESS;
}
// a copy queued while capturing would be replayed with stale data: the forward pass must never do that
CUresult CUDAAPI cuMemcpyHtoDAsync(CUdeviceptr d, const void* s, size_t n, CUstream) {
    return capturing ? CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED : cuMemcpyHtoD(d, s, n);
}
CUresult CUDAAPI cuMemcpyDtoHAsync(void* d, CUdeviceptr s, size_t n, CUstream) {
    return capturing ? CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED : cuMemcpyDtoH(d, s, n);
}
CUresult CUDAAPI cuMemsetD8(CUdeviceptr d, unsigned char v, size_t n) {
    memset(reinterpret_cast<void*>(d), v, n);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemHostAlloc(void** p, size_t bytes, unsigned int) {
    *p = malloc(bytes);
    return *p ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}
CUresult CUDAAPI cuMemFreeHost(void* p) {
    free(p);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamCreate(CUstream* s, unsigned int) {
    *s = reinterpret_cast<CUstream>(new int(0));
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuStreamSynchronize(CUstream) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuStreamDestroy(CUstream s) {
    delete reinterpret_cast<int*>(s);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventCreate(CUevent* e, unsigned int) {
    *e = reinterpret_cast<CUevent>(new Clock::time_point());
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventRecord(CUevent e, CUstream) {
    *reinterpret_cast<Clock::time_point*>(e) = Clock::now();
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventSynchronize(CUevent) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventElapsedTime(float* ms, CUevent a, CUevent b) {
    auto d = *reinterpret_cast<Clock::time_point*>(b) - *reinterpret_cast<Clock::time_point*>(a);
    *ms = std::chrono::duration<float, std::milli>(d).count();
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventDestroy(CUevent e) {
    delete reinterpret_cast<Clock::time_point*>(e);
    return CUDA_SUCCESS;
}

// Tests make the next captures fail, as a driver or stream that cannot capture would
int captures_to_refuse = 0;
extern "C" void fake_refuse_captures(int n) { captures_to_refuse = n; }

CUresult CUDAAPI cuStreamBeginCapture(CUstream, CUstreamCaptureMode) {
    if (capturing) return CUDA_ERROR_ILLEGAL_STATE;
    if (captures_to_refuse > 0) {
        captures_to_refuse--;
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    capturing = new Graph();
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuStreamEndCapture(CUstream, CUgraph* g) {
    if (!capturing) return CUDA_ERROR_ILLEGAL_STATE;
    *g = reinterpret_cast<CUgraph>(capturing);
    capturing = nullptr;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuGraphInstantiateWithFlags(CUgraphExec* e, CUgraph g, unsigned long long) {
    *e = reinterpret_cast<CUgraphExec>(g);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuGraphLaunch(CUgraphExec e, CUstream) {
    for (Recorded& r : reinterpret_cast<Graph*>(e)->launches) {
        void* params[MAX_ARGS];
        for (int i = 0; i < MAX_ARGS; i++) params[i] = &r.values[i];
        r.kernel->launch(params, r.gx, r.gy, r.bx, r.shared);
    }
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuGraphExecDestroy(CUgraphExec) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuGraphDestroy(CUgraph g) {
    delete reinterpret_cast<Graph*>(g);
    return CUDA_SUCCESS;
}

#define ENTRY(NAME) {#NAME, reinterpret_cast<void*>(&NAME)}

CUresult CUDAAPI cuGetProcAddress(const char* symbol, void** pfn, int version, cuuint64_t flags,
                                  CUdriverProcAddressQueryResult* status) {
    static const std::map<std::string, void*> entries = {
        ENTRY(cuInit), ENTRY(cuGetErrorName), ENTRY(cuGetErrorString), ENTRY(cuDriverGetVersion),
        ENTRY(cuDeviceGetCount), ENTRY(cuDeviceGet), ENTRY(cuDeviceGetName), ENTRY(cuDeviceGetAttribute),
        ENTRY(cuDeviceTotalMem), ENTRY(cuMemGetInfo), ENTRY(cuDevicePrimaryCtxRetain),
        ENTRY(cuDevicePrimaryCtxRelease), ENTRY(cuCtxSetCurrent), ENTRY(cuCtxSynchronize),
        ENTRY(cuModuleLoadDataEx), ENTRY(cuModuleUnload), ENTRY(cuModuleGetFunction), ENTRY(cuFuncSetAttribute),
        ENTRY(cuLaunchKernel), ENTRY(cuMemAlloc), ENTRY(cuMemFree), ENTRY(cuMemcpyHtoD), ENTRY(cuMemcpyDtoH),
        ENTRY(cuMemcpyDtoD), ENTRY(cuMemcpyHtoDAsync), ENTRY(cuMemcpyDtoHAsync), ENTRY(cuMemsetD8),
        ENTRY(cuMemHostAlloc), ENTRY(cuMemFreeHost), ENTRY(cuStreamCreate), ENTRY(cuStreamSynchronize),
        ENTRY(cuStreamDestroy), ENTRY(cuEventCreate), ENTRY(cuEventRecord), ENTRY(cuEventSynchronize),
        ENTRY(cuEventElapsedTime), ENTRY(cuEventDestroy), ENTRY(cuStreamBeginCapture), ENTRY(cuStreamEndCapture),
        ENTRY(cuGraphInstantiateWithFlags), ENTRY(cuGraphLaunch), ENTRY(cuGraphExecDestroy), ENTRY(cuGraphDestroy)};
    // the bindings ask for CUDA 12.0 entry points in the default (legacy stream) mode
    auto it = entries.find(symbol);
    if (version != 12000 || flags != 0 || it == entries.end()) {
        *pfn = nullptr;
        *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
        return CUDA_ERROR_NOT_FOUND;
    }
    *pfn = it->second;
    *status = CU_GET_PROC_ADDRESS_SUCCESS;
    return CUDA_SUCCESS;
}
