package dev.vellama.runtime.tokenizer;

import dev.vellama.VellamaException;

/** A vocabulary that cannot be used: an unknown tokenizer model or pre-tokenizer, or inconsistent metadata. */
public class TokenizerException extends VellamaException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
