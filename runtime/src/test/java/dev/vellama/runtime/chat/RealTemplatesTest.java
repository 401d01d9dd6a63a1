package dev.vellama.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Published chat templates of popular model families (test resources, copied from their tokenizer configs),
 * rendered against expectations worked out by reading each template.
 */
class RealTemplatesTest {
    private static final List<ChatMessage> SYSTEM_USER = List.of(
            ChatMessage.system("You are terse."), ChatMessage.user("Hi"));
    private static final List<ChatMessage> MULTI_TURN = List.of(
            ChatMessage.system("You are terse."), ChatMessage.user("Hi"),
            ChatMessage.assistant("Hello."), ChatMessage.user("Bye"));
    private static final List<ChatMessage> NO_SYSTEM = List.of(
            ChatMessage.user("Hi"), ChatMessage.assistant("Hello."), ChatMessage.user("Bye"));

    static ChatTemplate load(String name, String bos, String eos) {
        String path = "templates/" + name + ".jinja";
        try (InputStream in = RealTemplatesTest.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + path);
            }
            return ChatTemplate.of(new String(in.readAllBytes(), StandardCharsets.UTF_8), bos, eos);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- Gemma 2: no system role, strict alternation, content trimmed -----------------------------------

    @Test
    void gemma2MultiTurn() {
        ChatTemplate t = load("gemma2", "<bos>", "<eos>");
        String turns = "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
                + "<start_of_turn>user\nBye<end_of_turn>\n";
        assertEquals(turns + "<start_of_turn>model\n", t.render(NO_SYSTEM, true));
        assertEquals(turns, t.render(NO_SYSTEM, false));
    }

    @Test
    void gemma2TrimsContent() {
        ChatTemplate t = load("gemma2", "<bos>", "<eos>");
        assertEquals("<bos><start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n",
                t.render(List.of(ChatMessage.user("  Hi there \n")), true));
    }

    @Test
    void gemma2RejectsSystemRole() {
        ChatTemplate t = load("gemma2", "<bos>", "<eos>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> t.render(SYSTEM_USER, true));
        assertTrue(e.isRaisedByTemplate());
        assertEquals("the chat template rejected the conversation: System role not supported", e.getMessage());
    }

    // ---- Gemma 3: system text folded into the first user turn ------------------------------------------

    @Test
    void gemma3SystemAndUser() {
        ChatTemplate t = load("gemma3", "<bos>", "<eos>");
        String prompt = "<bos><start_of_turn>user\nYou are terse.\n\nHi<end_of_turn>\n";
        assertEquals(prompt + "<start_of_turn>model\n", t.render(SYSTEM_USER, true));
        assertEquals(prompt, t.render(SYSTEM_USER, false));
    }

    @Test
    void gemma3MultiTurn() {
        ChatTemplate t = load("gemma3", "<bos>", "<eos>");
        assertEquals("<bos><start_of_turn>user\nYou are terse.\n\nHi<end_of_turn>\n"
                + "<start_of_turn>model\nHello.<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n"
                + "<start_of_turn>model\n", t.render(MULTI_TURN, true));
    }

    @Test
    void gemma3RejectsTwoUserTurnsInARow() {
        ChatTemplate t = load("gemma3", "<bos>", "<eos>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true));
        assertTrue(e.isRaisedByTemplate());
        assertTrue(e.getMessage().endsWith("Conversation roles must alternate user/assistant/user/assistant/..."),
                e.getMessage());
    }

    // ---- Mistral Instruct v0.3: system prompt goes into the last user turn ------------------------------

    @Test
    void mistralSystemAndUser() {
        ChatTemplate t = load("mistral-v0.3", "<s>", "</s>");
        // The template has no generation prompt: [/INST] already hands over to the assistant.
        assertEquals("<s>[INST] You are terse.\n\nHi[/INST]", t.render(SYSTEM_USER, true));
        assertEquals("<s>[INST] You are terse.\n\nHi[/INST]", t.render(SYSTEM_USER, false));
    }

    @Test
    void mistralMultiTurn() {
        ChatTemplate t = load("mistral-v0.3", "<s>", "</s>");
        assertEquals("<s>[INST] Hi[/INST] Hello.</s>[INST] You are terse.\n\nBye[/INST]",
                t.render(MULTI_TURN, true));
    }

    @Test
    void mistralRejectsAssistantFirst() {
        ChatTemplate t = load("mistral-v0.3", "<s>", "</s>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(ChatMessage.assistant("Hello."), ChatMessage.user("Hi")), true));
        assertTrue(e.isRaisedByTemplate());
        assertEquals("the chat template rejected the conversation: After the optional system message, "
                + "conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void mistralRejectsToolResultWithoutCallId() {
        ChatTemplate t = load("mistral-v0.3", "<s>", "</s>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(ChatMessage.user("q"), ChatMessage.tool("42")), true));
        assertTrue(e.isRaisedByTemplate());
        assertTrue(e.getMessage().endsWith("Tool call IDs should be alphanumeric strings with length 9!"),
                e.getMessage());
    }

    @Test
    void mistralListsToolsBeforeTheLastUserTurn() {
        ChatTemplate t = load("mistral-v0.3", "<s>", "</s>");
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("type", "object");
        parameters.put("required", List.of("city"));
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", "weather");
        function.put("description", "Weather now");
        function.put("parameters", parameters);
        List<Object> tools = List.of(Map.of("type", "function", "function", function));
        assertEquals("<s>[AVAILABLE_TOOLS] [{\"type\": \"function\", \"function\": {\"name\": \"weather\", "
                + "\"description\": \"Weather now\", \"parameters\": {\"type\": \"object\", \"required\": [\"city\"]}}}]"
                + "[/AVAILABLE_TOOLS][INST] Hi[/INST]",
                t.render(List.of(ChatMessage.user("Hi")), true, Map.of("tools", tools)));
    }

    // ---- Llama 3.2: dated system header, tools in the first user turn, tool results as JSON ---------------

    private static final Clock MARCH_5 = Clock.fixed(Instant.parse("2026-03-05T10:00:00Z"), ZoneOffset.UTC);
    private static final String LLAMA_SYSTEM_HEADER = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n";

    @Test
    void llama32DatesTheSystemTurn() {
        ChatTemplate t = load("llama3.2", "<|begin_of_text|>", "<|eot_id|>").withClock(MARCH_5);
        String prompt = LLAMA_SYSTEM_HEADER + "Cutting Knowledge Date: December 2023\nToday Date: 05 Mar 2026\n\n"
                + "You are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
        assertEquals(prompt + "<|start_header_id|>assistant<|end_header_id|>\n\n", t.render(SYSTEM_USER, true));
        assertEquals(prompt, t.render(SYSTEM_USER, false));
        assertEquals(prompt.replace("05 Mar 2026", "1 May 2025"),
                t.render(SYSTEM_USER, false, Map.of("date_string", "1 May 2025")));
    }

    @Test
    void llama32SendsToolResultsAsJson() {
        ChatTemplate t = load("llama3.2", "<|begin_of_text|>", "<|eot_id|>").withClock(MARCH_5);
        // A string is iterable, so the template JSON-quotes a plain-text tool result.
        assertEquals(LLAMA_SYSTEM_HEADER + "Cutting Knowledge Date: December 2023\nToday Date: 05 Mar 2026\n\n"
                + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nq<|eot_id|>"
                + "<|start_header_id|>ipython<|end_header_id|>\n\n\"42\"<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                t.render(List.of(ChatMessage.user("q"), ChatMessage.tool("42")), true));
    }

    @Test
    void llama32PutsToolsInTheFirstUserTurn() {
        ChatTemplate t = load("llama3.2", "<|begin_of_text|>", "<|eot_id|>").withClock(MARCH_5);
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", "get_weather");
        function.put("parameters", Map.of("type", "object"));
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        String json = "{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_weather\",\n"
                + "        \"parameters\": {\n            \"type\": \"object\"\n        }\n    }\n}";
        assertEquals(LLAMA_SYSTEM_HEADER + "Environment: ipython\nCutting Knowledge Date: December 2023\n"
                + "Today Date: 05 Mar 2026\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                + "Given the following functions, please respond with a JSON for a function call with its proper "
                + "arguments that best answers the given prompt.\n\nRespond in the format {\"name\": function name, "
                + "\"parameters\": dictionary of argument name and its value}.Do not use variables.\n\n" + json
                + "\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                t.render(SYSTEM_USER, true, Map.of("tools", List.of(tool))));
    }

    // ---- Phi-3 -----------------------------------------------------------------------------------------

    @Test
    void phi3SystemAndUser() {
        ChatTemplate t = load("phi3", "<s>", "<|endoftext|>");
        String prompt = "<|system|>\nYou are terse.<|end|>\n<|user|>\nHi<|end|>\n";
        assertEquals(prompt + "<|assistant|>\n", t.render(SYSTEM_USER, true));
        assertEquals(prompt + "<|endoftext|>", t.render(SYSTEM_USER, false));
    }

    @Test
    void phi3MultiTurn() {
        ChatTemplate t = load("phi3", "<s>", "<|endoftext|>");
        assertEquals("<|system|>\nYou are terse.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n"
                + "<|user|>\nBye<|end|>\n<|assistant|>\n", t.render(MULTI_TURN, true));
    }

    // ---- SmolLM2: ChatML with a default system prompt --------------------------------------------------

    @Test
    void smolLm2AddsItsDefaultSystemPrompt() {
        ChatTemplate t = load("smollm2", "<|im_start|>", "<|im_end|>");
        assertEquals("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                + "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                t.render(List.of(ChatMessage.user("Hi")), true));
    }

    @Test
    void smolLm2KeepsAGivenSystemPrompt() {
        ChatTemplate t = load("smollm2", "<|im_start|>", "<|im_end|>");
        String prompt = "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n";
        assertEquals(prompt + "<|im_start|>assistant\n", t.render(SYSTEM_USER, true));
        assertEquals(prompt, t.render(SYSTEM_USER, false));
    }

    // ---- Qwen 2.5 --------------------------------------------------------------------------------------

    @Test
    void qwen25DefaultSystemPrompt() {
        ChatTemplate t = load("qwen2.5", "<|endoftext|>", "<|im_end|>");
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
                + "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                t.render(List.of(ChatMessage.user("Hi")), true));
    }

    @Test
    void qwen25MultiTurn() {
        ChatTemplate t = load("qwen2.5", "<|endoftext|>", "<|im_end|>");
        String turns = "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n";
        assertEquals(turns + "<|im_start|>assistant\n", t.render(MULTI_TURN, true));
        assertEquals(turns, t.render(MULTI_TURN, false));
    }

    @Test
    void qwen25GroupsConsecutiveToolResults() {
        ChatTemplate t = load("qwen2.5", "<|endoftext|>", "<|im_end|>");
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
                + "<|im_end|>\n<|im_start|>user\nq<|im_end|>\n"
                + "<|im_start|>user\n<tool_response>\n42\n</tool_response>\n<tool_response>\n43\n</tool_response>"
                + "<|im_end|>\n",
                t.render(List.of(ChatMessage.user("q"), ChatMessage.tool("42"), ChatMessage.tool("43")), false));
    }

    @Test
    void qwen25DescribesToolsInTheSystemTurn() {
        ChatTemplate t = load("qwen2.5", "<|endoftext|>", "<|im_end|>");
        Map<String, Object> city = new LinkedHashMap<>();
        city.put("type", "string");
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("type", "object");
        parameters.put("properties", Map.of("city", city));
        parameters.put("required", List.of("city"));
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", "get_weather");
        function.put("description", "Weather now");
        function.put("parameters", parameters);
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        String json = "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": "
                + "\"Weather now\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": "
                + "{\"type\": \"string\"}}, \"required\": [\"city\"]}}}";
        assertEquals("<|im_start|>system\nYou are terse.\n\n# Tools\n\nYou may call one or more functions to "
                + "assist with the user query.\n\nYou are provided with function signatures within "
                + "<tools></tools> XML tags:\n<tools>\n" + json + "\n</tools>\n\nFor each function call, return a "
                + "json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
                + "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>"
                + "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                t.render(SYSTEM_USER, true, Map.of("tools", List.of(tool))));
    }

    // ---- Qwen 3: reasoning is dropped from earlier turns, kept after the last user query ---------------

    @Test
    void qwen3DropsReasoningOfEarlierTurns() {
        ChatTemplate t = load("qwen3", "<|endoftext|>", "<|im_end|>");
        List<ChatMessage> chat = List.of(ChatMessage.user("q"),
                ChatMessage.assistant("<think>\nhmm\n</think>\n\nanswer"), ChatMessage.user("again"));
        String turns = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\nanswer<|im_end|>\n"
                + "<|im_start|>user\nagain<|im_end|>\n";
        assertEquals(turns + "<|im_start|>assistant\n", t.render(chat, true));
        assertEquals(turns + "<|im_start|>assistant\n<think>\n\n</think>\n\n",
                t.render(chat, true, Map.of("enable_thinking", false)));
    }

    @Test
    void qwen3KeepsReasoningOfTheFinalTurn() {
        ChatTemplate t = load("qwen3", "<|endoftext|>", "<|im_end|>");
        List<ChatMessage> chat = List.of(ChatMessage.system("You are terse."), ChatMessage.user("q"),
                ChatMessage.assistant("<think>x</think>y"));
        assertEquals("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nq<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\nx\n</think>\n\ny<|im_end|>\n", t.render(chat, false));
    }

    // ---- gpt-oss: the harmony format, with its system header, developer instructions and channels --------

    @Test
    void gptOssSystemBecomesDeveloperInstructions() {
        ChatTemplate t = load("gpt-oss", "<|startoftext|>", "<|return|>").withClock(MARCH_5);
        String system = "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
                + "Knowledge cutoff: 2024-06\nCurrent date: 2026-03-05\n\nReasoning: medium\n\n"
                + "# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>";
        assertEquals(system + "<|start|>developer<|message|># Instructions\n\nYou are terse.\n\n<|end|>"
                + "<|start|>user<|message|>Hi<|end|><|start|>assistant", t.render(SYSTEM_USER, true));
        assertEquals(system.replace("Reasoning: medium", "Reasoning: high")
                + "<|start|>developer<|message|># Instructions\n\nYou are terse.\n\n<|end|>"
                + "<|start|>user<|message|>Hi<|end|><|start|>assistant",
                t.render(SYSTEM_USER, true, Map.of("reasoning_effort", "high")));
    }

    @Test
    void gptOssEarlierAnswersAreFinalChannelMessages() {
        ChatTemplate t = load("gpt-oss", "<|startoftext|>", "<|return|>").withClock(MARCH_5);
        String rendered = t.render(NO_SYSTEM, true);
        assertTrue(rendered.endsWith("<|start|>user<|message|>Hi<|end|>"
                + "<|start|>assistant<|channel|>final<|message|>Hello.<|end|>"
                + "<|start|>user<|message|>Bye<|end|><|start|>assistant"), rendered);
    }

    // ---- The 2026 families: Ministral 3, SmolLM3, Qwen 3.5 --------------------------------------------------

    @Test
    void ministral3SystemPromptAndInstructions() {
        ChatTemplate t = load("ministral3", "<s>", "</s>");
        assertEquals("<s>[SYSTEM_PROMPT]You are terse.[/SYSTEM_PROMPT][INST]Hi[/INST]Hello.</s>[INST]Bye[/INST]",
                t.render(MULTI_TURN, true));
    }

    @Test
    void smollm3PutsTheSystemTextUnderItsMetadata() {
        ChatTemplate t = load("smollm3", "<|im_start|>", "<|im_end|>");
        assertEquals("<|im_start|>system\n## Metadata\n\nKnowledge Cutoff Date: June 2025\nReasoning Mode: /think\n\n"
                + "## Custom Instructions\n\nYou are terse.\n\n<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\n", t.render(SYSTEM_USER, true));
    }

    @Test
    void glm46DropsEarlierReasoningAndOpensTheReply() {
        ChatTemplate t = load("glm4.6", "[gMASK]<sop>", "<|endoftext|>");
        List<ChatMessage> chat = List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hi"),
                ChatMessage.assistant("<think>hmm</think>Hello."), ChatMessage.user("Bye"));
        assertEquals("[gMASK]<sop><|system|>\nYou are terse.<|user|>\nHi<|assistant|>\n<think></think>\nHello.<|user|>\n"
                + "Bye<|assistant|>", t.render(chat, true));
        assertEquals(ReasoningFormat.THINK_TAGS, ReasoningFormat.of(t));
    }

    @Test
    void qwen35OpensItsReasoningInThePrompt() {
        ChatTemplate t = load("qwen3.5", "<|endoftext|>", "<|im_end|>");
        String turns = "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n";
        String prompt = t.render(SYSTEM_USER, true);
        assertEquals(turns + "<|im_start|>assistant\n<think>\n", prompt);
        assertTrue(ReasoningSplitter.endsInsideThink(prompt), "a reply to it starts in its reasoning");
        assertEquals(turns + "<|im_start|>assistant\n<think>\n\n</think>\n\n",
                t.render(SYSTEM_USER, true, Map.of("enable_thinking", false)));
        // variables bound to the template, as --chat-template-kwargs binds them; a render's own win
        ChatTemplate bound = t.withVariables(Map.of("enable_thinking", false));
        assertEquals(turns + "<|im_start|>assistant\n<think>\n\n</think>\n\n", bound.render(SYSTEM_USER, true));
        assertEquals(prompt, bound.render(SYSTEM_USER, true, Map.of("enable_thinking", true)));
    }
}
