package dev.vellama.runtime.chat;

import java.util.Objects;

/**
 * A call the model asked for: the function's {@code name} and its {@code arguments} as JSON text (OpenAI's shape),
 * with an {@code id} the tool's answer refers back to.
 *
 * @param id        the call's id, which the tool's answer quotes as {@code tool_call_id}: the model's own when it
 *                  wrote one, otherwise generated when the reply is read ({@code call_} and 24 letters and digits;
 *                  nine letters and digits for Mistral)
 * @param name      the function to call, as the model wrote it (one of the offered {@link Tool}s' names when the
 *                  reply was held to a tool grammar)
 * @param arguments the arguments as JSON text, usually an object; kept as written, not checked against the schema
 */
public record ToolCall(String id, String name, String arguments) {
    /**
     * Checks that every component is given.
     *
     * @throws NullPointerException if {@code id}, {@code name} or {@code arguments} is null
     */
    public ToolCall {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arguments, "arguments");
    }
}
