package dev.vellama.gguf;

import dev.vellama.VellamaException;

/** A metadata key that is missing or holds a value of another type than the caller asked for. */
public final class GgufMetadataException extends VellamaException {
    /**
     * A metadata lookup that failed.
     *
     * @param message one line naming the key and what was wrong with it
     */
    public GgufMetadataException(String message) {
        super(message);
    }
}
