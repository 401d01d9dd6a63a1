package dev.vellama.runtime.chat.jinja;

/** The template called {@code raise_exception(message)}, usually to reject a conversation it cannot format. */
public final class TemplateRaisedException extends JinjaException {
    private final String templateMessage;

    public TemplateRaisedException(String templateMessage) {
        this(templateMessage, -1);
    }

    private TemplateRaisedException(String templateMessage, int line) {
        super("template raised an exception: " + templateMessage, line);
        this.templateMessage = templateMessage;
    }

    /** The message exactly as the template wrote it. */
    public String templateMessage() {
        return templateMessage;
    }

    @Override
    JinjaException atLine(int templateLine) {
        if (line() > 0 || templateLine <= 0) {
            return this;
        }
        return new TemplateRaisedException(templateMessage, templateLine);
    }
}
