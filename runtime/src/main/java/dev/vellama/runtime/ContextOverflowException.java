package dev.vellama.runtime;

import dev.vellama.VellamaException;

/** A prompt that does not fit in the session's context window. */
public final class ContextOverflowException extends VellamaException {
    /**
     * Creates the exception.
     *
     * @param message what did not fit: the prompt's length and the context size
     */
    public ContextOverflowException(String message) {
        super(message);
    }
}
