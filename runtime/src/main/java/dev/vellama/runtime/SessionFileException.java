package dev.vellama.runtime;

import dev.vellama.VellamaException;

/** A saved session that cannot be read back into this session: cut short, damaged, or from another model. */
public final class SessionFileException extends VellamaException {
    public SessionFileException(String message) {
        super(message);
    }

    public SessionFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
