package dev.vellama.gguf;

import dev.vellama.VellamaException;

/** A metadata key that is missing or holds a value of another type than the caller asked for. */
public final class GgufMetadataException extends VellamaException {
    public GgufMetadataException(String message) {
        super(message);
    }
}
