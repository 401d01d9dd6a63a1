package dev.vellama.runtime.chat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One turn of a conversation. {@code role} is usually {@code system}, {@code user}, {@code assistant} or
 * {@code tool}; templates see the message as a dict with the keys {@code role} and {@code content}, and, where
 * present, {@code tool_calls} (OpenAI's shape, arguments as an object when they are JSON, as templates expect)
 * and {@code tool_call_id}.
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (role.isBlank()) {
            throw new IllegalArgumentException("a chat message needs a role");
        }
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public ChatMessage(String role, String content) {
        this(role, content, List.of(), null);
    }

    /** The assistant's turn that called tools (with what it said beside them, perhaps nothing). */
    public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
        return new ChatMessage("assistant", content, toolCalls, null);
    }

    /** A tool's answer to the call {@code toolCallId}. */
    public static ChatMessage toolResult(String toolCallId, String content) {
        return new ChatMessage("tool", content, List.of(), toolCallId);
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
        if (!toolCalls.isEmpty()) {
            List<Object> calls = new ArrayList<>();
            for (ToolCall c : toolCalls) {
                Map<String, Object> function = new LinkedHashMap<>();
                function.put("name", c.name());
                function.put("arguments", argumentsValue(c.arguments()));
                Map<String, Object> call = new LinkedHashMap<>();
                call.put("id", c.id());
                call.put("type", "function");
                call.put("function", function);
                calls.add(call);
            }
            value.put("tool_calls", calls);
        }
        if (toolCallId != null) {
            value.put("tool_call_id", toolCallId);
        }
        return value;
    }

    /** Arguments as the object they spell (templates write them with tojson), or the text when it is not JSON. */
    private static Object argumentsValue(String arguments) {
        try {
            return JSON.readValue(arguments, Object.class);
        } catch (JacksonException e) {
            return arguments;
        }
    }
}
