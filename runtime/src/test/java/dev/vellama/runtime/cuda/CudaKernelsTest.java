package dev.vellama.runtime.cuda;

/** The kernel checks on the first CUDA device; skipped where there is none. */
class CudaKernelsTest extends KernelChecks {
    @Override
    CudaContext openContext() throws CudaUnavailableException {
        return CudaContext.open(0);
    }
}
