package dev.vellama.runtime.chat;

import java.util.List;

/**
 * An assistant's reply read back from its text: what it said, and the tool calls it made (none if it made none).
 *
 * @param content   the words outside the calls ({@link ToolCallFormat#GENERIC}'s {@code response} text); the whole
 *                  text when it holds no well-formed call, empty when the reply is only calls
 * @param toolCalls the calls in the order the reply wrote them; empty when none
 */
public record ChatReply(String content, List<ToolCall> toolCalls) {
    /**
     * Keeps the calls as an unmodifiable copy.
     *
     * @throws NullPointerException if {@code toolCalls} or one of its calls is null
     */
    public ChatReply {
        toolCalls = List.copyOf(toolCalls);
    }
}
