package dev.vellama.runtime;

import dev.vellama.VellamaException;

/** A saved session that cannot be read back into this session: cut short, damaged, or from another model. */
public final class SessionFileException extends VellamaException {
    /**
     * Creates the exception.
     *
     * @param message what is wrong with the saved session
     */
    public SessionFileException(String message) {
        super(message);
    }

    /**
     * Creates the exception for a failure with an underlying cause.
     *
     * @param message what is wrong with the saved session
     * @param cause   the error that revealed it, such as an I/O failure
     */
    public SessionFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
