package dev.vellama.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufFormatException;
import dev.vellama.gguf.GgufMetadata;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufValueType;
import dev.vellama.testdata.TestData;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Templates read from the shared GGUF files, the fallback format, and the ChatTemplate contract. */
class ChatTemplateTest {
    private static final List<ChatMessage> SYSTEM_USER = List.of(
            ChatMessage.system("You are terse."), ChatMessage.user("Hi"));
    private static final List<ChatMessage> MULTI_TURN = List.of(
            ChatMessage.system("You are terse."), ChatMessage.user("Hi"),
            ChatMessage.assistant("Hello."), ChatMessage.user("Bye"));

    private static ChatTemplate fromModel(Path file) throws IOException {
        try (GgufFile gguf = GgufFile.open(file)) {
            return ChatTemplate.fromGguf(gguf.metadata());
        }
    }

    // ---- Llama 3 (tiny-llama3): its template always ends with the assistant header ----------------------

    @Test
    void llama3SystemAndUser() throws IOException {
        ChatTemplate t = fromModel(TestData.model("tiny-llama3-q8_0.gguf"));
        assertFalse(t.isFallback());
        assertEquals("<|begin_of_text|>", t.bosToken());
        assertEquals("<|eot_id|>", t.eosToken());
        String expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(expected, t.render(SYSTEM_USER, true));
        // This original Llama 3 template does not read add_generation_prompt.
        assertEquals(expected, t.render(SYSTEM_USER, false));
    }

    @Test
    void llama3MultiTurnTrimsContent() throws IOException {
        ChatTemplate t = fromModel(TestData.model("tiny-llama3-q8_0.gguf"));
        List<ChatMessage> chat = List.of(ChatMessage.system("You are terse."), ChatMessage.user("  Hi\n"),
                ChatMessage.assistant("Hello. "), ChatMessage.user("Bye"));
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", t.render(chat, true));
    }

    // ---- Phi-3 vocabulary (tokenizer-tests): drops system turns, opens the reply after every user turn ----

    @Test
    void phi3VocabularyTemplate() throws IOException {
        ChatTemplate t = fromModel(TestData.resolve("tokenizer-tests/ggml-vocab-phi-3.gguf"));
        assertFalse(t.isFallback());
        assertEquals("<s>", t.bosToken());
        assertEquals("<|endoftext|>", t.eosToken());
        assertEquals("<s><|user|>\nHi<|end|>\n<|assistant|>\n", t.render(SYSTEM_USER, true));
        String multi = "<s><|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n";
        assertEquals(multi, t.render(MULTI_TURN, true));
        assertEquals(multi, t.render(MULTI_TURN, false));
    }

    // ---- Qwen (tiny-qwen2 and tiny-qwen3 carry the same Qwen 3 template) --------------------------------

    @Test
    void qwenSystemAndUser() throws IOException {
        for (String model : List.of("tiny-qwen2-q4_0.gguf", "tiny-qwen3-q8_0.gguf")) {
            ChatTemplate t = fromModel(TestData.model(model));
            assertFalse(t.isFallback(), model);
            assertEquals("<|endoftext|>", t.bosToken(), model);
            assertEquals("<|im_end|>", t.eosToken(), model);
            String prompt = "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n";
            assertEquals(prompt + "<|im_start|>assistant\n", t.render(SYSTEM_USER, true), model);
            assertEquals(prompt, t.render(SYSTEM_USER, false), model);
        }
    }

    @Test
    void qwenMultiTurn() throws IOException {
        ChatTemplate t = fromModel(TestData.model("tiny-qwen3-q8_0.gguf"));
        String turns = "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n";
        assertEquals(turns + "<|im_start|>assistant\n", t.render(MULTI_TURN, true));
        assertEquals(turns, t.render(MULTI_TURN, false));
    }

    @Test
    void qwenDropsEarlierReasoningAndCanDisableThinking() throws IOException {
        ChatTemplate t = fromModel(TestData.model("tiny-qwen2-q4_0.gguf"));
        List<ChatMessage> chat = List.of(ChatMessage.user("q"),
                ChatMessage.assistant("<think>\nhmm\n</think>\n\nanswer"), ChatMessage.user("again"));
        String turns = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\nanswer<|im_end|>\n"
                + "<|im_start|>user\nagain<|im_end|>\n<|im_start|>assistant\n";
        assertEquals(turns, t.render(chat, true));
        assertEquals(turns + "<think>\n\n</think>\n\n", t.render(chat, true, Map.of("enable_thinking", false)));
    }

    // ---- The stories models have no template: the fallback format ----------------------------------

    @Test
    void storiesModelFallsBack() throws IOException {
        ChatTemplate t = fromModel(TestData.model("stories-llama2-q8_0.gguf"));
        assertTrue(t.isFallback());
        assertTrue(t.source().isEmpty());
        assertEquals("<s>", t.bosToken());
        assertEquals("</s>", t.eosToken());
        assertEquals("System: You are terse.\nUser: Hi\nAssistant:", t.render(SYSTEM_USER, true));
    }

    @Test
    void everySharedTemplateRendersAConversation() throws IOException {
        Set<String> withTemplate = new TreeSet<>();
        for (Path file : TestData.allGgufFiles().toList()) {
            ChatTemplate t;
            try {
                t = fromModel(file);
            } catch (GgufFormatException e) {
                continue; // a stub naming another file of the data set, which is checked under its own name
            }
            if (!t.isFallback()) {
                withTemplate.add(file.getFileName().toString());
                assertTrue(t.render(MULTI_TURN, true).contains("Bye"), file.toString());
            }
        }
        assertEquals(Set.of("ggml-vocab-phi-3.gguf", "tiny-llama3-q8_0.gguf", "tiny-qwen2-q4_0.gguf",
                "tiny-qwen3-q8_0.gguf"), withTemplate);
    }

    @Test
    void fallbackFormat() {
        ChatTemplate t = ChatTemplate.fallback();
        assertTrue(t.isFallback());
        String transcript = "System: You are terse.\nUser: Hi\nAssistant: Hello.\nUser: Bye\n";
        assertEquals(transcript + "Assistant:", t.render(MULTI_TURN, true));
        assertEquals(transcript, t.render(MULTI_TURN, false));
        assertEquals("Tool: 42\n", t.render(List.of(ChatMessage.tool("42")), false));
        assertEquals("Assistant:", t.render(List.of(), true));
    }

    // ---- Contract ------------------------------------------------------------------------------------

    @Test
    void metadataWithoutTemplateFallsBackAndNamesSpecialTokens() {
        Map<String, GgufValue> entries = new HashMap<>();
        entries.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, new String[] {"<unk>", "<s>", "</s>"}));
        entries.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(1));
        entries.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(2));
        ChatTemplate fallback = ChatTemplate.fromGguf(new GgufMetadata(entries));
        assertTrue(fallback.isFallback());
        assertEquals("<s>", fallback.bosToken());

        entries.put(ChatTemplate.METADATA_KEY, GgufValue.string("{{ bos_token }}{{ messages[0].content }}{{ eos_token }}"));
        ChatTemplate t = ChatTemplate.fromGguf(new GgufMetadata(entries));
        assertFalse(t.isFallback());
        assertEquals("<s>Hi</s>", t.render(List.of(ChatMessage.user("Hi")), false));
    }

    @Test
    void syntaxErrorIsReportedWhenTheTemplateIsLoaded() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{% for m in messages %}{{ m.content }}", "", ""));
        assertFalse(e.isRaisedByTemplate());
        assertTrue(e.getMessage().startsWith("invalid chat template: template syntax error"), e.getMessage());
    }

    @Test
    void unusableModelTemplateFailsWhenUsedNotWhenLoaded() {
        Map<String, GgufValue> entries = new HashMap<>();
        entries.put(ChatTemplate.METADATA_KEY, GgufValue.string("{% include 'chat.jinja' %}"));
        ChatTemplate t = ChatTemplate.fromGguf(new GgufMetadata(entries));
        assertFalse(t.isFallback());
        assertTrue(t.loadError().isPresent());
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(ChatMessage.user("Hi")), true));
        assertEquals("the model's chat template (tokenizer.chat_template) cannot be used: invalid chat template: "
                + "template syntax error: unknown or unsupported tag 'include' (template line 1)", e.getMessage());
    }

    @Test
    void renderErrorNamesTheTemplateLine() {
        ChatTemplate t = ChatTemplate.of("{% for m in messages %}\n{{ m.content + 1 }}\n{% endfor %}", "", "");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(ChatMessage.user("x")), false));
        assertFalse(e.isRaisedByTemplate());
        assertEquals("chat template failed: can only concatenate str (not \"int\") to str (template line 2)",
                e.getMessage());
    }

    @Test
    void toolsAreNoneAndDateComesFromTheClock() {
        ChatTemplate t = ChatTemplate.of("{{ tools is defined }} {{ tools is none }} {{ documents is none }} "
                + "{{ date_string is defined }} {{ strftime_now('%d %b %Y') }}", "", "")
                .withClock(Clock.fixed(Instant.parse("2026-03-05T10:00:00Z"), ZoneOffset.UTC));
        assertEquals("True True True False 05 Mar 2026", t.render(List.of(), true));
        assertEquals("True True True True 05 Mar 2026", t.render(List.of(), true, Map.of("date_string", "x")));
    }

    @Test
    void messageTextIsDataNotTemplate() throws IOException {
        ChatTemplate t = fromModel(TestData.model("tiny-qwen3-q8_0.gguf"));
        String content = "{{ raise_exception('no') }} {% if %} {# x #} \\n 'quotes' \"and\" é";
        assertEquals("<|im_start|>user\n" + content + "<|im_end|>\n",
                t.render(List.of(ChatMessage.user(content)), false));
    }

    @Test
    void messagesRequireARoleAndContent() {
        assertThrows(IllegalArgumentException.class, () -> new ChatMessage(" ", "x"));
        assertThrows(NullPointerException.class, () -> new ChatMessage("user", null));
        assertEquals(new ChatMessage("tool", "42"), ChatMessage.tool("42"));
    }
}
