package dev.vellama.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.vellama.runtime.Model;
import dev.vellama.runtime.chat.ChatTemplate;

/**
 * {@code --chat-template NAME|FILE}: a Jinja file, or a known format by name, in place of the model's template; and
 * {@code --chat-template-kwargs JSON}: variables every render gets (llama.cpp's option of that name).
 */
final class ChatTemplateOption {
    private ChatTemplateOption() {}

    /** The template with {@code variables} bound (see {@link #variables}). */
    static ChatTemplate resolve(String value, java.util.Map<String, Object> variables, Model model) throws IOException {
        ChatTemplate t = resolve(value, model);
        return variables.isEmpty() ? t : t.withVariables(variables);
    }

    /**
     * The variables of {@code --chat-template-kwargs} (a JSON object), read before a model is loaded so that a bad
     * value is the only line a command prints; empty when the option is not given.
     */
    static java.util.Map<String, Object> variables(String kwargs) {
        if (kwargs == null) {
            return java.util.Map.of();
        }
        com.fasterxml.jackson.databind.JsonNode json;
        try {
            json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(kwargs);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            json = null;
        }
        if (json == null || !json.isObject()) {
            throw new IllegalArgumentException("--chat-template-kwargs takes a JSON object, such as '{\"enable_thinking\": false}'");
        }
        return new com.fasterxml.jackson.databind.ObjectMapper().convertValue(json,
                new com.fasterxml.jackson.core.type.TypeReference<java.util.LinkedHashMap<String, Object>>() { });
    }

    /** The template to render chats with: the model's own when {@code value} is null. */
    static ChatTemplate resolve(String value, Model model) throws IOException {
        if (value == null) {
            return model.chatTemplate();
        }
        Path file = Path.of(value);
        if (Files.isRegularFile(file)) {
            return model.chatTemplate().withSource(Files.readString(file));
        }
        String named = dev.vellama.runtime.chat.BuiltInTemplates.source(value);
        if (named != null) {
            return model.chatTemplate().withSource(named);
        }
        throw new IllegalArgumentException("--chat-template takes a Jinja template file or one of "
                + String.join(", ", dev.vellama.runtime.chat.BuiltInTemplates.names()) + "; '" + value + "' is neither");
    }
}
