package dev.vellama.runtime.chat;

import dev.vellama.VellamaException;

/**
 * A chat template that cannot be parsed or rendered, or that rejected the conversation itself through
 * {@code raise_exception(...)} (for example Gemma and Mistral when roles do not alternate).
 */
public final class ChatTemplateException extends VellamaException {
    private final boolean raisedByTemplate;

    ChatTemplateException(String message, boolean raisedByTemplate, Throwable cause) {
        super(message, cause);
        this.raisedByTemplate = raisedByTemplate;
    }

    /** True when the template itself called {@code raise_exception}, i.e. the conversation is what it rejects. */
    public boolean isRaisedByTemplate() {
        return raisedByTemplate;
    }
}
