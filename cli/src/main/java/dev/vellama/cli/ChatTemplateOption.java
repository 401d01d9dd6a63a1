package dev.vellama.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.vellama.runtime.Model;
import dev.vellama.runtime.chat.ChatTemplate;

/** {@code --chat-template NAME|FILE}: a Jinja file, or a known format by name, in place of the model's template. */
final class ChatTemplateOption {
    private ChatTemplateOption() {}

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
