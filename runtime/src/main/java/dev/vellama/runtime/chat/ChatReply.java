package dev.vellama.runtime.chat;

import java.util.List;

/** An assistant's reply read back from its text: what it said, and the tool calls it made (none if it made none). */
public record ChatReply(String content, List<ToolCall> toolCalls) {
    public ChatReply {
        toolCalls = List.copyOf(toolCalls);
    }
}
