package dev.vellama.runtime.chat;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.runtime.grammar.Grammar;

/**
 * How a model family writes tool calls, as llama.cpp's chat parsers read them: the grammar that makes the model
 * write calls to the given tools (arguments held to each tool's parameter schema), and the reading of a reply back
 * into words and {@link ToolCall}s. The format follows the chat template: templates that know tools render them
 * (the {@code tools} variable, {@code tool_calls} on assistant turns, {@code role: tool} answers); for a template
 * that knows none, {@link #GENERIC} tells the model about the tools in the system message and asks for JSON.
 */
public enum ToolCallFormat {
    /** Qwen 2.5 and 3, Hermes 2 Pro: {@code <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>}. */
    HERMES("arguments"),
    /** Llama 3.1 to 3.3 with their own templates: the reply is {@code {"name": ..., "parameters": {...}}}. */
    LLAMA_3("parameters"),
    /** Mistral Nemo and later: {@code [TOOL_CALLS][{"name": ..., "arguments": {...}, "id": "nine alnum"}]}. */
    MISTRAL("arguments"),
    /** Any other template: {@code {"tool_call": {"name": ..., "arguments": {...}}}} or {@code {"response": "..."}}. */
    GENERIC("arguments"),
    /**
     * gpt-oss's harmony: a call is a message on the {@code commentary} channel to {@code functions.NAME}, its body the
     * arguments. Its markers are control tokens no text shows, so calls are read from the tokens
     * ({@link ReasoningSplitter#toolCalls()}), and no grammar holds them.
     */
    HARMONY("arguments"),
    /**
     * GLM-4.5 to 4.7: {@code <tool_call>NAME} then {@code <arg_key>K</arg_key><arg_value>V</arg_value>} pairs and
     * {@code </tool_call>}; a value that reads as JSON (a number, true, an object...) is kept as such, any other text is
     * a string. Read back only: no grammar holds these calls yet.
     */
    GLM("arguments"),
    /**
     * Gemma 4: {@code <|tool_call>call:NAME{key:value,...}<tool_call|>}, one after another; values are Gemma's own
     * notation, strings between {@code <|"|>} markers (no escapes inside), keys bare, numbers, {@code true},
     * {@code false}, {@code null}, lists and dicts as in JSON. Read back into JSON as llama.cpp reads them; no
     * grammar holds these calls yet.
     */
    GEMMA4("arguments");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern HERMES_CALL = Pattern.compile("<tool_call>\\s*(.*?)\\s*(?:</tool_call>|$)", Pattern.DOTALL);
    private static final Pattern GLM_CALL = Pattern.compile("<tool_call>([^<\\n]*)(.*?)</tool_call>", Pattern.DOTALL);
    private static final Pattern GLM_ARGUMENT = Pattern.compile("<arg_key>(.*?)</arg_key>\\s*<arg_value>(.*?)</arg_value>", Pattern.DOTALL);
    /** What marks a Gemma 4 template, as llama.cpp tells it: the template writes calls that open so. */
    static final String GEMMA4_TEMPLATE_MARK = "'" + Gemma4Notation.OPEN + "call:'";
    private static final String HERMES_OPEN = "<tool_call>";

    private final String argumentsKey;

    ToolCallFormat(String argumentsKey) {
        this.argumentsKey = argumentsKey;
    }

    /**
     * The format a chat template's model writes, judged from the template's text as llama.cpp does.
     *
     * @param template the model's chat template; the fallback format has no text and gets {@link #GENERIC}
     * @return {@link #HARMONY} for a template that writes {@code <|channel|>}, {@link #GEMMA4} for
     *         {@code '<|tool_call>call:'}, {@link #GLM} for {@code <arg_key>},
     *         {@link #HERMES} for one that writes
     *         {@code <tool_call>}, {@link #MISTRAL} for
     *         {@code [TOOL_CALLS]}, {@link #LLAMA_3} for a Llama 3 template that knows tools, else {@link #GENERIC}
     */
    public static ToolCallFormat of(ChatTemplate template) {
        String source = template.source().orElse("");
        if (source.contains("<|channel|>")) {
            return HARMONY;
        }
        if (source.contains(GEMMA4_TEMPLATE_MARK)) {
            return GEMMA4;
        }
        if (source.contains("<arg_key>")) {
            return GLM;
        }
        if (source.contains("<tool_call>")) {
            return HERMES;
        }
        if (source.contains("[TOOL_CALLS]")) {
            return MISTRAL;
        }
        if (source.contains("<|start_header_id|>") && (source.contains("ipython") || source.contains("tool_calls"))
                && source.contains("tools")) {
            return LLAMA_3;
        }
        return GENERIC;
    }

    /**
     * The conversation as this format's template should see it: for {@link #GENERIC}, the tools and the JSON to
     * answer with are described in the system message, and earlier calls and answers are written as that JSON.
     *
     * @param messages the conversation as the caller gave it
     * @param tools    the tools offered; none leaves the conversation as it is
     * @param choice   whether a call is forced; {@link ToolChoice#NONE} leaves the conversation as it is
     * @return {@code messages} itself where nothing changes, otherwise a new list (the system message extended, or
     *         one added first)
     */
    public List<ChatMessage> prepare(List<ChatMessage> messages, List<Tool> tools, ToolChoice choice) {
        if (this != GENERIC || tools.isEmpty() || choice.mode().equals("none")) {
            return messages;
        }
        List<ChatMessage> out = new ArrayList<>();
        StringBuilder about = new StringBuilder("You can call these tools:\n");
        for (Tool t : tools) {
            about.append(json(t.asTemplateValue())).append('\n');
        }
        about.append(choice.forcesCall() ? "Respond with a JSON object {\"tool_call\": {\"name\": ..., \"arguments\": {...}}}."
                : "Respond with a JSON object: either {\"tool_call\": {\"name\": ..., \"arguments\": {...}}} to call a tool, "
                        + "or {\"response\": \"...\"} to answer.");
        boolean told = false;
        for (ChatMessage m : messages) {
            if (m.role().equals("system") && !told) {
                out.add(new ChatMessage("system", m.content() + "\n\n" + about));
                told = true;
            } else if (m.role().equals("assistant") && !m.toolCalls().isEmpty()) {
                ToolCall c = m.toolCalls().get(0);
                out.add(new ChatMessage("assistant", "{\"tool_call\": {\"name\": " + json(c.name()) + ", \"arguments\": "
                        + c.arguments() + "}}"));
            } else if (m.role().equals("tool")) {
                out.add(new ChatMessage("tool", "{\"tool_response\": " + json(m.content()) + "}"));
            } else {
                out.add(m);
            }
        }
        if (!told) {
            out.add(0, new ChatMessage("system", about.toString()));
        }
        return out;
    }

    /**
     * The template variables that carry the tools.
     *
     * @param tools the tools offered
     * @return a new mutable map, to pass to {@link ChatTemplate#render(java.util.List, boolean, java.util.Map)}:
     *         {@code tools} in OpenAI's shape, or empty for {@link #GENERIC} (which tells of them in the system
     *         message) or when there are no tools
     */
    public Map<String, Object> templateVariables(List<Tool> tools) {
        Map<String, Object> vars = new LinkedHashMap<>();
        if (this != GENERIC && !tools.isEmpty()) {
            vars.put("tools", tools.stream().map(Tool::asTemplateValue).toList());
        }
        return vars;
    }

    /**
     * The grammar the reply must follow, or null where it is free: with {@link ToolChoice#REQUIRED} or a named
     * function, calls (to that function only, when named) in this format; with {@link ToolChoice#AUTO} the same
     * calls, but held only from a {@link #triggers trigger} on (a lazy grammar: the reply may be words, and a call it
     * starts is kept well-formed); Mistral's auto reply is free, read afterwards; {@link #GENERIC}'s reply is always
     * one of its two JSON objects.
     *
     * @param tools  the tools offered
     * @param choice whether and which call is forced
     * @return the grammar, to apply from the first token or from a trigger on; null when the reply is free
     * @throws IllegalArgumentException if {@code choice} names a function that is not among {@code tools}
     * @throws dev.vellama.runtime.grammar.GrammarException when a tool's parameters are a schema the converter
     *                                                      cannot honour, naming the keyword
     */
    public Grammar grammar(List<Tool> tools, ToolChoice choice) {
        if (tools.isEmpty() || choice.mode().equals("none") || this == HARMONY || this == GLM || this == GEMMA4
                || !choice.forcesCall() && this != GENERIC && triggers(choice).isEmpty()) {
            return null;
        }
        List<Tool> callable = tools;
        if (choice.mode().equals("function")) {
            callable = tools.stream().filter(t -> t.name().equals(choice.functionName())).toList();
            if (callable.isEmpty()) {
                throw new IllegalArgumentException("tool_choice names '" + choice.functionName() + "', which is not among the tools");
            }
        }
        Set<String> lines = new LinkedHashSet<>();
        List<String> calls = new ArrayList<>();
        for (int i = 0; i < callable.size(); i++) {
            Tool t = callable.get(i);
            String args = "tool" + i + "-args";
            for (String line : Grammar.jsonSchemaToGbnf(t.parametersOrAny(), args).split("\n")) {
                lines.add(line);
            }
            String call = "\"{\" space \"\\\"name\\\"\" space \":\" space " + literal(json(t.name())) + " space \",\" space "
                    + literal(json(argumentsKey)) + " space \":\" space " + args;
            if (this == MISTRAL) {
                call += " \",\" space \"\\\"id\\\"\" space \":\" space \"\\\"\" [a-zA-Z0-9]{9} \"\\\"\" space";
            }
            lines.add("tool" + i + "-call ::= " + call + " \"}\" space");
            calls.add("tool" + i + "-call");
        }
        String call = "call ::= " + String.join(" | ", calls);
        String root = switch (this) {
            case HERMES -> "root ::= \"<tool_call>\\n\" call \"</tool_call>\" (\"\\n<tool_call>\\n\" call \"</tool_call>\")*";
            case LLAMA_3 -> "root ::= call";
            case MISTRAL -> "root ::= \"[\" call (\",\" space call)* \"]\"";
            case GENERIC -> choice.forcesCall()
                    ? "root ::= \"{\" space \"\\\"tool_call\\\"\" space \":\" space call \"}\" space"
                    : "root ::= \"{\" space (\"\\\"tool_call\\\"\" space \":\" space call | \"\\\"response\\\"\" space \":\" space string) \"}\" space";
            case HARMONY, GLM, GEMMA4 -> throw new IllegalStateException(this + " calls have no grammar");
        };
        if (this == GENERIC) {
            for (String line : Grammar.jsonSchemaToGbnf(Map.of("type", "string"), "response-text").split("\n")) {
                lines.add(line);
            }
        }
        return Grammar.parse(root + "\n" + call + "\n" + String.join("\n", lines) + "\n");
    }

    /**
     * Whether a reply under {@code choice} is held to the tools' {@link #grammar}: from the first token when it must
     * call (and always in the generic format, whose calls have no marker), or from a {@link #triggers trigger} on;
     * not for Mistral's free auto reply.
     *
     * @param choice the tool choice of the request
     * @return true when the reply needs the grammar
     */
    public boolean constrains(ToolChoice choice) {
        return this != HARMONY && this != GLM && this != GEMMA4 && (choice.forcesCall() || this == GENERIC || !triggers(choice).isEmpty());
    }

    /**
     * Where the {@link #grammar} starts holding, for a lazy grammar (empty: from the first token): with
     * {@link ToolChoice#AUTO}, Hermes' {@code <tool_call>} and a Llama 3 reply's <code>{"name"</code>; Mistral's call
     * opens with a control token no text shows, so its auto reply stays free.
     *
     * @param choice the tool choice of the request
     * @return the texts whose appearance starts the grammar; empty when it holds from the first token or not at all
     */
    public List<String> triggers(ToolChoice choice) {
        if (choice.forcesCall() || !choice.mode().equals("auto")) {
            return List.of();
        }
        return switch (this) {
            case HERMES -> List.of(HERMES_OPEN);
            case LLAMA_3 -> List.of("{\"name\"");
            case MISTRAL, GENERIC, HARMONY, GLM, GEMMA4 -> List.of();
        };
    }

    /**
     * The text that opens a call anywhere in a reply, where the words before it are the answer: Hermes' and GLM's
     * {@code <tool_call>}, Gemma 4's {@code <|tool_call>}. A stream can hand out the words up to it.
     *
     * @return the opening text, or null for the formats whose call is the whole reply (or is read from the tokens)
     */
    public String callOpening() {
        return switch (this) {
            case HERMES, GLM -> HERMES_OPEN;
            case GEMMA4 -> Gemma4Notation.OPEN;
            case LLAMA_3, MISTRAL, GENERIC, HARMONY -> null;
        };
    }

    /**
     * The prompt's last words for a reply that must call tools: Mistral's {@code [TOOL_CALLS]} is a control token no
     * grammar can make the model write, so it is given; other formats need nothing.
     *
     * @param choice the tool choice of the request
     * @return the text to append after the rendered prompt; empty when there is none
     */
    public String replyPrefix(ToolChoice choice) {
        return this == MISTRAL && choice.forcesCall() ? "[TOOL_CALLS]" : "";
    }

    /**
     * A reply's text read back into words and tool calls; text that holds no well-formed call is all words.
     *
     * @param text the generated reply, as decoded (special tokens included where they were kept)
     * @return the words and the calls; calls without an id of their own get a fresh one
     */
    public ChatReply parse(String text) {
        return switch (this) {
            case HERMES -> parseHermes(text);
            case LLAMA_3 -> parseLlama3(text);
            case MISTRAL -> parseMistral(text);
            case GENERIC -> parseGeneric(text);
            case HARMONY -> new ChatReply(text, List.of()); // its calls are in the tokens, not the text
            case GLM -> parseGlm(text);
            case GEMMA4 -> parseGemma4(text);
        };
    }

    /** The text as one whole JSON value, or null when it is not one (then GLM meant it as a string). */
    private static JsonNode jsonOrNull(String text) {
        try {
            JsonNode n = JSON.reader().with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .readTree(text);
            return n == null || n.isMissingNode() ? null : n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException notJson) {
            return null;
        }
    }

    private ChatReply parseGlm(String text) {
        List<ToolCall> calls = new ArrayList<>();
        StringBuilder words = new StringBuilder();
        Matcher m = GLM_CALL.matcher(text);
        int last = 0;
        while (m.find()) {
            Matcher pair = GLM_ARGUMENT.matcher(m.group(2));
            com.fasterxml.jackson.databind.node.ObjectNode args = JSON.createObjectNode();
            while (pair.find()) {
                JsonNode json = jsonOrNull(pair.group(2));
                if (json != null) {
                    args.set(pair.group(1).strip(), json);
                } else {
                    args.put(pair.group(1).strip(), pair.group(2));
                }
            }
            words.append(text, last, m.start());
            last = m.end();
            calls.add(new ToolCall(newId("call_"), m.group(1).strip(), args.toString()));
        }
        words.append(text.substring(last));
        return new ChatReply(calls.isEmpty() ? text : words.toString().strip(), calls);
    }

    /**
     * Gemma 4's calls, each read into JSON as llama.cpp does; the words are the rest of the text as written (not
     * stripped). A call that does not read (a bad name or value, or no {@code <tool_call|>} before more text) stays
     * in the words.
     */
    private ChatReply parseGemma4(String text) {
        List<ToolCall> calls = new ArrayList<>();
        StringBuilder words = new StringBuilder();
        int last = 0;
        int from = 0;
        int open;
        while ((open = text.indexOf(Gemma4Notation.OPEN, from)) >= 0) {
            from = open + Gemma4Notation.OPEN.length();
            Gemma4Notation call = new Gemma4Notation(text, from);
            String[] nameAndArguments = call.readCall();
            if (nameAndArguments == null) {
                continue;
            }
            words.append(text, last, open);
            last = call.end();
            from = last;
            calls.add(new ToolCall(newId("call_"), nameAndArguments[0], nameAndArguments[1]));
        }
        words.append(text.substring(last));
        return new ChatReply(calls.isEmpty() ? text : words.toString(), calls);
    }

    private ChatReply parseHermes(String text) {
        List<ToolCall> calls = new ArrayList<>();
        StringBuilder words = new StringBuilder();
        Matcher m = HERMES_CALL.matcher(text);
        int last = 0;
        while (m.find()) {
            ToolCall call = call(m.group(1), "call_");
            if (call == null) {
                continue;
            }
            words.append(text, last, m.start());
            last = m.end();
            calls.add(call);
        }
        words.append(text.substring(last));
        return new ChatReply(calls.isEmpty() ? text : words.toString().strip(), calls);
    }

    private ChatReply parseLlama3(String text) {
        String t = text.strip();
        if (t.startsWith("<|python_tag|>")) {
            t = t.substring("<|python_tag|>".length()).strip();
        }
        ToolCall call = t.startsWith("{") ? call(t, "call_") : null;
        return call == null ? new ChatReply(text, List.of()) : new ChatReply("", List.of(call));
    }

    private ChatReply parseMistral(String text) {
        String t = text.strip();
        if (t.startsWith("[TOOL_CALLS]")) {
            t = t.substring("[TOOL_CALLS]".length()).strip();
        }
        if (!t.startsWith("[")) {
            return new ChatReply(text, List.of());
        }
        List<ToolCall> calls = new ArrayList<>();
        try {
            for (JsonNode n : JSON.readTree(t)) {
                ToolCall c = call(n, "");
                if (c == null) {
                    return new ChatReply(text, List.of());
                }
                calls.add(c);
            }
        } catch (JacksonException e) {
            return new ChatReply(text, List.of());
        }
        return calls.isEmpty() ? new ChatReply(text, List.of()) : new ChatReply("", calls);
    }

    private ChatReply parseGeneric(String text) {
        JsonNode n;
        try {
            n = JSON.readTree(text.strip());
        } catch (JacksonException e) {
            return new ChatReply(text, List.of());
        }
        if (n != null && n.has("tool_call")) {
            ToolCall c = call(n.get("tool_call"), "call_");
            if (c != null) {
                return new ChatReply("", List.of(c));
            }
        }
        if (n != null && n.path("response").isTextual()) {
            return new ChatReply(n.get("response").asText(), List.of());
        }
        return new ChatReply(text, List.of());
    }

    private ToolCall call(String json, String idPrefix) {
        try {
            return call(JSON.readTree(json), idPrefix);
        } catch (JacksonException e) {
            return null;
        }
    }

    /** {"name": ..., "arguments"/"parameters": {...}} as a call; null when it is not one. */
    private ToolCall call(JsonNode n, String idPrefix) {
        if (n == null || !n.isObject() || !n.path("name").isTextual()) {
            return null;
        }
        JsonNode args = n.has(argumentsKey) ? n.get(argumentsKey) : n.has("arguments") ? n.get("arguments") : n.get("parameters");
        if (args == null) {
            return null;
        }
        String arguments = args.isTextual() ? args.asText() : args.toString();
        String id = n.path("id").isTextual() ? n.get("id").asText() : newId(idPrefix);
        return new ToolCall(id, n.get("name").asText(), arguments);
    }

    /** {@return a fresh call id in OpenAI's form: {@code call_} and 24 letters and digits} */
    static String openAiId() {
        return HERMES.newId("call_");
    }

    /** A fresh call id: OpenAI's {@code call_} and 24 letters and digits; Mistral's nine letters and digits. */
    private String newId(String prefix) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        int n = this == MISTRAL ? 9 : 24;
        StringBuilder id = new StringBuilder(this == MISTRAL ? "" : prefix);
        for (int i = 0; i < n; i++) {
            id.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return id.toString();
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        }
    }

    /** A GBNF literal for {@code text} (quotes and backslashes escaped). */
    private static String literal(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
