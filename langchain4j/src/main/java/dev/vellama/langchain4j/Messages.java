package dev.vellama.langchain4j;

import java.util.ArrayList;
import java.util.List;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.output.FinishReason;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.StopReason;

/** LangChain4j's messages and parameters to Vellama's, and Vellama's stop reasons back. */
final class Messages {
    private Messages() {
    }

    /** The conversation in Vellama's form; text only (images and other contents are refused). */
    static List<dev.vellama.runtime.chat.ChatMessage> toVellama(List<ChatMessage> messages) {
        List<dev.vellama.runtime.chat.ChatMessage> out = new ArrayList<>();
        for (ChatMessage m : messages) {
            out.add(switch (m) {
                case SystemMessage s -> dev.vellama.runtime.chat.ChatMessage.system(s.text());
                case UserMessage u -> dev.vellama.runtime.chat.ChatMessage.user(text(u));
                case AiMessage a -> a.hasToolExecutionRequests()
                        ? dev.vellama.runtime.chat.ChatMessage.assistant(a.text() == null ? "" : a.text(), a.toolExecutionRequests().stream()
                                .map(t -> new dev.vellama.runtime.chat.ToolCall(t.id(), t.name(), t.arguments())).toList())
                        : dev.vellama.runtime.chat.ChatMessage.assistant(a.text() == null ? "" : a.text());
                case ToolExecutionResultMessage t -> dev.vellama.runtime.chat.ChatMessage.toolResult(t.id(), t.text());
                default -> throw new IllegalArgumentException("messages of type " + m.type() + " are not supported");
            });
        }
        return out;
    }

    private static String text(UserMessage u) {
        StringBuilder b = new StringBuilder();
        for (Content c : u.contents()) {
            if (!(c instanceof TextContent t)) {
                throw new IllegalArgumentException("a user message with " + c.type() + " content: this model reads text only");
            }
            b.append(t.text());
        }
        return b.toString();
    }

    /** The request's sampling parameters over {@code defaults} (tools are {@link PreparedChat}'s). */
    static GenerationParams params(ChatRequest request, GenerationParams defaults) {
        ChatRequestParameters p = request.parameters();
        GenerationParams g = defaults;
        if (p.temperature() != null) {
            g = g.withTemperature(p.temperature().floatValue());
        }
        if (p.topP() != null) {
            g = g.withTopP(p.topP().floatValue());
        }
        if (p.topK() != null) {
            g = g.withTopK(p.topK());
        }
        if (p.frequencyPenalty() != null) {
            g = g.withFrequencyPenalty(p.frequencyPenalty().floatValue());
        }
        if (p.presencePenalty() != null) {
            g = g.withPresencePenalty(p.presencePenalty().floatValue());
        }
        if (p.maxOutputTokens() != null) {
            g = g.withMaxTokens(p.maxOutputTokens());
        }
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) {
            g = g.withStop(p.stopSequences());
        }
        return g;
    }

    static FinishReason finishReason(StopReason r) {
        return switch (r) {
            case LENGTH, CONTEXT -> FinishReason.LENGTH;
            case EOS, STOP, GRAMMAR -> FinishReason.STOP;
            case CANCELLED -> FinishReason.OTHER;
        };
    }
}
