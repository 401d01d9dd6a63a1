package dev.vellama.runtime;

import dev.vellama.VellamaException;

/** A model file whose architecture, tensor layout or tensor types this runtime cannot run (yet). */
public final class UnsupportedModelException extends VellamaException {
    /**
     * Creates the exception.
     *
     * @param message what the runtime cannot run: the architecture, tensor or type, named
     */
    public UnsupportedModelException(String message) {
        super(message);
    }

    /**
     * Creates the exception for a failure with an underlying cause.
     *
     * @param message what the runtime cannot run
     * @param cause   the error that revealed it, such as malformed metadata
     */
    public UnsupportedModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
