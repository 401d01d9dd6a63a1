package dev.vellama.runtime.chat;

import dev.vellama.VellamaException;

/**
 * A chat template that cannot be parsed or rendered, or that rejected the conversation itself through
 * {@code raise_exception(...)} (for example Gemma and Mistral when roles do not alternate).
 */
public final class ChatTemplateException extends VellamaException {
    /** Whether the template's own {@code raise_exception} call is the cause, rather than a broken template. */
    private final boolean raisedByTemplate;

    /**
     * An exception with its reason.
     *
     * @param message          what went wrong, for a person to read
     * @param raisedByTemplate true when the template called {@code raise_exception} itself
     * @param cause            the renderer's or parser's exception, or null
     */
    ChatTemplateException(String message, boolean raisedByTemplate, Throwable cause) {
        super(message, cause);
        this.raisedByTemplate = raisedByTemplate;
    }

    /**
     * {@return true when the template itself called {@code raise_exception}, i.e. the conversation is what it
     * rejects; false for a template that cannot be parsed or that failed while rendering}
     */
    public boolean isRaisedByTemplate() {
        return raisedByTemplate;
    }
}
