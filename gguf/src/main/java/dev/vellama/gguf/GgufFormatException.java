package dev.vellama.gguf;

import dev.vellama.VellamaException;

/**
 * A GGUF file that is malformed, truncated, hostile or of a version we do not read. Unchecked, as every
 * {@link VellamaException}; reading a file can still fail with an {@link java.io.IOException} of its own.
 */
public final class GgufFormatException extends VellamaException {
    private final long offset;

    public GgufFormatException(String message, long offset) {
        super(offset >= 0 ? message + " (at byte " + offset + ")" : message);
        this.offset = offset;
    }

    public GgufFormatException(String message) {
        this(message, -1);
    }

    /** Byte offset in the file where the problem was found, or -1 when it is not tied to one place. */
    public long offset() {
        return offset;
    }
}
