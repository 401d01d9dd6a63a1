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
 * thread of its own, then the whole response; an error goes to {@code onError}.
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
        GenerationParams params;
        java.util.List<dev.vellama.runtime.chat.ChatMessage> messages;
        try {
            params = Messages.params(request, defaults);
            messages = Messages.toVellama(request.messages());
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        Thread.ofPlatform().name("vellama-stream").daemon().start(() -> {
            GenerationResult r;
            try {
                r = pool.with(s -> s.chat(messages, params, token -> handler.onPartialResponse(token.text())));
            } catch (RuntimeException e) {
                handler.onError(e);
                return;
            }
            handler.onCompleteResponse(ChatResponse.builder()
                    .aiMessage(AiMessage.from(r.text()))
                    .modelName(model.name())
                    .tokenUsage(new TokenUsage(r.promptTokens().length, r.tokens().size()))
                    .finishReason(Messages.finishReason(r.stopReason()))
                    .build());
        });
    }

    @Override
    public void close() {
        pool.close();
    }
}
