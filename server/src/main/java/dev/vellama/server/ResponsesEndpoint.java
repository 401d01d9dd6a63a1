package dev.vellama.server;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.StopReason;
import dev.vellama.runtime.chat.ChatMessage;
import dev.vellama.runtime.chat.ChatReply;
import dev.vellama.runtime.chat.ReasoningFormat;
import dev.vellama.runtime.chat.ReasoningSplitter;
import dev.vellama.runtime.chat.Tool;
import dev.vellama.runtime.chat.ToolCall;
import dev.vellama.runtime.chat.ToolChoice;
import dev.vellama.runtime.grammar.Grammar;
import dev.vellama.runtime.tokenizer.Tokenizer;
import io.helidon.http.HeaderNames;
import io.helidon.http.sse.SseEvent;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.sse.SseSink;

/**
 * OpenAI's Responses API, {@code POST /v1/responses}, the one OpenAI's newer clients and agent frameworks speak
 * (llama-server has it too). {@code input} (a string, or items: messages with {@code input_text}/{@code output_text}
 * parts, {@code function_call} and {@code function_call_output}), {@code instructions}, function {@code tools},
 * {@code tool_choice}, {@code text.format} and {@code reasoning.effort} become a chat like any other
 * ({@link PreparedChat}); the answer is a {@code response} whose {@code output} holds a {@code reasoning} item, a
 * {@code message} with {@code output_text}, and {@code function_call} items, whole or as the API's stream of
 * {@code response.*} events. Responses are stored in memory unless {@code store} is false ({@link ResponseStore},
 * the last few hundred): {@code previous_response_id} continues one, {@code GET} and {@code DELETE
 * /v1/responses/{id}} read and drop one.
 */
final class ResponsesEndpoint {
    /** Longest the engine may stay silent on a running request before the request fails. */
    private static final long ENGINE_SILENCE_SECONDS = 600;

    /** The text part types of the Responses API's messages. */
    private static final java.util.Set<String> RESPONSE_TEXT = java.util.Set.of("input_text", "output_text", "text");

    private final ServerState state;

    ResponsesEndpoint(ServerState state) {
        this.state = state;
    }

    /** A request read: the chat made ready, the fields the response echoes, and what the answer needs. */
    private record Job(PreparedChat chat, boolean stream, boolean mustCall, ReasoningFormat reasoning, ObjectNode echo,
                       List<ChatMessage> conversation, boolean store) {
        ReasoningSplitter splitter(Tokenizer tokenizer) {
            return PreparedChat.splitter(reasoning, chat.prompt(), tokenizer);
        }
    }

    /** {@code POST /v1/responses}. */
    void create(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        Json j = Json.parse(Json.body(req));
        Job job = read(j, engine);
        TokenChannel channel = new TokenChannel();
        List<BatchEngine.Request> running = channel.submit(engine, List.of(job.chat().prompt()), job.chat().params(), "input");
        Tokenizer tokenizer = engine.model().tokenizer();
        Ids ids = new Ids();
        long created = Instant.now().getEpochSecond();
        TokenChannel.answer(running, () -> {
            if (job.stream()) {
                stream(req, res, job, ids, created, channel, running.getFirst(), tokenizer);
            } else {
                GenerationResult r = channel.awaitResult(ENGINE_SILENCE_SECONDS);
                RequestLog.of(req).tokens(r.promptTokens().length + r.tokens().size());
                ReasoningSplitter split = r.splitInto(job.splitter(tokenizer));
                ChatReply reply = PreparedChat.reply(job.chat().format(), PreparedChat.replyText(r, job.reasoning(), true, split), split);
                ObjectNode o = response(job, ids, created, r);
                ArrayNode output = o.putArray("output");
                if (!split.reasoning().isBlank()) {
                    output.add(reasoningItem(ids.reasoning, split.reasoning().strip(), "completed"));
                }
                if (!reply.content().isEmpty() || reply.toolCalls().isEmpty()) {
                    output.add(messageItem(ids.message, reply.content(), "completed"));
                }
                for (ToolCall call : reply.toolCalls()) {
                    output.add(callItem(call, call.arguments(), "completed"));
                }
                store(job, ids, o, reply.content(), reply.toolCalls());
                Responses.sendJson(res, 200, o);
            }
        });
    }

    /** Keeps a finished response and the conversation it ends, unless the request said {@code store: false}. */
    private void store(Job job, Ids ids, ObjectNode response, String content, List<ToolCall> calls) {
        if (job.store()) {
            List<ChatMessage> conversation = new ArrayList<>(job.conversation());
            conversation.add(ChatMessage.assistant(content, calls));
            state.responses.put(ids.response, response, conversation);
        }
    }

    /** {@code GET /v1/responses/{id}}: a stored response. */
    void retrieve(ServerRequest req, ServerResponse res) {
        ResponseStore.Stored s = state.responses.get(req.path().pathParameters().get("id"));
        if (s == null) {
            throw notFound(req.path().pathParameters().get("id"));
        }
        Responses.sendJson(res, 200, s.response());
    }

    /** {@code DELETE /v1/responses/{id}}: drops a stored response. */
    void delete(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        if (!state.responses.remove(id)) {
            throw notFound(id);
        }
        Responses.sendJson(res, 200, Json.MAPPER.createObjectNode().put("id", id).put("object", "response.deleted")
                .put("deleted", true));
    }

    private static ApiException notFound(String id) {
        return new ApiException(404, "invalid_request_error", "not_found", null, "no stored response '" + id
                + "': responses are kept in memory, the last " + ServerState.STORED_RESPONSES + ", unless 'store' was false");
    }

    private Job read(Json j, BatchEngine engine) {
        if (j.has("conversation")) {
            throw ApiException.badField("conversation", "'conversation' is not supported: send the conversation in 'input', "
                    + "or continue a response with 'previous_response_id'");
        }
        List<ChatMessage> conversation = new ArrayList<>();
        String previous = j.string("previous_response_id", null);
        if (previous != null) {
            ResponseStore.Stored s = state.responses.get(previous);
            if (s == null) {
                throw ApiException.badField("previous_response_id", "'previous_response_id': no stored response '" + previous + "' to continue: "
                        + "responses are kept in memory, the last " + ServerState.STORED_RESPONSES + ", unless 'store' was false");
            }
            conversation.addAll(s.conversation());
        }
        conversation.addAll(input(j.node("input")));
        List<ChatMessage> messages = new ArrayList<>();
        String instructions = j.string("instructions", null);
        if (instructions != null) {
            messages.add(ChatMessage.system(instructions)); // a follow-up does not inherit them, as in OpenAI's API
        }
        messages.addAll(conversation);
        List<Tool> tools = tools(j.node("tools"));
        ToolChoice choice = toolChoice(j.node("tool_choice"), tools);
        j.bool("parallel_tool_calls", true); // checked; calls in one reply are always allowed
        boolean store = j.bool("store", true);
        GenerationParams params = GenerationParams.defaults()
                .withMaxTokens((int) j.integer("max_output_tokens", 1, Integer.MAX_VALUE, -1));
        params = SamplingFields.llamaCppFields(j, params);
        if (j.has("seed")) {
            params = params.withSeed(j.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE, 0));
        }
        Map<String, Object> variables = new HashMap<>();
        Json reasoning = j.object("reasoning");
        if (reasoning != null && reasoning.has("effort")) {
            String effort = reasoning.string("effort", "medium");
            if (!List.of("none", "minimal", "low", "medium", "high", "xhigh").contains(effort)) {
                throw ApiException.badField("reasoning.effort", "'reasoning.effort' must be none, minimal, low, medium or high");
            }
            variables.put("reasoning_effort", effort);
            variables.put("enable_thinking", !effort.equals("none"));
        }
        Grammar shape = textFormat(j.object("text"));
        PreparedChat chat = PreparedChat.of(state, engine.model(), messages, tools, choice, j.node("tools"), shape, params, variables);
        ObjectNode echo = Json.MAPPER.createObjectNode();
        if (instructions == null) {
            echo.putNull("instructions");
        } else {
            echo.put("instructions", instructions);
        }
        echo.put("max_output_tokens", params.maxTokens() < 0 ? null : (long) params.maxTokens());
        echo.put("temperature", params.temperature());
        echo.put("top_p", params.topP());
        echo.set("tools", j.node("tools") == null ? Json.MAPPER.createArrayNode() : j.node("tools"));
        JsonNode tc = j.node("tool_choice");
        echo.set("tool_choice", tc == null ? Json.MAPPER.getNodeFactory().textNode("auto") : tc);
        echo.set("text", j.node("text") == null ? Json.MAPPER.createObjectNode().set("format",
                Json.MAPPER.createObjectNode().put("type", "text")) : j.node("text"));
        ObjectNode reasoningEcho = echo.putObject("reasoning");
        reasoningEcho.set("effort", variables.containsKey("reasoning_effort")
                ? Json.MAPPER.getNodeFactory().textNode((String) variables.get("reasoning_effort")) : null);
        reasoningEcho.putNull("summary");
        echo.set("metadata", j.node("metadata") == null ? Json.MAPPER.createObjectNode() : j.node("metadata"));
        echo.put("previous_response_id", previous);
        echo.put("store", store);
        return new Job(chat, j.bool("stream", false), choice.forcesCall(), PreparedChat.reasoning(state.template(), true), echo,
                conversation, store);
    }

    /**
     * {@code input}: a string (one user message) or a list of items: messages ({@code role} user, assistant, system
     * or developer; content a string or {@code input_text}/{@code output_text} parts), {@code function_call}
     * (consecutive ones make one assistant turn) and {@code function_call_output}; {@code reasoning} items are
     * dropped, as the chat templates drop earlier reasoning; images and files are refused.
     */
    private static List<ChatMessage> input(JsonNode input) {
        List<ChatMessage> out = new ArrayList<>();
        if (input == null) {
            throw ApiException.badField("input", "'input' is required");
        }
        if (input.isTextual()) {
            out.add(ChatMessage.user(input.asText()));
            return out;
        }
        if (!input.isArray() || input.isEmpty()) {
            throw ApiException.badField("input", "'input' must be a string or a non-empty list of items");
        }
        List<ToolCall> calls = new ArrayList<>();
        for (int i = 0; i < input.size(); i++) {
            JsonNode item = input.get(i);
            String at = "input[" + i + "]";
            if (!item.isObject()) {
                throw ApiException.badField(at, "'" + at + "' must be an object");
            }
            String type = item.path("type").asText("message");
            if (!type.equals("function_call") && !calls.isEmpty()) {
                out.add(ChatMessage.assistant("", List.copyOf(calls)));
                calls.clear();
            }
            switch (type) {
                case "message" -> {
                    String role = CompletionEndpoints.role(item, at);
                    if (!List.of("user", "assistant", "system", "developer").contains(role)) {
                        throw ApiException.badField(at + ".role", "'" + at + ".role' must be user, assistant, system or developer");
                    }
                    out.add(new ChatMessage(role.equals("developer") ? "system" : role, CompletionEndpoints.content(item.get("content"), at + ".content", RESPONSE_TEXT)));
                }
                case "function_call" -> {
                    JsonNode args = item.get("arguments");
                    calls.add(new ToolCall(ToolFields.string(item, "call_id", at), ToolFields.string(item, "name", at),
                            args == null || args.isNull() ? "{}" : args.isTextual() ? args.asText() : args.toString()));
                }
                case "function_call_output" -> {
                    JsonNode output = item.get("output");
                    String text = output != null && output.isTextual() ? output.asText() : CompletionEndpoints.content(output, at + ".output", RESPONSE_TEXT);
                    out.add(ChatMessage.toolResult(ToolFields.string(item, "call_id", at), text));
                }
                case "reasoning" -> { }
                default -> throw ApiException.badField(at + ".type", "'" + at + ".type' must be message, function_call, "
                        + "function_call_output or reasoning, not " + type);
            }
        }
        if (!calls.isEmpty()) {
            out.add(ChatMessage.assistant("", List.copyOf(calls)));
        }
        return out;
    }

    /** {@code tools}: function tools, {@code {type: "function", name, description, parameters}}; hosted tools are refused. */
    private static List<Tool> tools(JsonNode list) {
        return ToolFields.tools(list, (t, at) -> {
            if (!t.isObject() || !"function".equals(t.path("type").asText())) {
                throw ApiException.badField(at + ".type", "'" + at + "': only function tools are supported (no hosted tools)");
            }
            return ToolFields.tool(t, "parameters", false, at);
        });
    }

    /** {@code tool_choice}: {@code "auto"}, {@code "none"}, {@code "required"} or {@code {type: "function", name}}. */
    private static ToolChoice toolChoice(JsonNode c, List<Tool> tools) {
        ToolChoice choice;
        if (c == null) {
            return tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
        } else if (c.isTextual()) {
            choice = switch (c.asText()) {
                case "auto" -> tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
                case "none" -> ToolChoice.NONE;
                case "required" -> ToolChoice.REQUIRED;
                default -> throw ApiException.badField("tool_choice", "'tool_choice' must be auto, none, required or a function");
            };
        } else if (c.isObject() && "function".equals(c.path("type").asText())) {
            choice = ToolFields.named(ToolFields.string(c, "name", "tool_choice"), tools, "tool_choice.name");
        } else {
            throw ApiException.badField("tool_choice", "'tool_choice' must be auto, none, required or {\"type\": \"function\", \"name\": ...}");
        }
        return ToolFields.checked(choice, tools);
    }

    /** {@code text.format}: {@code text}, {@code json_object}, or {@code json_schema} with {@code schema}. */
    private Grammar textFormat(Json text) {
        if (text == null) {
            return null;
        }
        Json format = text.object("format");
        if (format == null) {
            return null;
        }
        return switch (format.string("type", "text")) {
            case "text" -> null;
            case "json_object" -> Grammar.jsonObject();
            case "json_schema" -> {
                JsonNode schema = format.node("schema");
                if (schema == null || !schema.isObject()) {
                    throw ApiException.badField("text.format.schema", "'text.format.schema' must be a JSON Schema object");
                }
                yield StructuredOutputFields.schema("text.format.schema", schema, state.grammars);
            }
            default -> throw ApiException.badField("text.format.type", "'text.format.type' must be text, json_object or json_schema");
        };
    }

    // ---- answers

    /** Item ids of one response. */
    private static final class Ids {
        final String response = "resp_" + hex();
        final String message = "msg_" + hex();
        final String reasoning = "rs_" + hex();

        static String hex() {
            return UUID.randomUUID().toString().replace("-", "");
        }
    }

    /** The response object without its output: status, limits, the echoed request fields and usage. */
    private ObjectNode response(Job job, Ids ids, long created, GenerationResult r) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", ids.response);
        o.put("object", "response");
        o.put("created_at", created);
        boolean cut = r != null && (r.stopReason() == StopReason.LENGTH || r.stopReason() == StopReason.CONTEXT);
        o.put("status", r == null ? "in_progress" : cut ? "incomplete" : "completed");
        o.putNull("error");
        if (cut) {
            o.putObject("incomplete_details").put("reason", "max_output_tokens");
        } else {
            o.putNull("incomplete_details");
        }
        o.put("model", state.modelId());
        o.put("parallel_tool_calls", true);
        o.put("truncation", "disabled");
        o.setAll(job.echo());
        if (r == null) {
            o.putNull("usage");
        } else {
            ObjectNode usage = o.putObject("usage");
            usage.put("input_tokens", r.promptTokens().length);
            usage.putObject("input_tokens_details").put("cached_tokens", CompletionEndpoints.cachedPromptTokens(r))
                    .put("cache_write_tokens", 0);
            usage.put("output_tokens", r.tokens().size());
            usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
            usage.put("total_tokens", r.promptTokens().length + r.tokens().size());
        }
        return o;
    }

    private static ObjectNode reasoningItem(String id, String text, String status) {
        ObjectNode item = Json.MAPPER.createObjectNode().put("type", "reasoning").put("id", id);
        item.putArray("summary");
        ArrayNode content = item.putArray("content");
        if (text != null) {
            content.addObject().put("type", "reasoning_text").put("text", text);
        }
        item.put("status", status);
        return item;
    }

    private static ObjectNode messageItem(String id, String text, String status) {
        ObjectNode item = Json.MAPPER.createObjectNode().put("type", "message").put("id", id).put("status", status)
                .put("role", "assistant");
        ArrayNode content = item.putArray("content");
        if (text != null) {
            content.add(textPart(text));
        }
        return item;
    }

    private static ObjectNode textPart(String text) {
        ObjectNode part = Json.MAPPER.createObjectNode().put("type", "output_text").put("text", text);
        part.putArray("annotations");
        part.putArray("logprobs");
        return part;
    }

    private static ObjectNode callItem(ToolCall call, String arguments, String status) {
        return Json.MAPPER.createObjectNode().put("type", "function_call").put("id", "fc_" + call.id())
                .put("call_id", call.id()).put("name", call.name()).put("arguments", arguments).put("status", status);
    }

    /**
     * The response as the API's events: {@code response.created} and {@code response.in_progress}; per output item
     * {@code response.output_item.added}, its parts and deltas ({@code response.reasoning_text.delta},
     * {@code response.content_part.added}, {@code response.output_text.delta}, ..., or
     * {@code response.function_call_arguments.delta} with a call's whole arguments) and
     * {@code response.output_item.done}; then {@code response.completed} (or {@code response.incomplete}) with the
     * whole response.
     */
    private void stream(ServerRequest req, ServerResponse res, Job job, Ids ids, long created, TokenChannel channel,
            BatchEngine.Request running, Tokenizer tokenizer) throws InterruptedException {
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        SseSink sink = res.sink(SseSink.TYPE);
        Items items = new Items(sink, ids);
        ChatReplyStream reply = new ChatReplyStream();
        reply.guarded(req, sink, running, job.chat().prompt().length, () -> {
            ObjectNode start = response(job, ids, created, null);
            start.putArray("output");
            items.emit("response.created", Json.MAPPER.createObjectNode().set("response", start));
            items.emit("response.in_progress", Json.MAPPER.createObjectNode().set("response", start));
            reply.run(channel, job.chat().format(), job.mustCall(), job.splitter(tokenizer), new ChatReplyStream.Sink() {
                @Override
                public void piece(String reasoning, String words) {
                    items.reasoning(reasoning);
                    if (!words.isEmpty()) {
                        items.text(words);
                    }
                }

                @Override
                public void end(GenerationResult r, List<ToolCall> calls) {
                    if (calls.isEmpty() && !items.hasMessage()) {
                        items.text(""); // a reply without words or calls is still an (empty) message
                    }
                    for (ToolCall call : calls) {
                        items.call(call);
                    }
                    items.close();
                    ObjectNode done = response(job, ids, created, r);
                    done.set("output", items.output);
                    store(job, ids, done, items.words(), calls);
                    boolean cut = done.path("status").asText().equals("incomplete");
                    items.emit(cut ? "response.incomplete" : "response.completed", Json.MAPPER.createObjectNode().set("response", done));
                    RequestLog.of(req).tokens(r.promptTokens().length + r.tokens().size());
                }

                @Override
                public void failed(RuntimeException error) {
                    items.emit("error", Json.MAPPER.createObjectNode().put("code", "server_error")
                            .put("message", "generation failed: " + error.getMessage()));
                    running.cancel();
                }
            }, ENGINE_SILENCE_SECONDS);
        });
    }

    /** The output items of a streamed response: one open at a time, numbered from 0; the finished ones kept. */
    private static final class Items {
        private final SseSink sink;
        private final Ids ids;
        final ArrayNode output = Json.MAPPER.createArrayNode();
        private String open;
        private final StringBuilder text = new StringBuilder();
        private int sequence;

        Items(SseSink sink, Ids ids) {
            this.sink = sink;
            this.ids = ids;
        }

        /** Reasoning into the reasoning item. */
        void reasoning(String reasoning) {
            if (!reasoning.isEmpty()) {
                if (!"reasoning".equals(open)) {
                    close();
                    open("reasoning", reasoningItem(ids.reasoning, null, "in_progress"));
                }
                text.append(reasoning);
                emit("response.reasoning_text.delta", part(ids.reasoning).put("delta", reasoning));
            }
        }

        /** {@return the message's words so far} */
        String words() {
            StringBuilder all = new StringBuilder();
            for (JsonNode item : output) {
                if (item.path("type").asText().equals("message")) {
                    item.path("content").forEach(c -> all.append(c.path("text").asText()));
                }
            }
            return all.toString();
        }

        boolean hasMessage() {
            if ("message".equals(open)) {
                return true;
            }
            for (JsonNode item : output) {
                if (item.path("type").asText().equals("message")) {
                    return true;
                }
            }
            return false;
        }

        /** Words of the answer; an empty piece opens the message without adding to it. */
        void text(String words) {
            if (!"message".equals(open)) {
                close();
                open("message", messageItem(ids.message, null, "in_progress"));
                emit("response.content_part.added", part(ids.message).set("part", textPart("")));
            }
            if (!words.isEmpty()) {
                text.append(words);
                ObjectNode delta = part(ids.message).put("delta", words);
                delta.putArray("logprobs");
                emit("response.output_text.delta", delta);
            }
        }

        void call(ToolCall call) {
            close();
            String itemId = "fc_" + call.id();
            open("function_call", callItem(call, "", "in_progress"));
            emit("response.function_call_arguments.delta", Json.MAPPER.createObjectNode().put("item_id", itemId)
                    .put("output_index", output.size()).put("delta", call.arguments()));
            emit("response.function_call_arguments.done", Json.MAPPER.createObjectNode().put("item_id", itemId)
                    .put("output_index", output.size()).put("name", call.name()).put("arguments", call.arguments()));
            ObjectNode item = callItem(call, call.arguments(), "completed");
            emit("response.output_item.done", Json.MAPPER.createObjectNode().put("output_index", output.size()).set("item", item));
            output.add(item);
            open = null;
        }

        private ObjectNode part(String itemId) {
            return Json.MAPPER.createObjectNode().put("item_id", itemId).put("output_index", output.size()).put("content_index", 0);
        }

        private void open(String type, ObjectNode item) {
            open = type;
            text.setLength(0);
            emit("response.output_item.added", Json.MAPPER.createObjectNode().put("output_index", output.size()).set("item", item));
        }

        /** Ends the open reasoning or message item with its "done" events. */
        void close() {
            if (open == null) {
                return;
            }
            ObjectNode item;
            if (open.equals("reasoning")) {
                emit("response.reasoning_text.done", part(ids.reasoning).put("text", text.toString()));
                item = reasoningItem(ids.reasoning, text.toString(), "completed");
            } else {
                ObjectNode done = part(ids.message).put("text", text.toString());
                done.putArray("logprobs");
                emit("response.output_text.done", done);
                emit("response.content_part.done", part(ids.message).set("part", textPart(text.toString())));
                item = messageItem(ids.message, text.toString(), "completed");
            }
            emit("response.output_item.done", Json.MAPPER.createObjectNode().put("output_index", output.size()).set("item", item));
            output.add(item);
            open = null;
        }

        void emit(String type, JsonNode data) {
            ObjectNode o = (ObjectNode) data;
            ObjectNode event = Json.MAPPER.createObjectNode().put("type", type).put("sequence_number", sequence++);
            event.setAll(o);
            try {
                sink.emit(SseEvent.builder().name(type).data(Responses.text(event)).build());
            } catch (RuntimeException e) {
                throw new ClientGone(e);
            }
        }
    }
}
