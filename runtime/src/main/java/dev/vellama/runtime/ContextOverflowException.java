package dev.vellama.runtime;

import dev.vellama.VellamaException;

/** A prompt that does not fit in the session's context window. */
public final class ContextOverflowException extends VellamaException {
    public ContextOverflowException(String message) {
        super(message);
    }
}
