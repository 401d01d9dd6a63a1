package dev.vellama.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.TokenUsage;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.SessionOptions;

/**
 * LangChain4j's {@link StreamingChatModel} on a Vellama {@link Model} in this process: as {@link VellamaChatModel},
 * each token's text handed to the handler as soon as it is sampled (before the pass that feeds it back), on a
 * thread of its own, then the whole response; an error goes to {@code onError}. A request with tools is read
 * whole for calls first: its words then come in one partial response before the complete one.
 */
public final class VellamaStreamingChatModel implements StreamingChatModel, AutoCloseable {
    private final Model model;
    private final SessionPool pool;
    private final GenerationParams defaults;

    private VellamaStreamingChatModel(Model model, SessionOptions options, GenerationParams defaults, int sessions) {
        this.model = java.util.Objects.requireNonNull(model, "model");
        this.pool = new SessionPool(model, options, sessions);
        this.defaults = defaults;
    }

    /**
     * {@return a streaming chat model with {@link SessionOptions#defaults()}, llama.cpp's sampling defaults and one
     * session}
     *
     * @param model the loaded model, which stays its caller's to close
     */
    public static VellamaStreamingChatModel of(Model model) {
        return of(model, SessionOptions.defaults(), GenerationParams.defaults(), 1);
    }

    /**
     * {@return a streaming chat model on {@code model}}
     *
     * @param model    the loaded model, which stays its caller's to close
     * @param options  the sessions' context, batch and threads
     * @param defaults sampling and limits where a request says nothing
     * @param sessions how many requests run at once (the others wait)
     */
    public static VellamaStreamingChatModel of(Model model, SessionOptions options, GenerationParams defaults, int sessions) {
        return new VellamaStreamingChatModel(model, options, defaults, sessions);
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        PreparedChat chat;
        try {
            chat = PreparedChat.of(model, request, defaults);
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        Thread.ofPlatform().name("vellama-stream").daemon().start(() -> {
            GenerationResult r;
            try {
                // with tools the reply may be a call, which is read once the text is whole: then the words come
                // in one piece at the end instead of token by token, and a call's text never reaches the handler
                r = pool.with(s -> s.generate(chat.prompt(), chat.params(),
                        chat.format() == null ? token -> handler.onPartialResponse(token.text()) : null));
            } catch (RuntimeException e) {
                handler.onError(e);
                return;
            }
            AiMessage reply = chat.reply(model, r);
            if (chat.format() != null && reply.text() != null && !reply.text().isEmpty()) {
                handler.onPartialResponse(reply.text());
            }
            handler.onCompleteResponse(ChatResponse.builder()
                    .aiMessage(reply)
                    .modelName(model.name())
                    .tokenUsage(new TokenUsage(r.promptTokens().length, r.tokens().size()))
                    .finishReason(reply.hasToolExecutionRequests() ? dev.langchain4j.model.output.FinishReason.TOOL_EXECUTION
                            : Messages.finishReason(r.stopReason()))
                    .build());
        });
    }

    @Override
    public void close() {
        pool.close();
    }
}
