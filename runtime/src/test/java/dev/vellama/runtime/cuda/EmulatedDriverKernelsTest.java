package dev.vellama.runtime.cuda;

/**
 * The kernel checks through the real bindings, context and launch code, against the stand-in driver library
 * that runs the kernels in host emulation; skipped where nvcc is missing.
 */
class EmulatedDriverKernelsTest extends KernelChecks {
    @Override
    CudaContext openContext() throws CudaUnavailableException {
        return CudaContext.open(FakeDriver.load(), 0);
    }

    /** Emulation runs each CUDA thread as a fiber: big matrices take minutes there. */
    @Override
    int tallRows() {
        return 67;
    }
}
