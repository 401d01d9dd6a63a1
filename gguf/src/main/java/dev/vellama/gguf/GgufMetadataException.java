package dev.vellama.gguf;

/** A metadata key that is missing or holds a value of another type than the caller asked for. */
public final class GgufMetadataException extends RuntimeException {
    public GgufMetadataException(String message) {
        super(message);
    }
}
