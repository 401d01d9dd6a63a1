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
 *
 * @param role       who speaks: {@code system}, {@code user}, {@code assistant}, {@code tool}, or another role the
 *                   template knows; never blank
 * @param content    the turn's text; empty (not null) for an assistant turn that only calls tools
 * @param toolCalls  the tools the assistant called in this turn, in order; empty when none (null is taken as empty,
 *                   and the list is kept as an unmodifiable copy)
 * @param toolCallId for a {@code tool} turn, the {@link ToolCall#id} of the call it answers; null otherwise
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Checks the role and content and copies the tool calls.
     *
     * @throws NullPointerException     if {@code role} or {@code content} is null, or a tool call is
     * @throws IllegalArgumentException if {@code role} is blank
     */
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (role.isBlank()) {
            throw new IllegalArgumentException("a chat message needs a role");
        }
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    /**
     * A turn with no tool calls and no tool call id.
     *
     * @param role    who speaks, usually {@code system}, {@code user}, {@code assistant} or {@code tool}; not blank
     * @param content the turn's text
     */
    public ChatMessage(String role, String content) {
        this(role, content, List.of(), null);
    }

    /**
     * The assistant's turn that called tools (with what it said beside them, perhaps nothing).
     *
     * @param content   what the assistant said beside the calls; empty when it said nothing
     * @param toolCalls the calls it made, in the order it made them
     * @return an {@code assistant} message carrying the calls
     */
    public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
        return new ChatMessage("assistant", content, toolCalls, null);
    }

    /**
     * A tool's answer to the call {@code toolCallId}.
     *
     * @param toolCallId the {@link ToolCall#id} of the call being answered
     * @param content    what the tool returned, as text (often JSON)
     * @return a {@code tool} message that names the call it answers
     */
    public static ChatMessage toolResult(String toolCallId, String content) {
        return new ChatMessage("tool", content, List.of(), toolCallId);
    }

    /**
     * The system prompt: instructions that frame the conversation, usually its first turn.
     *
     * @param content the instructions
     * @return a {@code system} message
     */
    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    /**
     * A turn written by the user.
     *
     * @param content what the user wrote
     * @return a {@code user} message
     */
    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    /**
     * An assistant's turn of plain text, such as an earlier reply replayed in the history.
     *
     * @param content what the assistant said
     * @return an {@code assistant} message with no tool calls
     */
    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /**
     * The result of a tool call, sent back to the model.
     *
     * @param content what the tool returned, as text (often JSON)
     * @return a {@code tool} message with no call id; {@link #toolResult} names the call it answers
     */
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
