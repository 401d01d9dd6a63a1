package dev.vellama.server;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.ContextOverflowException;
import dev.vellama.runtime.GeneratedToken;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.QueueFullException;
import dev.vellama.runtime.StopReason;
import dev.vellama.runtime.TokenLogprob;
import dev.vellama.VellamaException;
import dev.vellama.runtime.chat.ChatMessage;
import dev.vellama.runtime.chat.ChatReply;
import dev.vellama.runtime.chat.ReasoningFormat;
import dev.vellama.runtime.chat.ReasoningSplitter;
import dev.vellama.runtime.chat.Tool;
import dev.vellama.runtime.chat.ToolCall;
import dev.vellama.runtime.chat.ToolCallFormat;
import dev.vellama.runtime.chat.ToolChoice;
import dev.vellama.runtime.grammar.Grammar;
import dev.vellama.runtime.grammar.GrammarException;
import dev.vellama.runtime.tokenizer.Tokenizer;
import io.helidon.http.HeaderNames;
import io.helidon.http.sse.SseEvent;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.sse.SseSink;

/**
 * {@code POST /v1/chat/completions} and {@code POST /v1/completions}: the request is read and checked in full
 * before anything reaches the engine; the prompts go to the engine's slots; the answer is one JSON document, or
 * with {@code stream: true} Server-Sent Events as each token is sampled. A client that goes away mid-stream is
 * noticed at the next token written, and its generations are cancelled (their slots free at the next step).
 */
final class CompletionEndpoints {
    /** Longest the engine may stay silent on a running request before the request fails. */
    private static final long ENGINE_SILENCE_SECONDS = 600;

    private final ServerState state;

    CompletionEndpoints(ServerState state) {
        this.state = state;
    }

    /** The two response shapes: chat ("chat.completion", messages and deltas) and text ("text_completion"). */
    private enum Shape { CHAT, TEXT }

    /**
     * A request read and checked: its prompts, how to sample, and what to send back; {@code tools} is the format
     * the reply's tool calls are read in (null when no calls are read), {@code mustCall} whether it must call.
     */
    private record Job(Shape shape, List<int[]> prompts, GenerationParams params, boolean stream, boolean includeUsage,
                       boolean logprobs, ToolCallFormat tools, boolean mustCall, ReasoningFormat reasoning,
                       boolean reasoningApart, float[] adapterScales) {
        Job(Shape shape, List<int[]> prompts, GenerationParams params, boolean stream, boolean includeUsage, boolean logprobs,
            float[] adapterScales) {
            this(shape, prompts, params, stream, includeUsage, logprobs, null, false, ReasoningFormat.NONE, false, adapterScales);
        }

        /** A splitter of choice {@code i}'s reply into reasoning and answer (all answer where reasoning is not split). */
        ReasoningSplitter splitter(int i, Tokenizer tokenizer) {
            return PreparedChat.splitter(reasoning, prompts.get(i), tokenizer);
        }
    }

    void chat(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        Json j = Json.parse(Json.body(req));
        List<ChatMessage> messages = messages(j);
        List<Tool> tools = tools(j);
        ToolChoice choice = toolChoice(j, tools);
        boolean logprobs = j.bool("logprobs", false);
        int top = (int) j.integer("top_logprobs", 0, 20, 0);
        if (top > 0 && !logprobs) {
            throw ApiException.badField("top_logprobs", "'top_logprobs' needs 'logprobs': true");
        }
        j.bool("parallel_tool_calls", true); // checked; calls in one reply are always allowed
        GenerationParams params = SamplingFields.read(j, top, engine.model().config().vocabSize()).withLogprobs(logprobs);
        Grammar shape = StructuredOutputFields.read(j, state.grammars);
        PreparedChat chat = PreparedChat.of(state, engine.model(), messages, tools, choice, j.node("tools"), shape, params,
                templateVariables(j));
        boolean apart = reasoningApart(j);
        run(req, res, new Job(Shape.CHAT, List.of(chat.prompt()), chat.params(), j.bool("stream", false), includeUsage(j),
                logprobs, chat.format(), choice.forcesCall(), PreparedChat.reasoning(state.template(), apart), apart,
                AdapterEndpoints.requestScales(j, engine)));
    }

    /**
     * {@code POST /apply-template} (llama-server's): the prompt the chat template renders for a chat request's
     * {@code messages}, {@code tools}, {@code tool_choice} and template variables, as {@code {"prompt": ...}},
     * without generating.
     */
    void applyTemplate(ServerRequest req, ServerResponse res) {
        state.engine(); // 503 while loading, 400 for an embedding model
        Json j = Json.parse(Json.body(req));
        List<ChatMessage> messages = messages(j);
        List<Tool> tools = tools(j);
        ToolChoice choice = toolChoice(j, tools);
        String prompt = PreparedChat.render(state, PreparedChat.format(state, choice), messages, tools, choice, templateVariables(j));
        Responses.sendJson(res, 200, Json.MAPPER.createObjectNode().put("prompt", prompt));
    }

    /**
     * Variables for the chat template from the request: llama-server's {@code chat_template_kwargs} (such as
     * {@code enable_thinking}), and OpenAI's {@code reasoning_effort}, which gpt-oss's template reads.
     */
    private static Map<String, Object> templateVariables(Json j) {
        Map<String, Object> vars = new java.util.LinkedHashMap<>();
        JsonNode kwargs = j.node("chat_template_kwargs");
        if (kwargs != null) {
            if (!kwargs.isObject()) {
                throw ApiException.badField("chat_template_kwargs", "'chat_template_kwargs' must be an object");
            }
            vars.putAll(Json.MAPPER.convertValue(kwargs, new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() { }));
        }
        String effort = j.string("reasoning_effort", null);
        if (effort != null) {
            if (!java.util.Set.of("minimal", "low", "medium", "high").contains(effort)) {
                throw ApiException.badField("reasoning_effort", "'reasoning_effort' must be \"minimal\", \"low\", \"medium\" or \"high\"");
            }
            vars.put("reasoning_effort", effort);
        }
        return vars;
    }

    /**
     * llama-server's {@code reasoning_format}: {@code auto} (the default) and {@code deepseek} hand the reasoning out
     * as {@code reasoning_content}, apart from the answer; {@code none} leaves it in the answer as the model wrote it.
     */
    private static boolean reasoningApart(Json j) {
        return switch (j.string("reasoning_format", "auto")) {
            case "auto", "deepseek" -> true;
            case "none" -> false;
            default -> throw ApiException.badField("reasoning_format", "'reasoning_format' must be \"auto\", \"deepseek\" or \"none\"");
        };
    }

    /** The grammar of the calls a reply must make, from the cache when these tools came before; null when free. */
    static Grammar toolGrammar(GrammarCache grammars, ToolCallFormat format, List<Tool> tools, ToolChoice choice, JsonNode toolsJson) {
        if (!format.constrains(choice)) {
            return null;
        }
        try {
            return grammars.get("tools:" + format + ":" + choice + ":" + toolsJson, () -> format.grammar(tools, choice));
        } catch (GrammarException e) {
            throw ApiException.badField("tools", e.getMessage());
        }
    }

    /** {@code tools}: OpenAI's function tools, {@code {"type": "function", "function": {name, description, parameters}}}. */
    static List<Tool> tools(Json j) {
        return ToolFields.tools(j.node("tools"), (t, at) -> {
            if (!t.isObject() || !"function".equals(t.path("type").asText()) || !t.path("function").isObject()) {
                throw ApiException.badField(at, "'" + at + "' must be {\"type\": \"function\", \"function\": {...}}");
            }
            return ToolFields.tool(t.get("function"), "parameters", false, at + ".function");
        });
    }

    /** {@code tool_choice}: none, auto, required, or {@code {"type": "function", "function": {"name": ...}}}. */
    private static ToolChoice toolChoice(Json j, List<Tool> tools) {
        JsonNode c = j.node("tool_choice");
        if (c == null) {
            return tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
        }
        ToolChoice choice;
        if (c.isTextual()) {
            choice = switch (c.asText()) {
                case "none" -> ToolChoice.NONE;
                case "auto" -> ToolChoice.AUTO;
                case "required" -> ToolChoice.REQUIRED;
                default -> throw ApiException.badField("tool_choice", "'tool_choice' must be none, auto, required or a function, not '" + c.asText() + "'");
            };
        } else if (c.isObject() && c.path("function").path("name").isTextual()) {
            choice = ToolFields.named(c.get("function").get("name").asText(), tools, "tool_choice");
        } else {
            throw ApiException.badField("tool_choice", "'tool_choice' must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}");
        }
        return ToolFields.checked(choice, tools);
    }

    void completions(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        Json j = Json.parse(Json.body(req));
        if (j.bool("echo", false)) {
            throw ApiException.badField("echo", "'echo' is not supported: the reply never repeats the prompt");
        }
        String suffix = j.string("suffix", "");
        List<int[]> prompts;
        if (suffix.isEmpty()) {
            prompts = prompts(j, engine);
        } else if (j.node("prompt") == null || j.node("prompt").isTextual()) {
            prompts = List.of(insertPrompt(engine, j.string("prompt", ""), suffix));
        } else {
            throw ApiException.badField("prompt", "with a 'suffix', 'prompt' must be one string");
        }
        boolean logprobs = j.has("logprobs");
        int top = (int) j.integer("logprobs", 0, 20, 0);
        GenerationParams params = SamplingFields.read(j, top, engine.model().config().vocabSize()).withLogprobs(logprobs);
        Grammar shape = StructuredOutputFields.read(j, state.grammars);
        if (shape != null) {
            params = params.withGrammar(shape);
        }
        run(req, res, new Job(Shape.TEXT, prompts, params, j.bool("stream", false), includeUsage(j), logprobs,
                AdapterEndpoints.requestScales(j, engine)));
    }

    private static boolean includeUsage(Json j) {
        Json options = j.object("stream_options");
        return options != null && options.bool("include_usage", false);
    }

    /** {@code messages}: a non-empty list of {role, content}; content a string, text parts, or null. */
    private static List<ChatMessage> messages(Json j) {
        JsonNode list = messageList(j.node("messages"));
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String at = "messages[" + i + "]";
            String role = role(m, at);
            List<ToolCall> calls = toolCalls(m.get("tool_calls"), at + ".tool_calls");
            JsonNode callId = m.get("tool_call_id");
            if (callId != null && !callId.isNull() && !callId.isTextual()) {
                throw ApiException.badField(at + ".tool_call_id", "'" + at + ".tool_call_id' must be a string");
            }
            out.add(new ChatMessage(role, content(m.get("content"), at + ".content"), calls,
                    callId == null || callId.isNull() ? null : callId.asText()));
        }
        return out;
    }

    /** A request's {@code messages}, which must be a non-empty list. */
    static JsonNode messageList(JsonNode list) {
        if (list == null) {
            throw ApiException.badField("messages", "'messages' is required");
        }
        if (!list.isArray() || list.isEmpty()) {
            throw ApiException.badField("messages", "'messages' must be a non-empty list of messages");
        }
        return list;
    }

    /** Message {@code at} of a request: an object with a non-empty {@code role}, which is returned. */
    static String role(JsonNode m, String at) {
        if (!m.isObject()) {
            throw ApiException.badField(at, "'" + at + "' must be an object");
        }
        JsonNode role = m.get("role");
        if (role == null || !role.isTextual() || role.asText().isBlank()) {
            throw ApiException.badField(at + ".role", "'" + at + ".role' must be a non-empty string");
        }
        return role.asText();
    }

    /** An assistant turn's {@code tool_calls}: {@code [{id, type: "function", function: {name, arguments}}]}. */
    private static List<ToolCall> toolCalls(JsonNode list, String at) {
        List<ToolCall> out = new ArrayList<>();
        if (list == null || list.isNull()) {
            return out;
        }
        if (!list.isArray()) {
            throw ApiException.badField(at, "'" + at + "' must be a list of tool calls");
        }
        for (int i = 0; i < list.size(); i++) {
            JsonNode c = list.get(i);
            JsonNode f = c.path("function");
            if (!c.path("id").isTextual() || !f.path("name").isTextual() || !f.has("arguments")) {
                throw ApiException.badField(at + "[" + i + "]", "'" + at + "[" + i + "]' must have an id and a function with a name and arguments");
            }
            JsonNode args = f.get("arguments");
            out.add(new ToolCall(c.get("id").asText(), f.get("name").asText(), args.isTextual() ? args.asText() : args.toString()));
        }
        return out;
    }

    /** Message content: absent (empty), a string, or text parts (joined); {@code at} names the field in errors. */
    static String content(JsonNode c, String at) {
        return content(c, at, java.util.Set.of("text"));
    }

    /** Message content whose text parts may be of the given types. */
    static String content(JsonNode c, String at, java.util.Set<String> textTypes) {
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (!c.isArray()) {
            throw ApiException.badField(at, "'" + at + "' must be a string or a list of text parts");
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : c) {
            JsonNode type = part.get("type");
            if (type == null || !textTypes.contains(type.asText()) || !part.path("text").isTextual()) {
                throw ApiException.badField(at, "'" + at + "' may only hold text parts (" + String.join(", ", new java.util.TreeSet<>(textTypes))
                        + ") with a string 'text': the served model reads text only");
            }
            text.append(part.get("text").asText());
        }
        return text.toString();
    }

    /**
     * A prompt for the text between {@code prefix} and {@code suffix} (fill in the middle, as ollama offers it on
     * {@code /api/generate} and {@code /v1/completions}): in the layout of ollama's code templates,
     * {@code <|fim_prefix|>prefix<|fim_suffix|>suffix<|fim_middle|>} with the model's tokens; a 400 naming
     * {@code suffix} for a model without them.
     */
    static int[] insertPrompt(BatchEngine engine, String prefix, String suffix) {
        dev.vellama.runtime.tokenizer.Tokenizer tokenizer = engine.model().tokenizer();
        if (!tokenizer.fillInMiddle().supported()) {
            throw ApiException.badField("suffix", "the model does not support insert: its vocabulary has no "
                    + "fill-in-the-middle tokens");
        }
        return new dev.vellama.runtime.InfillPrompt(prefix, suffix, List.of(), "").tokens(tokenizer,
                new dev.vellama.runtime.InfillPrompt.Limits(engine.batchSize(), -1, engine.slotContext(), false, false));
    }

    /** {@code prompt}: a string, a list of strings, a list of token ids, or a list of such lists. */
    static List<int[]> prompts(Json j, BatchEngine engine) {
        JsonNode p = j.node("prompt");
        if (p == null) {
            throw ApiException.badField("prompt", "'prompt' is required");
        }
        List<int[]> out = new ArrayList<>();
        if (p.isTextual()) {
            out.add(engine.model().completionPrompt(p.asText()));
        } else if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
            out.add(ids(p, "prompt"));
        } else if (p.isArray() && !p.isEmpty()) {
            for (int i = 0; i < p.size(); i++) {
                JsonNode e = p.get(i);
                if (e.isTextual()) {
                    out.add(engine.model().completionPrompt(e.asText()));
                } else if (e.isArray()) {
                    out.add(ids(e, "prompt[" + i + "]"));
                } else {
                    throw ApiException.badField("prompt", "'prompt' must be a string, a list of strings or token ids");
                }
            }
        } else {
            throw ApiException.badField("prompt", "'prompt' must be a non-empty string, list of strings or token ids");
        }
        if (out.size() > engine.slotCount() * 4) {
            throw ApiException.badField("prompt", "at most " + engine.slotCount() * 4 + " prompts per request");
        }
        return out;
    }

    private static int[] ids(JsonNode list, String at) {
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = list.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                throw ApiException.badField(at, "'" + at + "' must hold token ids (integers)");
            }
            ids[i] = e.asInt();
        }
        return ids;
    }

    /** Submits the prompts, then answers with one document or a stream. */
    private void run(ServerRequest req, ServerResponse res, Job job) {
        BatchEngine engine = state.engine();
        TokenChannel channel = new TokenChannel();
        List<BatchEngine.Request> running = channel.submit(engine, job.prompts(), job.params(),
                job.shape() == Shape.CHAT ? "messages" : "prompt", -1, job.adapterScales());
        String id = (job.shape() == Shape.CHAT ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        long created = Instant.now().getEpochSecond();
        Tokenizer tokenizer = engine.model().tokenizer();
        TokenChannel.answer(running, () -> {
            if (job.stream()) {
                stream(req, res, job, channel, running, id, created, tokenizer);
            } else {
                GenerationResult[] results = awaitAll(channel, job.prompts().size());
                RequestLog.of(req).tokens(usage(results).path("total_tokens").asInt());
                Responses.sendJson(res, 200, whole(job, results, id, created, tokenizer));
            }
        });
    }

    /** What the engine refused at submit, as the client's error. */
    static ApiException refusal(RuntimeException e, String param) {
        if (e instanceof QueueFullException) {
            return new ApiException(503, "server_error", "queue_full", null, e.getMessage());
        }
        if (e instanceof ContextOverflowException) {
            return new ApiException(400, "invalid_request_error", "context_length_exceeded", param, e.getMessage());
        }
        if (e instanceof VellamaException) {
            return ApiException.badField(param, e.getMessage());
        }
        return new ApiException(500, "server_error", "internal_error", null, "the request failed: " + e.getMessage());
    }

    private static GenerationResult[] awaitAll(TokenChannel channel, int count) throws InterruptedException {
        GenerationResult[] results = new GenerationResult[count];
        int done = 0;
        while (done < count) {
            TokenChannel.Event e = channel.take(ENGINE_SILENCE_SECONDS);
            if (e.error() != null) {
                throw new ApiException(500, "server_error", "engine_error", null, "generation failed: " + e.error().getMessage());
            }
            if (e.result() != null) {
                results[e.index()] = e.result();
                done++;
            }
        }
        return results;
    }

    private void stream(ServerRequest req, ServerResponse res, Job job, TokenChannel channel,
            List<BatchEngine.Request> running, String id, long created, Tokenizer tokenizer) throws InterruptedException {
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        int total = 0;
        int ended = 0;
        GenerationResult[] results = new GenerationResult[job.prompts().size()];
        // harmony's calls are read from its tokens by the splitter, other formats' from the text
        boolean harmonyCalls = job.tools() == ToolCallFormat.HARMONY;
        ToolReplyStream calls = job.tools() != null && !harmonyCalls ? new ToolReplyStream(job.tools(), job.mustCall()) : null;
        ReasoningSplitter[] splitters = new ReasoningSplitter[results.length];
        for (int i = 0; i < splitters.length; i++) {
            splitters[i] = job.splitter(i, tokenizer);
        }
        SseSink sink = res.sink(SseSink.TYPE);
        try {
            if (job.shape() == Shape.CHAT) {
                emit(sink, chunk(job, id, created, 0, "assistant", "", null, null));
            }
            while (ended < results.length) {
                TokenChannel.Event e = channel.take(ENGINE_SILENCE_SECONDS);
                if (e.error() != null) {
                    // the status is sent; all that is left is to say so in the stream and stop
                    emit(sink, Responses.error(500, "server_error", "engine_error", null, "generation failed: " + e.error().getMessage()));
                    running.forEach(BatchEngine.Request::cancel);
                    return;
                }
                if (e.token() != null) {
                    GeneratedToken t = e.token();
                    boolean withLogprobs = job.logprobs() && t.id() >= 0;
                    ReasoningSplitter.Delta split = splitters[e.index()].accept(t.id(), t.text());
                    if (!split.reasoning().isEmpty() && job.reasoningApart()) {
                        emit(sink, reasoningChunk(job, id, created, e.index(), split.reasoning()));
                    }
                    String answer = job.reasoningApart() ? split.content() : split.reasoning() + split.content();
                    String text = calls != null ? calls.accept(answer) : answer;
                    if (text.isEmpty() && !withLogprobs) {
                        continue;
                    }
                    JsonNode lp = withLogprobs ? logprobs(job.shape(), List.of(t), tokenizer) : null;
                    emit(sink, chunk(job, id, created, e.index(), null, text, lp, null));
                } else {
                    GenerationResult r = e.result();
                    results[e.index()] = r;
                    ended++;
                    total += r.promptTokens().length + r.tokens().size();
                    String finish = finishReason(r.stopReason());
                    ReasoningSplitter.Delta held = splitters[e.index()].finish();
                    if (!held.reasoning().isEmpty() && job.reasoningApart()) {
                        emit(sink, reasoningChunk(job, id, created, e.index(), held.reasoning()));
                    }
                    String heldAnswer = job.reasoningApart() ? held.content() : held.reasoning() + held.content();
                    String heldContent = calls != null ? calls.accept(heldAnswer) : heldAnswer;
                    if (!heldContent.isEmpty()) {
                        emit(sink, chunk(job, id, created, e.index(), null, heldContent, null, null));
                    }
                    if (calls != null) {
                        ChatReply reply = calls.reply();
                        String rest = calls.unsentContent(reply);
                        if (!rest.isEmpty()) {
                            emit(sink, chunk(job, id, created, e.index(), null, rest, null, null));
                        }
                        for (int c = 0; c < reply.toolCalls().size(); c++) {
                            emit(sink, toolCallChunk(job, id, created, e.index(), c, reply.toolCalls().get(c)));
                        }
                        finish = reply.toolCalls().isEmpty() ? finish : "tool_calls";
                    }
                    if (harmonyCalls) {
                        List<ToolCall> made = splitters[e.index()].toolCalls();
                        for (int c = 0; c < made.size(); c++) {
                            emit(sink, toolCallChunk(job, id, created, e.index(), c, made.get(c)));
                        }
                        finish = made.isEmpty() ? finish : "tool_calls";
                    }
                    ObjectNode end = chunk(job, id, created, e.index(), null, null, null, finish);
                    if (results.length == 1) { // llama-server's speeds ride on the last chunk
                        end.set("timings", LlamaServerEndpoints.timings(r));
                    }
                    emit(sink, end);
                }
            }
            if (job.includeUsage()) {
                ObjectNode last = envelope(job, id, created);
                last.putArray("choices");
                last.set("usage", usage(results));
                emit(sink, last);
            }
            send(sink, SseEvent.create("[DONE]"));
            RequestLog.of(req).tokens(total);
        } catch (ClientGone gone) {
            // the client went away: free its slots at the next step
            running.forEach(BatchEngine.Request::cancel);
            RequestLog.of(req).tokens(total).disconnected();
        } finally {
            close(sink);
        }
    }

    /** Ends a stream; a client that has gone is told nothing more. */
    static void close(SseSink sink) {
        try {
            sink.close();
        } catch (RuntimeException alreadyGone) {
            // nothing is left to tell a client that has gone
        }
    }

    static void emit(SseSink sink, JsonNode json) {
        send(sink, SseEvent.create(Responses.text(json)));
    }

    /** Writing to a client that closed its connection fails (how exactly depends on when): it is gone. */
    private static void send(SseSink sink, SseEvent event) {
        try {
            sink.emit(event);
        } catch (RuntimeException e) {
            throw new ClientGone(e);
        }
    }


    private ObjectNode envelope(Job job, String id, long created) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", id);
        o.put("object", job.shape() == Shape.CHAT ? (job.stream() ? "chat.completion.chunk" : "chat.completion")
                : "text_completion");
        o.put("created", created);
        o.put("model", state.modelId());
        o.put("system_fingerprint", "vellama");
        return o;
    }

    /**
     * One streamed event for choice {@code index}: in chat a {@code delta} (the role first, then content, empty at
     * the end), in text completions the {@code text}.
     */
    private ObjectNode chunk(Job job, String id, long created, int index, String role, String text, JsonNode logprobs,
            String finish) {
        ObjectNode o = envelope(job, id, created);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", index);
        if (job.shape() == Shape.CHAT) {
            ObjectNode delta = choice.putObject("delta");
            if (role != null) {
                delta.put("role", role);
            }
            if (text != null) {
                delta.put("content", text);
            }
        } else {
            choice.put("text", text == null ? "" : text);
        }
        choice.set("logprobs", logprobs);
        choice.put("finish_reason", finish);
        return o;
    }

    /** A streamed piece of reasoning: {@code delta.reasoning_content}, as llama-server sends it. */
    private ObjectNode reasoningChunk(Job job, String id, long created, int index, String text) {
        ObjectNode o = envelope(job, id, created);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", index);
        choice.putObject("delta").put("reasoning_content", text);
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return o;
    }

    /** A streamed tool call, whole in one delta: its id, the function's name and all its arguments. */
    private ObjectNode toolCallChunk(Job job, String id, long created, int index, int call, ToolCall c) {
        ObjectNode o = envelope(job, id, created);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", index);
        ObjectNode entry = choice.putObject("delta").putArray("tool_calls").addObject();
        entry.put("index", call);
        entry.put("id", c.id());
        entry.put("type", "function");
        entry.putObject("function").put("name", c.name()).put("arguments", c.arguments());
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return o;
    }

    private ObjectNode whole(Job job, GenerationResult[] results, String id, long created, Tokenizer tokenizer) {
        ObjectNode o = envelope(job, id, created);
        ArrayNode choices = o.putArray("choices");
        for (int i = 0; i < results.length; i++) {
            GenerationResult r = results[i];
            ObjectNode choice = choices.addObject();
            choice.put("index", i);
            String finish = finishReason(r.stopReason());
            if (job.shape() == Shape.CHAT) {
                ObjectNode message = choice.putObject("message").put("role", "assistant");
                ReasoningSplitter split = r.splitInto(job.splitter(i, tokenizer));
                String text = PreparedChat.replyText(r, job.reasoning(), job.reasoningApart(), split);
                ChatReply reply = PreparedChat.reply(job.tools(), text, split);
                if (job.reasoningApart() && !split.reasoning().isBlank()) {
                    message.put("reasoning_content", split.reasoning().strip());
                }
                if (reply.toolCalls().isEmpty()) {
                    message.put("content", reply.content());
                } else {
                    if (reply.content().isEmpty()) {
                        message.putNull("content");
                    } else {
                        message.put("content", reply.content());
                    }
                    ArrayNode calls = message.putArray("tool_calls");
                    for (ToolCall c : reply.toolCalls()) {
                        ObjectNode call = calls.addObject();
                        call.put("id", c.id());
                        call.put("type", "function");
                        call.putObject("function").put("name", c.name()).put("arguments", c.arguments());
                    }
                    finish = "tool_calls";
                }
            } else {
                choice.put("text", r.text());
            }
            choice.set("logprobs", job.logprobs() ? logprobs(job.shape(), r.tokens(), tokenizer) : null);
            choice.put("finish_reason", finish);
        }
        o.set("usage", usage(results));
        if (results.length == 1) { // llama-server's speeds, which its web UI and benchmarks read
            o.set("timings", LlamaServerEndpoints.timings(results[0]));
        }
        return o;
    }

    /** {@return the prompt tokens a slot's cache held for {@code r}, which it did not evaluate again} */
    static int cachedPromptTokens(GenerationResult r) {
        return r.timings() == null ? 0 : Math.max(0, r.promptTokens().length - r.timings().promptTokens());
    }

    /** OpenAI's usage: tokens in, tokens out, and of those in, the ones a slot's cache already held. */
    private static ObjectNode usage(GenerationResult[] results) {
        int prompt = 0;
        int completion = 0;
        int cached = 0;
        for (GenerationResult r : results) {
            if (r != null) {
                prompt += r.promptTokens().length;
                completion += r.tokens().size();
                cached += cachedPromptTokens(r);
            }
        }
        ObjectNode u = Json.MAPPER.createObjectNode();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        u.putObject("prompt_tokens_details").put("cached_tokens", cached);
        return u;
    }

    /** OpenAI's finish reasons: an end-of-generation token or a stop string is "stop", a limit "length". */
    private static String finishReason(StopReason r) {
        return switch (r) {
            case LENGTH, CONTEXT -> "length";
            case EOS, STOP, CANCELLED, GRAMMAR -> "stop";
        };
    }

    /**
     * Logprobs in the chat shape ({@code content: [{token, logprob, bytes, top_logprobs}]}) or the legacy text
     * shape ({@code tokens, token_logprobs, top_logprobs, text_offset}).
     */
    private static JsonNode logprobs(Shape shape, List<GeneratedToken> tokens, Tokenizer tokenizer) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        if (shape == Shape.CHAT) {
            ArrayNode content = o.putArray("content");
            for (GeneratedToken t : tokens) {
                ObjectNode e = tokenEntry(content.addObject(), t.id(), t.logprob(), tokenizer);
                ArrayNode top = e.putArray("top_logprobs");
                for (TokenLogprob alt : t.topLogprobs()) {
                    tokenEntry(top.addObject(), alt.id(), alt.logprob(), tokenizer);
                }
            }
            o.putArray("refusal");
            return o;
        }
        ArrayNode pieces = o.putArray("tokens");
        ArrayNode lps = o.putArray("token_logprobs");
        ArrayNode tops = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        int offset = 0;
        for (GeneratedToken t : tokens) {
            String piece = piece(t.id(), tokenizer);
            pieces.add(piece);
            lps.add(t.logprob());
            ObjectNode top = tops.addObject();
            for (TokenLogprob alt : t.topLogprobs()) {
                top.put(piece(alt.id(), tokenizer), alt.logprob());
            }
            offsets.add(offset);
            offset += piece.length();
        }
        return o;
    }

    /** A token's {@code token}, {@code logprob} and {@code bytes} in {@code e}. */
    static ObjectNode tokenEntry(ObjectNode e, int id, float logprob, Tokenizer tokenizer) {
        byte[] bytes = tokenizer.tokenBytes(id);
        e.put("token", new String(bytes, StandardCharsets.UTF_8));
        e.put("logprob", logprob);
        ArrayNode b = e.putArray("bytes");
        for (byte x : bytes) {
            b.add(x & 0xff);
        }
        return e;
    }

    private static String piece(int id, Tokenizer tokenizer) {
        return new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8);
    }
}
