package dev.vellama.server;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.chat.ChatMessage;
import dev.vellama.runtime.chat.ChatReply;
import dev.vellama.runtime.chat.ChatTemplate;
import dev.vellama.runtime.chat.ChatTemplateException;
import dev.vellama.runtime.chat.ReasoningFormat;
import dev.vellama.runtime.chat.ReasoningSplitter;
import dev.vellama.runtime.chat.Tool;
import dev.vellama.runtime.chat.ToolCallFormat;
import dev.vellama.runtime.chat.ToolChoice;
import dev.vellama.runtime.grammar.Grammar;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * A chat request made ready for the engine, whichever API it came through: the prompt the chat template renders
 * (with the tools' declarations and reply prefix when tools are offered), the sampling with the grammar that holds
 * the reply (the tools' calls, lazily where the reply may also be words; or the requested shape), and the format
 * the reply's tool calls are read in (null when none are).
 */
record PreparedChat(int[] prompt, GenerationParams params, ToolCallFormat format) {

    /**
     * @param toolsJson the request's {@code tools} as sent, the key of the tools' compiled grammar
     * @param shape     the grammar of a requested reply shape, or null
     * @param variables template variables from the request; the tools' are added
     */
    static PreparedChat of(ServerState state, Model model, List<ChatMessage> messages, List<Tool> tools, ToolChoice choice,
            JsonNode toolsJson, Grammar shape, GenerationParams params, Map<String, Object> variables) {
        ToolCallFormat format = format(state, choice);
        Grammar calls = format == null ? null : CompletionEndpoints.toolGrammar(state.grammars, format, tools, choice, toolsJson);
        List<String> triggers = format == null ? List.of() : format.triggers(choice);
        if (calls != null && !triggers.isEmpty() && shape == null) {
            params = params.withLazyGrammar(calls, triggers); // words, or a call held to the tools' schemas
        } else if (calls != null && triggers.isEmpty()) {
            params = params.withGrammar(calls); // a reply that must call tools is calls, whatever its format
        } else if (shape != null) {
            params = params.withGrammar(shape);
        }
        int[] prompt = model.tokenizeChat(render(state, format, messages, tools, choice, variables));
        return new PreparedChat(prompt, params, format);
    }

    /**
     * The text the chat template renders for the messages, with the tools' declarations and reply prefix when tools
     * are offered in a format the template reads ({@code format} non-null).
     */
    static String render(ServerState state, ToolCallFormat format, List<ChatMessage> messages, List<Tool> tools,
            ToolChoice choice, Map<String, Object> variables) {
        try {
            if (format == null) {
                return state.template().render(messages, true, variables);
            }
            variables.putAll(format.templateVariables(tools));
            return state.template().render(format.prepare(messages, tools, choice), true, variables) + format.replyPrefix(choice);
        } catch (ChatTemplateException e) {
            throw ApiException.badField("messages", "the model's chat template refused the messages: " + e.getMessage());
        }
    }

    /** The tool-call format of a request's template, or null when its tool choice is none. */
    static ToolCallFormat format(ServerState state, ToolChoice choice) {
        return choice.mode().equals("none") ? null : ToolCallFormat.of(state.template());
    }

    /**
     * How the reply's reasoning is read: the template's format when it is to be kept apart; otherwise none, but
     * for harmony, which is read from its tokens even when the reasoning stays in the answer (without its markers,
     * which no text shows, its channels would run together).
     */
    static ReasoningFormat reasoning(ChatTemplate template, boolean apart) {
        ReasoningFormat reasoning = ReasoningFormat.of(template);
        return apart || reasoning == ReasoningFormat.HARMONY ? reasoning : ReasoningFormat.NONE;
    }

    /** A splitter of a reply to {@code prompt} into reasoning and answer; it reads the prompt's last tokens. */
    static ReasoningSplitter splitter(ReasoningFormat reasoning, int[] prompt, Tokenizer tokenizer) {
        String tail = tokenizer.decode(java.util.Arrays.copyOfRange(prompt, Math.max(0, prompt.length - 16), prompt.length));
        return reasoning.splitter(tail, tokenizer::tokenText);
    }

    /**
     * A whole reply's text: the generation's as it is when its reasoning is not read, else the answer, with the
     * reasoning before it unless the reasoning is kept apart.
     */
    static String replyText(GenerationResult r, ReasoningFormat reasoning, boolean apart, ReasoningSplitter split) {
        return reasoning == ReasoningFormat.NONE ? r.text() : apart ? split.content() : split.reasoning() + split.content();
    }

    /** A whole reply's words and tool calls: harmony's calls as its tokens gave them, others' read from the text. */
    static ChatReply reply(ToolCallFormat tools, String text, ReasoningSplitter split) {
        return tools == ToolCallFormat.HARMONY ? new ChatReply(text, split.toolCalls())
                : tools != null ? tools.parse(text) : new ChatReply(text, List.of());
    }
}
