package dev.vellama;

/**
 * The root of every error Vellama throws on purpose: a malformed file, an unsupported model or tensor type, a bad
 * template, a full queue, an unreachable GPU. Unchecked, as Jackson's and Helidon's are; each message is one line
 * fit to show a user as it is. It lives in the lowest module (gguf) so that every module's errors share it.
 * Plain I/O failures stay {@link java.io.IOException}s; misuse of an API (a negative size, a closed object) stays
 * {@link IllegalArgumentException} or {@link IllegalStateException}.
 */
public class VellamaException extends RuntimeException {
    /**
     * An error with no underlying cause.
     *
     * @param message one line for the user, saying what went wrong and where
     */
    public VellamaException(String message) {
        super(message);
    }

    /**
     * An error that wraps the failure behind it, kept for stack traces.
     *
     * @param message one line for the user, saying what went wrong and where
     * @param cause   the exception that led to it; may be null
     */
    public VellamaException(String message, Throwable cause) {
        super(message, cause);
    }
}
