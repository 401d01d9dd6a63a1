package dev.vellama.runtime.cuda;

import dev.vellama.VellamaException;

/**
 * A CUDA driver call that returned an error. The message starts with the CUresult name so that logs and bug
 * reports can be searched, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY: out of memory (cuMemAlloc)}.
 */
public final class CudaException extends VellamaException {
    private final int code;
    private final String errorName;

    public CudaException(int code, String errorName, String description, String call) {
        super(errorName + ": " + description + " (" + call + ")");
        this.code = code;
        this.errorName = errorName;
    }

    /** The numeric CUresult. */
    public int code() {
        return code;
    }

    /** The CUresult name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}
