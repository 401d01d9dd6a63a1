package dev.vellama.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.TokenUsage;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.SessionOptions;

/**
 * LangChain4j's {@link ChatModel} on a Vellama {@link Model} in this process: messages rendered with the model's
 * chat template, sampled as llama.cpp does, with the request's temperature, top-p, top-k, penalties, token limit
 * and stop sequences over the defaults given here. Tools are offered as {@code vellama serve} offers them (the
 * template family's call format, calls held to the tools' schemas by a grammar, {@code REQUIRED} forcing one) and
 * the reply's calls come back as tool execution requests. Safe to call from several threads: each call takes a session
 * of its own from a small pool ({@link Builder#sessions}). Closing it closes its sessions, not the model.
 */
public final class VellamaChatModel implements ChatModel, AutoCloseable {
    private final Model model;
    private final SessionPool pool;
    private final GenerationParams defaults;

    private VellamaChatModel(Builder b) {
        this.model = java.util.Objects.requireNonNull(b.model, "model");
        this.pool = new SessionPool(model, b.options, b.sessions);
        this.defaults = b.defaults;
    }

    /**
     * {@return a builder for a chat model on {@code model}}
     *
     * @param model the loaded model, which stays its caller's to close
     */
    public static Builder builder(Model model) {
        return new Builder(model);
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        PreparedChat chat = PreparedChat.of(model, request, defaults);
        GenerationResult r = pool.with(s -> s.generate(chat.prompt(), chat.params(), null));
        AiMessage reply = chat.reply(model, r);
        return ChatResponse.builder()
                .aiMessage(reply)
                .modelName(model.name())
                .tokenUsage(new TokenUsage(r.promptTokens().length, r.tokens().size()))
                .finishReason(reply.hasToolExecutionRequests() ? dev.langchain4j.model.output.FinishReason.TOOL_EXECUTION
                        : Messages.finishReason(r.stopReason()))
                .build();
    }

    @Override
    public void close() {
        pool.close();
    }

    /** How the chat model samples and how many conversations it holds at once. */
    public static final class Builder {
        private final Model model;
        private SessionOptions options = SessionOptions.defaults();
        private GenerationParams defaults = GenerationParams.defaults();
        private int sessions = 1;

        private Builder(Model model) {
            this.model = model;
        }

        /**
         * {@return this builder}
         *
         * @param options the sessions' context, batch and threads (default: {@link SessionOptions#defaults()})
         */
        public Builder sessionOptions(SessionOptions options) {
            this.options = options;
            return this;
        }

        /**
         * {@return this builder}
         *
         * @param defaults sampling and limits where a request says nothing (default: llama.cpp's,
         *                 {@link GenerationParams#defaults()})
         */
        public Builder defaults(GenerationParams defaults) {
            this.defaults = defaults;
            return this;
        }

        /**
         * {@return this builder}
         *
         * @param sessions how many calls run at once, each in its own session (default 1; the others wait)
         */
        public Builder sessions(int sessions) {
            this.sessions = sessions;
            return this;
        }

        /** {@return the chat model} */
        public VellamaChatModel build() {
            return new VellamaChatModel(this);
        }
    }
}
