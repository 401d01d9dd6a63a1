package dev.vellama.runtime.cuda;

import dev.vellama.VellamaException;

/**
 * CUDA cannot be used on this machine: no driver library, a driver too old for the entry points this runtime
 * needs, or no device. The message is one line meant to be shown to the user as it is.
 */
public final class CudaUnavailableException extends VellamaException {
    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
