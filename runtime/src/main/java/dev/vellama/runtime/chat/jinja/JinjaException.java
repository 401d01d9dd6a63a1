package dev.vellama.runtime.chat.jinja;

import dev.vellama.VellamaException;

/**
 * A template that cannot be parsed or rendered: a syntax error, an undefined value used where a value is
 * required, a type error, or a {@code raise_exception(...)} call made by the template itself.
 */
public class JinjaException extends VellamaException {
    private final int line;

    public JinjaException(String message) {
        this(message, -1, null);
    }

    public JinjaException(String message, int line) {
        this(message, line, null);
    }

    JinjaException(String message, int line, Throwable cause) {
        super(line > 0 ? message + " (template line " + line + ")" : message, cause);
        this.line = line;
    }

    /** The template line the error was found on, or -1 when unknown. */
    public int line() {
        return line;
    }

    /** A copy that names the template line, for errors raised deep inside expression evaluation. */
    JinjaException atLine(int templateLine) {
        if (line > 0 || templateLine <= 0) {
            return this;
        }
        return new JinjaException(getMessage(), templateLine, this);
    }
}
