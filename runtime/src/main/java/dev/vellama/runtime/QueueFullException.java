package dev.vellama.runtime;

import dev.vellama.VellamaException;

/** A {@link BatchEngine} has every slot busy and its wait queue full: the request may be tried again later. */
public final class QueueFullException extends VellamaException {
    /**
     * Creates the exception.
     *
     * @param message what was refused and how full the engine is
     */
    public QueueFullException(String message) {
        super(message);
    }
}
