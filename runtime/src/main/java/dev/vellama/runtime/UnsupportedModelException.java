package dev.vellama.runtime;

import dev.vellama.VellamaException;

/** A model file whose architecture, tensor layout or tensor types this runtime cannot run (yet). */
public final class UnsupportedModelException extends VellamaException {
    public UnsupportedModelException(String message) {
        super(message);
    }

    public UnsupportedModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
