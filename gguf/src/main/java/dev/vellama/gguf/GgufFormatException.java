package dev.vellama.gguf;

import dev.vellama.VellamaException;

/**
 * A GGUF file that is malformed, truncated, hostile or of a version we do not read. Unchecked, as every
 * {@link VellamaException}; reading a file can still fail with an {@link java.io.IOException} of its own.
 */
public final class GgufFormatException extends VellamaException {
    /** Byte offset in the file where the problem was found, or negative when there is none. */
    private final long offset;

    /**
     * A problem found at one place in the file; the offset is appended to the message as {@code (at byte N)}.
     *
     * @param message what is wrong, in one line
     * @param offset  byte offset in the file where it was found, or a negative value when there is none
     */
    public GgufFormatException(String message, long offset) {
        super(offset >= 0 ? message + " (at byte " + offset + ")" : message);
        this.offset = offset;
    }

    /**
     * A problem not tied to one place in the file, such as a missing split part.
     *
     * @param message what is wrong, in one line
     */
    public GgufFormatException(String message) {
        this(message, -1);
    }

    /** {@return the byte offset in the file where the problem was found, or -1 when it is not tied to one place} */
    public long offset() {
        return offset;
    }
}
