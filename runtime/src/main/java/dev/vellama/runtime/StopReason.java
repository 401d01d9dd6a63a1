package dev.vellama.runtime;

/** Why generation ended. */
public enum StopReason {
    /** The token limit was reached. */
    LENGTH,
    /** The model produced an end-of-generation token. */
    EOS,
    /** A stop string appeared. */
    STOP,
    /** The context window is full. */
    CONTEXT,
    /** The caller cancelled. */
    CANCELLED,
    /** A grammar was given and no token of the vocabulary can continue it here. */
    GRAMMAR;

    /** {@return the lower-case name used in JSON output, e.g. {@code eos}} */
    public String jsonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
