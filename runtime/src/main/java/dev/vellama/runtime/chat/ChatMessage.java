package dev.vellama.runtime.chat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One turn of a conversation. {@code role} is usually {@code system}, {@code user}, {@code assistant} or
 * {@code tool}; templates see the message as a dict with the keys {@code role} and {@code content}.
 */
public record ChatMessage(String role, String content) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (role.isBlank()) {
            throw new IllegalArgumentException("a chat message needs a role");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /** The result of a tool call, sent back to the model. */
    public static ChatMessage tool(String content) {
        return new ChatMessage("tool", content);
    }

    /** The message as the dict a chat template iterates over. */
    Map<String, Object> asTemplateValue() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("role", role);
        value.put("content", content);
        return value;
    }
}
