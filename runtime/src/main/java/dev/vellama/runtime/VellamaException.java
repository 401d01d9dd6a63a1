package dev.vellama.runtime;

/** Base of the runtime's typed errors: each carries a message fit to show a user as it is. */
public class VellamaException extends RuntimeException {
    public VellamaException(String message) {
        super(message);
    }

    public VellamaException(String message, Throwable cause) {
        super(message, cause);
    }
}
