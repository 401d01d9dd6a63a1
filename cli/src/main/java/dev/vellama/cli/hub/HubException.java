package dev.vellama.cli.hub;

import dev.vellama.VellamaException;

/** A model could not be resolved, fetched or checked; the message is one line for the user. */
public final class HubException extends VellamaException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
