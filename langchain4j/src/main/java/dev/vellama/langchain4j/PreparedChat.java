package dev.vellama.langchain4j;

import java.util.ArrayList;
import java.util.List;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.internal.JsonSchemaElementJsonUtils;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.chat.ChatMessage;
import dev.vellama.runtime.chat.ChatReply;
import dev.vellama.runtime.chat.ReasoningFormat;
import dev.vellama.runtime.chat.ReasoningSplitter;
import dev.vellama.runtime.chat.Tool;
import dev.vellama.runtime.chat.ToolCall;
import dev.vellama.runtime.chat.ToolCallFormat;
import dev.vellama.runtime.chat.ToolChoice;

/**
 * One LangChain4j request as Vellama runs it: the prompt's tokens (the chat template with the request's tools, as
 * {@code vellama serve} renders them), the sampling parameters (with the grammar that holds tool calls to the
 * tools' schemas), and how the reply's text is read back into words and tool calls.
 *
 * @param prompt the prompt's token ids
 * @param params how to sample
 * @param format the template family's tool-call format; null when the request offers no tools
 */
record PreparedChat(int[] prompt, GenerationParams params, ToolCallFormat format) {

    static PreparedChat of(Model model, ChatRequest request, GenerationParams defaults) {
        GenerationParams params = Messages.params(request, defaults);
        List<ChatMessage> messages = Messages.toVellama(request.messages());
        List<Tool> tools = tools(request.parameters().toolSpecifications());
        ToolChoice choice = choice(request.parameters().toolChoice());
        if (tools.isEmpty() || choice.equals(ToolChoice.NONE)) {
            return new PreparedChat(model.chatPrompt(messages), params, null);
        }
        ToolCallFormat format = ToolCallFormat.of(model.chatTemplate());
        List<String> triggers = format.triggers(choice);
        if (format.constrains(choice)) {
            // as the server does: a reply that must call is calls; otherwise calls are held to the schemas once
            // the model starts one
            params = triggers.isEmpty() ? params.withGrammar(format.grammar(tools, choice))
                    : params.withLazyGrammar(format.grammar(tools, choice), triggers);
        }
        int[] prompt = model.chatPrompt(format.prepare(messages, tools, choice), model.chatTemplate(),
                format.templateVariables(tools), format.replyPrefix(choice));
        return new PreparedChat(prompt, params, format);
    }

    /**
     * The reply's words and tool calls as LangChain4j's message: its reasoning left out (a {@code <think>} block,
     * gpt-oss's analysis channel), as the server hands it apart; gpt-oss's calls read from its tokens.
     */
    AiMessage reply(Model model, GenerationResult result) {
        ReasoningFormat reasoning = ReasoningFormat.of(model.chatTemplate());
        ReasoningSplitter split = result.splitInto(reasoning.splitter("", model.tokenizer()::tokenText));
        String text = reasoning == ReasoningFormat.NONE ? result.text() : split.content();
        if (format == null) {
            return AiMessage.from(text);
        }
        ChatReply r = format == ToolCallFormat.HARMONY ? new ChatReply(text, split.toolCalls()) : format.parse(text);
        if (r.toolCalls().isEmpty()) {
            return AiMessage.from(r.content());
        }
        List<ToolExecutionRequest> calls = new ArrayList<>();
        for (ToolCall c : r.toolCalls()) {
            calls.add(ToolExecutionRequest.builder().id(c.id()).name(c.name()).arguments(c.arguments()).build());
        }
        return r.content() == null || r.content().isBlank() ? AiMessage.from(calls) : AiMessage.from(r.content(), calls);
    }

    private static List<Tool> tools(List<ToolSpecification> specs) {
        List<Tool> tools = new ArrayList<>();
        if (specs != null) {
            for (ToolSpecification s : specs) {
                tools.add(new Tool(s.name(), s.description(), s.parameters() == null ? null : JsonSchemaElementJsonUtils.toMap(s.parameters())));
            }
        }
        return tools;
    }

    private static ToolChoice choice(dev.langchain4j.model.chat.request.ToolChoice c) {
        if (c == null) {
            return ToolChoice.AUTO;
        }
        return switch (c) {
            case AUTO -> ToolChoice.AUTO;
            case REQUIRED -> ToolChoice.REQUIRED;
            case NONE -> ToolChoice.NONE;
        };
    }
}
