package dev.vellama.runtime.chat;

import java.util.function.IntFunction;

/**
 * How a model's replies mark their reasoning apart from the answer, judged from its chat template as llama.cpp's
 * server does, so that the reasoning can be handed out on its own ({@code reasoning_content}) instead of inside the
 * answer.
 */
public enum ReasoningFormat {
    /** The template knows no reasoning: the whole reply is the answer. */
    NONE,
    /** Qwen 3, DeepSeek-R1, SmolLM3: the reasoning sits between {@code <think>} and {@code </think>} before the answer. */
    THINK_TAGS,
    /**
     * gpt-oss's harmony format: messages on channels, {@code <|channel|>analysis<|message|>…<|end|>} the reasoning,
     * {@code <|start|>assistant<|channel|>final<|message|>…} the answer; the markers are control tokens.
     */
    HARMONY,
    /**
     * Gemma 4: the reasoning is a thought channel, {@code <|channel>thought\n…<channel|>}, before the answer (and,
     * now and then, after it); its markers are tokens whose text the decoded reply shows.
     */
    GEMMA4;

    /**
     * The format a template's model writes.
     *
     * @param template the model's chat template
     * @return {@link #HARMONY} for a template that writes {@code <|channel|>}, {@link #GEMMA4} for one that writes
     *         {@code <|channel>}, {@link #THINK_TAGS} for one that writes {@code <think>}, else {@link #NONE}
     */
    public static ReasoningFormat of(ChatTemplate template) {
        String source = template.source().orElse("");
        if (source.contains("<|channel|>")) {
            return HARMONY;
        }
        if (source.contains("<|channel>")) {
            return GEMMA4;
        }
        if (source.contains("<think>")) {
            return THINK_TAGS;
        }
        return NONE;
    }

    /**
     * A splitter for one reply.
     *
     * @param prompt      the rendered prompt the reply continues: a prompt that ends inside an open {@code <think>}
     *                    makes the reply start in its reasoning
     * @param controlText the text of a control token by id (the tokenizer's {@code tokenText}), which harmony's
     *                    markers are; decoded text leaves them out
     * @return a new splitter
     */
    public ReasoningSplitter splitter(String prompt, IntFunction<String> controlText) {
        return new ReasoningSplitter(this, this == THINK_TAGS && ReasoningSplitter.endsInsideThink(prompt), controlText);
    }
}
