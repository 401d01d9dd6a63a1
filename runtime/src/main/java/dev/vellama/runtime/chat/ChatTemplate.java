package dev.vellama.runtime.chat;

import dev.vellama.gguf.GgufMetadata;
import dev.vellama.runtime.chat.jinja.JinjaException;
import dev.vellama.runtime.chat.jinja.JinjaTemplate;
import dev.vellama.runtime.chat.jinja.TemplateRaisedException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Turns a conversation into the prompt text a model was trained on, by rendering the model's Jinja chat
 * template ({@code tokenizer.chat_template} in a GGUF file) the way Hugging Face's
 * {@code apply_chat_template} does: {@code trim_blocks} and {@code lstrip_blocks} on, and the variables
 * {@code messages} (dicts with {@code role} and {@code content}), {@code add_generation_prompt},
 * {@code bos_token}, {@code eos_token}, {@code tools} and {@code documents} (both none), the globals
 * {@code raise_exception} and {@code strftime_now}, plus any extra variables a caller passes (such as
 * {@code enable_thinking} or {@code date_string}).
 *
 * <p>The rendered text contains the special tokens the template writes, BOS included when the template
 * writes {@code bos_token}; tokenize it with special-token parsing on and without adding a second BOS.
 *
 * <h2>Gemma 4</h2>
 * A Gemma 4 template (one that writes {@code '<|tool_call>call:'}) gets what llama.cpp gives it. Templates older
 * than the one that reads OpenAI's {@code role: tool} messages (they lack its {@code OpenAI Chat Completions}
 * comment) see each assistant turn that called tools merged with the tool results after it, as
 * {@code tool_responses} ({@code name}: the function of the call at the same position, else the result's
 * {@code tool_call_id}; {@code response}: the result's text read as JSON where it is JSON), and with the text of a
 * plain assistant turn right after them as its {@code content}. And a prompt that should end with the generation
 * prompt but ends with {@code <turn|>\n} (the template closes a turn that had words after its tool results and
 * opens none) gets {@code <|turn>model\n}.
 *
 * <h2>Fallback format</h2>
 * A model without a template (for example a base model) gets a plain transcript with no special tokens.
 * Each message becomes one line: the role with its first letter upper-cased, a colon, a space and the
 * content, then a newline. The generation prompt is {@code Assistant:} with no trailing space or newline,
 * so the model continues the assistant's line:
 * <pre>
 * System: You are terse.
 * User: Hi
 * Assistant: Hello.
 * User: Bye
 * Assistant:</pre>
 */
public final class ChatTemplate {
    /** The GGUF metadata key holding the default chat template. */
    public static final String METADATA_KEY = "tokenizer.chat_template";

    private static final String TOKENS_KEY = "tokenizer.ggml.tokens";
    private static final String BOS_ID_KEY = "tokenizer.ggml.bos_token_id";
    private static final String EOS_ID_KEY = "tokenizer.ggml.eos_token_id";
    /** What marks the Gemma 4 templates that read OpenAI's {@code role: tool} results themselves. */
    private static final String GEMMA4_OPENAI_TOOL_RESULTS = "{#- OpenAI Chat Completions:";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;
    private final JinjaTemplate template;
    private final String bosToken;
    private final String eosToken;
    private final Clock clock;
    /** Why a model's own template cannot be used, or null; reported when a conversation is rendered. */
    private final String loadError;
    /** Variables every render gets (a caller's {@code enable_thinking}, say), under the render's own extras. */
    private final Map<String, Object> defaults;

    private ChatTemplate(String source, JinjaTemplate template, String bosToken, String eosToken, Clock clock,
            String loadError) {
        this(source, template, bosToken, eosToken, clock, loadError, Map.of());
    }

    private ChatTemplate(String source, JinjaTemplate template, String bosToken, String eosToken, Clock clock,
            String loadError, Map<String, Object> defaults) {
        this.source = source;
        this.template = template;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.clock = clock;
        this.loadError = loadError;
        this.defaults = defaults;
    }

    /**
     * This template with variables that every render passes (llama.cpp's {@code --chat-template-kwargs}, such as
     * {@code enable_thinking: false} or gpt-oss's {@code reasoning_effort}); a render's own extra variables win over
     * them.
     *
     * @param variables the variables by name; values as template values (strings, numbers, booleans, lists, maps)
     * @return a new template; this one is unchanged
     */
    public ChatTemplate withVariables(Map<String, ?> variables) {
        Map<String, Object> merged = new LinkedHashMap<>(defaults);
        merged.putAll(Objects.requireNonNull(variables, "variables"));
        return new ChatTemplate(source, template, bosToken, eosToken, clock, loadError,
                java.util.Collections.unmodifiableMap(merged));
    }

    /**
     * The model's own template with its BOS and EOS token texts, or the fallback format when the file has no
     * template. A template this renderer cannot parse does not stop the model from loading (plain completion
     * still works): {@link #render} then fails with a {@link ChatTemplateException} that gives the reason.
     *
     * @param metadata the model file's metadata: {@code tokenizer.chat_template}, and the token list and BOS/EOS ids
     *                 that give {@code bos_token} and {@code eos_token} (empty text where they are missing)
     * @return the template for the model; never null
     */
    public static ChatTemplate fromGguf(GgufMetadata metadata) {
        Objects.requireNonNull(metadata, "metadata");
        String bos = tokenText(metadata, BOS_ID_KEY);
        String eos = tokenText(metadata, EOS_ID_KEY);
        if (!metadata.contains(METADATA_KEY) || metadata.getString(METADATA_KEY).isBlank()) {
            return new ChatTemplate(null, null, bos, eos, Clock.systemDefaultZone(), null);
        }
        String source = metadata.getString(METADATA_KEY);
        try {
            return of(source, bos, eos);
        } catch (ChatTemplateException e) {
            return new ChatTemplate(source, null, bos, eos, Clock.systemDefaultZone(),
                    "the model's chat template (" + METADATA_KEY + ") cannot be used: " + e.getMessage());
        }
    }

    /**
     * A template from its Jinja source.
     *
     * @param jinjaSource the template text, as {@code tokenizer.chat_template} holds it
     * @param bosToken    the text of the BOS token, which the template sees as {@code bos_token}; null for empty
     * @param eosToken    the text of the EOS token, which the template sees as {@code eos_token}; null for empty
     * @return the parsed template, reading the time for {@code strftime_now} from the system clock
     * @throws ChatTemplateException if the source has a syntax error
     */
    public static ChatTemplate of(String jinjaSource, String bosToken, String eosToken) {
        Objects.requireNonNull(jinjaSource, "jinjaSource");
        try {
            return new ChatTemplate(jinjaSource, JinjaTemplate.parse(jinjaSource),
                    Objects.requireNonNullElse(bosToken, ""), Objects.requireNonNullElse(eosToken, ""),
                    Clock.systemDefaultZone(), null);
        } catch (JinjaException e) {
            throw new ChatTemplateException("invalid chat template: " + e.getMessage(), false, e);
        }
    }

    /**
     * Another template in place of this one, keeping this one's BOS and EOS texts (llama.cpp's
     * {@code --chat-template}).
     *
     * @param jinjaSource the replacement template's text, such as a {@link BuiltInTemplates#source} or
     *                    {@link #CHATML}
     * @return a new template with that source and this one's clock; this one is unchanged
     * @throws ChatTemplateException if the source has a syntax error
     */
    public ChatTemplate withSource(String jinjaSource) {
        return of(jinjaSource, bosToken, eosToken).withClock(clock).withVariables(defaults);
    }

    /** ChatML ({@code <|im_start|>role ... <|im_end|>}), the format many fine-tunes use, by its usual name. */
    public static final String CHATML = "{%- for message in messages -%}{{- '<|im_start|>' + message['role'] + '\\n'"
            + " + message['content'] + '<|im_end|>\\n' -}}{%- endfor -%}"
            + "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";

    /**
     * {@return the documented plain format (see the class comment), for models without a template; its BOS and EOS
     * texts are empty}
     */
    public static ChatTemplate fallback() {
        return new ChatTemplate(null, null, "", "", Clock.systemDefaultZone(), null);
    }

    /**
     * The same template reading the time for {@code strftime_now} from {@code clock}.
     *
     * @param clock where the time and time zone come from; a fixed clock makes date-stamping templates reproducible
     * @return a new template; this one is unchanged
     */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(source, template, bosToken, eosToken, Objects.requireNonNull(clock, "clock"),
                loadError, defaults);
    }

    /**
     * Renders a conversation.
     *
     * @param messages            the conversation so far, oldest turn first
     * @param addGenerationPrompt whether to end with the header that opens the assistant's reply
     * @return the prompt text, special tokens written as text
     * @throws ChatTemplateException if rendering fails or the template rejects the conversation
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders a conversation with extra template variables, which may override the standard ones (pass
     * {@code tools} as a list of maps, or {@code enable_thinking} as a boolean).
     *
     * @param messages            the conversation so far, oldest turn first
     * @param addGenerationPrompt whether to end with the header that opens the assistant's reply
     * @param extraVariables      variables put after the standard ones, by name; the fallback format ignores them
     * @return the prompt text, special tokens written as text
     * @throws ChatTemplateException if rendering fails or the template rejects the conversation
     * @throws IllegalArgumentException if an extra variable is not null, a string, boolean, number, list or map
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extraVariables) {
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(extraVariables, "extraVariables");
        if (loadError != null) {
            throw new ChatTemplateException(loadError, false, null);
        }
        if (template == null) {
            return renderFallback(messages, addGenerationPrompt);
        }
        List<Object> messageValues = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            messageValues.add(m.asTemplateValue());
        }
        boolean gemma4 = source.contains(ToolCallFormat.GEMMA4_TEMPLATE_MARK);
        if (gemma4 && !source.contains(GEMMA4_OPENAI_TOOL_RESULTS)) {
            messageValues = gemma4ToolResponses(messageValues);
        }
        Map<String, Object> variables = new LinkedHashMap<>();
        variables.put("messages", messageValues);
        variables.put("add_generation_prompt", addGenerationPrompt);
        variables.put("bos_token", bosToken);
        variables.put("eos_token", eosToken);
        variables.put("tools", null);
        variables.put("documents", null);
        variables.putAll(defaults);
        variables.putAll(extraVariables);
        try {
            String prompt = template.render(variables, clock);
            if (gemma4 && addGenerationPrompt && prompt.endsWith("<turn|>\n")) {
                prompt += "<|turn>model\n";
            }
            return prompt;
        } catch (TemplateRaisedException e) {
            throw new ChatTemplateException("the chat template rejected the conversation: " + e.templateMessage(),
                    true, e);
        } catch (JinjaException e) {
            throw new ChatTemplateException("chat template failed: " + e.getMessage(), false, e);
        }
    }

    /**
     * llama.cpp's reading of older Gemma 4 templates, which know tool results only as {@code tool_responses} on the
     * assistant's turn: each assistant turn with tool calls takes the {@code tool} turns after it as its responses,
     * and the text of a plain assistant turn after those as its content (its own text is dropped, as there).
     */
    private static List<Object> gemma4ToolResponses(List<Object> messages) {
        List<Object> out = new ArrayList<>();
        int i = 0;
        while (i < messages.size()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) messages.get(i++);
            if (!"assistant".equals(m.get("role")) || !(m.get("tool_calls") instanceof List<?> calls) || calls.isEmpty()) {
                out.add(m);
                continue;
            }
            List<Object> responses = new ArrayList<>();
            while (i < messages.size() && "tool".equals(((Map<?, ?>) messages.get(i)).get("role"))) {
                Map<?, ?> result = (Map<?, ?>) messages.get(i++);
                String name = "";
                if (responses.size() < calls.size() && calls.get(responses.size()) instanceof Map<?, ?> call
                        && call.get("function") instanceof Map<?, ?> function && function.get("name") instanceof String n) {
                    name = n;
                }
                if (name.isEmpty() && result.get("tool_call_id") instanceof String id) {
                    name = id;
                }
                Map<String, Object> response = new LinkedHashMap<>();
                response.put("name", name);
                response.put("response", jsonOrText(result.get("content")));
                responses.add(response);
            }
            Map<String, Object> merged = new LinkedHashMap<>();
            merged.put("role", "assistant");
            merged.put("tool_calls", calls);
            if (!responses.isEmpty()) {
                merged.put("tool_responses", responses);
            }
            if (i < messages.size() && messages.get(i) instanceof Map<?, ?> next && "assistant".equals(next.get("role"))
                    && !(next.get("tool_calls") instanceof List<?> c && !c.isEmpty())
                    && next.get("content") instanceof String text && !text.isEmpty()) {
                merged.put("content", text);
                i++;
            }
            out.add(merged);
        }
        return out;
    }

    /** A tool result's text as the JSON value it spells, or the text itself when it is not JSON. */
    private static Object jsonOrText(Object content) {
        if (!(content instanceof String text)) {
            return content;
        }
        try {
            return JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readValue(text, Object.class);
        } catch (java.io.IOException notJson) {
            return text;
        }
    }

    private static String renderFallback(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder();
        for (ChatMessage m : messages) {
            out.append(Character.toUpperCase(m.role().charAt(0))).append(m.role().substring(1))
                    .append(": ").append(m.content()).append('\n');
        }
        if (addGenerationPrompt) {
            out.append("Assistant:");
        }
        return out.toString();
    }

    /** {@return true when the model has no template and the plain fallback format is used} */
    public boolean isFallback() {
        return source == null;
    }

    /** {@return why the model's template cannot be rendered, when it could not be parsed; empty otherwise} */
    public Optional<String> loadError() {
        return Optional.ofNullable(loadError);
    }

    /**
     * {@return the Jinja source, empty for the fallback format; present for a model's template that could not be
     * parsed}
     */
    public Optional<String> source() {
        return Optional.ofNullable(source);
    }

    /** {@return the BOS token's text, which the template sees as {@code bos_token}; empty when unknown} */
    public String bosToken() {
        return bosToken;
    }

    /** {@return the EOS token's text, which the template sees as {@code eos_token}; empty when unknown} */
    public String eosToken() {
        return eosToken;
    }

    private static String tokenText(GgufMetadata metadata, String idKey) {
        if (!metadata.contains(idKey) || !metadata.contains(TOKENS_KEY)) {
            return "";
        }
        long id = metadata.getLong(idKey);
        String[] tokens = metadata.getStringArray(TOKENS_KEY);
        return id >= 0 && id < tokens.length ? tokens[(int) id] : "";
    }
}
