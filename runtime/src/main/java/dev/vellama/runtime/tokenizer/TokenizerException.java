package dev.vellama.runtime.tokenizer;

import dev.vellama.VellamaException;

/** A vocabulary that cannot be used: an unknown tokenizer model or pre-tokenizer, or inconsistent metadata. */
public class TokenizerException extends VellamaException {
    /**
     * An exception with its reason.
     *
     * @param message what is wrong with the vocabulary or the request, for a person to read
     */
    public TokenizerException(String message) {
        super(message);
    }

    /**
     * An exception with its reason and the failure underneath it.
     *
     * @param message what is wrong with the vocabulary or the request, for a person to read
     * @param cause   the exception that revealed it
     */
    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
