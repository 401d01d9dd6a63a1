package dev.vellama.langchain4j;

import java.util.List;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.model.TokenCountEstimator;
import dev.vellama.runtime.Model;

/**
 * LangChain4j's {@link TokenCountEstimator} with the model's own tokenizer: exact for texts (no BOS), and for
 * messages the count of the chat template's rendering, which includes the template's markers.
 */
public final class VellamaTokenCountEstimator implements TokenCountEstimator {
    private final Model model;

    /**
     * A token counter with {@code model}'s tokenizer and chat template.
     *
     * @param model the loaded model
     */
    public VellamaTokenCountEstimator(Model model) {
        this.model = java.util.Objects.requireNonNull(model, "model");
    }

    @Override
    public int estimateTokenCountInText(String text) {
        return model.tokenizer().encode(text, false, false).length;
    }

    @Override
    public int estimateTokenCountInMessage(ChatMessage message) {
        return estimateTokenCountInMessages(List.of(message));
    }

    @Override
    public int estimateTokenCountInMessages(Iterable<ChatMessage> messages) {
        List<ChatMessage> list = new java.util.ArrayList<>();
        messages.forEach(list::add);
        return model.chatPrompt(Messages.toVellama(list)).length;
    }
}
