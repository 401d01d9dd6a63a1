package dev.vellama.runtime.chat;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * llama.cpp's named chat formats ({@code --chat-template NAME}) as Jinja sources that render what its built-in
 * formatter ({@code llm_chat_apply_template}) writes for the same messages: the same strings, the same trimming,
 * the same handling of a system message where the format has none. BOS is not written, as there: the tokenizer
 * adds it.
 */
public final class BuiltInTemplates {
    private BuiltInTemplates() {}

    private static final String NL = "'\\n'";

    /** Each message as {@code prefix(role) + content + suffix}, then the assistant's opening when asked. */
    private static String simple(String perMessage, String generation) {
        return "{%- for m in messages -%}{{- " + perMessage + " -}}{%- endfor -%}"
                + "{%- if add_generation_prompt -%}{{- " + generation + " -}}{%- endif -%}";
    }

    private static String llama2(boolean systemBlock) {
        return "{%- set ns = namespace(inside=true) -%}{{- '[INST] ' -}}"
                + "{%- for m in messages -%}"
                + "{%- if not ns.inside -%}{%- set ns.inside = true -%}{{- '[INST] ' -}}{%- endif -%}"
                + "{%- if m['role'] == 'system' -%}"
                + (systemBlock ? "{{- '<<SYS>>\\n' + m['content'] + '\\n<</SYS>>\\n\\n' -}}" : "{{- m['content'] + " + NL + " -}}")
                + "{%- elif m['role'] == 'user' -%}{{- m['content'] + ' [/INST]' -}}"
                + "{%- else -%}{{- m['content'] + '</s>' -}}{%- set ns.inside = false -%}{%- endif -%}"
                + "{%- endfor -%}";
    }

    /** Mistral's [INST] formats: v1 with spaces around the tags, v3 with a space after, tekken with none. */
    private static String mistral(String leading, String trailing, boolean trimAssistant) {
        return "{%- set ns = namespace(inside=false) -%}"
                + "{%- for m in messages -%}"
                + "{%- if not ns.inside -%}{{- '" + leading + "[INST]" + trailing + "' -}}{%- set ns.inside = true -%}{%- endif -%}"
                + "{%- if m['role'] == 'system' -%}{{- m['content'] + '\\n\\n' -}}"
                + "{%- elif m['role'] == 'user' -%}{{- m['content'] + '" + leading + "[/INST]' -}}"
                + "{%- else -%}{{- '" + trailing + "' + " + (trimAssistant ? "(m['content'] | trim)" : "m['content']")
                + " + '</s>' -}}{%- set ns.inside = false -%}{%- endif -%}"
                + "{%- endfor -%}";
    }

    private static final Map<String, String> SOURCES = new LinkedHashMap<>();

    static {
        SOURCES.put("chatml", ChatTemplate.CHATML);
        SOURCES.put("llama2", llama2(false));
        SOURCES.put("llama2-sys", llama2(true));
        SOURCES.put("llama3", simple("'<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + (m['content'] | trim)"
                + " + '<|eot_id|>'", "'<|start_header_id|>assistant<|end_header_id|>\\n\\n'"));
        SOURCES.put("mistral-v1", mistral(" ", " ", false));
        SOURCES.put("mistral-v3", mistral("", " ", true));
        SOURCES.put("mistral-v3-tekken", mistral("", "", false));
        SOURCES.put("mistral-v7", "{%- for m in messages -%}"
                + "{%- if m['role'] == 'system' -%}{{- '[SYSTEM_PROMPT] ' + m['content'] + '[/SYSTEM_PROMPT]' -}}"
                + "{%- elif m['role'] == 'user' -%}{{- '[INST] ' + m['content'] + '[/INST]' -}}"
                + "{%- else -%}{{- ' ' + m['content'] + '</s>' -}}{%- endif -%}{%- endfor -%}");
        SOURCES.put("phi3", simple("'<|' + m['role'] + '|>\\n' + m['content'] + '<|end|>\\n'", "'<|assistant|>\\n'"));
        SOURCES.put("phi4", simple("'<|im_start|>' + m['role'] + '<|im_sep|>' + m['content'] + '<|im_end|>'",
                "'<|im_start|>assistant<|im_sep|>'"));
        SOURCES.put("falcon3", simple("'<|' + m['role'] + '|>\\n' + m['content'] + '\\n'", "'<|assistant|>\\n'"));
        SOURCES.put("zephyr", simple("'<|' + m['role'] + '|>\\n' + m['content'] + '<|endoftext|>\\n'", "'<|assistant|>\\n'"));
        SOURCES.put("gemma", "{%- set ns = namespace(sys='') -%}"
                + "{%- for m in messages -%}"
                + "{%- if m['role'] == 'system' -%}{%- set ns.sys = m['content'] | trim -%}"
                + "{%- else -%}"
                + "{%- set role = 'model' if m['role'] == 'assistant' else m['role'] -%}"
                + "{{- '<start_of_turn>' + role + '\\n' -}}"
                + "{%- if ns.sys != '' and role != 'model' -%}{{- ns.sys + '\\n\\n' -}}{%- set ns.sys = '' -%}{%- endif -%}"
                + "{{- (m['content'] | trim) + '<end_of_turn>\\n' -}}"
                + "{%- endif -%}{%- endfor -%}"
                + "{%- if add_generation_prompt -%}{{- '<start_of_turn>model\\n' -}}{%- endif -%}");
        SOURCES.put("vicuna", "{%- for m in messages -%}"
                + "{%- if m['role'] == 'system' -%}{{- m['content'] + '\\n\\n' -}}"
                + "{%- elif m['role'] == 'user' -%}{{- 'USER: ' + m['content'] + '\\n' -}}"
                + "{%- elif m['role'] == 'assistant' -%}{{- 'ASSISTANT: ' + m['content'] + '</s>\\n' -}}{%- endif -%}"
                + "{%- endfor -%}{%- if add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}");
        SOURCES.put("vicuna-orca", "{%- for m in messages -%}"
                + "{%- if m['role'] == 'system' -%}{{- 'SYSTEM: ' + m['content'] + '\\n' -}}"
                + "{%- elif m['role'] == 'user' -%}{{- 'USER: ' + m['content'] + '\\n' -}}"
                + "{%- elif m['role'] == 'assistant' -%}{{- 'ASSISTANT: ' + m['content'] + '</s>\\n' -}}{%- endif -%}"
                + "{%- endfor -%}{%- if add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}");
    }

    /**
     * The Jinja source of a named format, or null for a name llama.cpp's list has and this one lacks.
     *
     * @param name the format's name as {@code --chat-template} takes it ({@code chatml}, {@code llama3},
     *             {@code mistral-v7}, ...), in any case
     * @return the template's Jinja source, or null for a name not in {@link #names}
     */
    public static String source(String name) {
        return SOURCES.get(name.toLowerCase(java.util.Locale.ROOT));
    }

    /** {@return the names {@link #source} knows, lower-case, in a stable order; unmodifiable} */
    public static java.util.Set<String> names() {
        return java.util.Collections.unmodifiableSet(SOURCES.keySet());
    }
}
