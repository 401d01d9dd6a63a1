package dev.vellama.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The named formats of --chat-template render what llama.cpp's built-in formatter writes for the same messages
 * (expected strings transcribed from its llm_chat_apply_template, b4748): spaces kept or trimmed as there, the
 * system message folded in where a format has none.
 */
class BuiltInTemplatesTest {
    private static final List<ChatMessage> CHAT = List.of(new ChatMessage("system", "You are terse. "),
            new ChatMessage("user", " Hi there "), new ChatMessage("assistant", "Hello! "), new ChatMessage("user", "Bye"));

    private static final Map<String, String> EXPECTED = Map.ofEntries(
            Map.entry("chatml", "<|im_start|>system\nYou are terse. <|im_end|>\n<|im_start|>user\n Hi there <|im_end|>\n<|im_start|>assistant\nHello! <|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"),
            Map.entry("llama2", "[INST] You are terse. \n Hi there  [/INST]Hello! </s>[INST] Bye [/INST]"),
            Map.entry("llama2-sys", "[INST] <<SYS>>\nYou are terse. \n<</SYS>>\n\n Hi there  [/INST]Hello! </s>[INST] Bye [/INST]"),
            Map.entry("llama3", "<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
            Map.entry("mistral-v1", " [INST] You are terse. \n\n Hi there  [/INST] Hello! </s> [INST] Bye [/INST]"),
            Map.entry("mistral-v3", "[INST] You are terse. \n\n Hi there [/INST] Hello!</s>[INST] Bye[/INST]"),
            Map.entry("mistral-v3-tekken", "[INST]You are terse. \n\n Hi there [/INST]Hello! </s>[INST]Bye[/INST]"),
            Map.entry("mistral-v7", "[SYSTEM_PROMPT] You are terse. [/SYSTEM_PROMPT][INST]  Hi there [/INST] Hello! </s>[INST] Bye[/INST]"),
            Map.entry("phi3", "<|system|>\nYou are terse. <|end|>\n<|user|>\n Hi there <|end|>\n<|assistant|>\nHello! <|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n"),
            Map.entry("phi4", "<|im_start|>system<|im_sep|>You are terse. <|im_end|><|im_start|>user<|im_sep|> Hi there <|im_end|><|im_start|>assistant<|im_sep|>Hello! <|im_end|><|im_start|>user<|im_sep|>Bye<|im_end|><|im_start|>assistant<|im_sep|>"),
            Map.entry("falcon3", "<|system|>\nYou are terse. \n<|user|>\n Hi there \n<|assistant|>\nHello! \n<|user|>\nBye\n<|assistant|>\n"),
            Map.entry("zephyr", "<|system|>\nYou are terse. <|endoftext|>\n<|user|>\n Hi there <|endoftext|>\n<|assistant|>\nHello! <|endoftext|>\n<|user|>\nBye<|endoftext|>\n<|assistant|>\n"),
            Map.entry("gemma", "<start_of_turn>user\nYou are terse.\n\nHi there<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n"),
            Map.entry("vicuna", "You are terse. \n\nUSER:  Hi there \nASSISTANT: Hello! </s>\nUSER: Bye\nASSISTANT:"),
            Map.entry("vicuna-orca", "SYSTEM: You are terse. \nUSER:  Hi there \nASSISTANT: Hello! </s>\nUSER: Bye\nASSISTANT:"));

    @Test
    void eachNamedFormatRendersAsLlamaCppsFormatter() {
        assertEquals(EXPECTED.keySet(), BuiltInTemplates.names());
        for (String name : BuiltInTemplates.names()) {
            String got = ChatTemplate.of(BuiltInTemplates.source(name), "<s>", "</s>").render(CHAT, true);
            assertEquals(EXPECTED.get(name), got, name);
        }
        assertEquals(null, BuiltInTemplates.source("no-such-format"));
    }
}
