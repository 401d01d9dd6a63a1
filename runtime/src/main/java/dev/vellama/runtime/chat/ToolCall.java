package dev.vellama.runtime.chat;

import java.util.Objects;

/**
 * A call the model asked for: the function's {@code name} and its {@code arguments} as JSON text (OpenAI's shape),
 * with an {@code id} the tool's answer refers back to.
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arguments, "arguments");
    }
}
