package dev.vellama.server;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
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
import dev.vellama.runtime.tokenizer.Tokenizer;
import io.helidon.http.HeaderNames;
import io.helidon.http.sse.SseEvent;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.sse.SseSink;

/**
 * Anthropic's Messages API, as llama-server offers it: {@code POST /v1/messages} and
 * {@code POST /v1/messages/count_tokens}. The request (a {@code system} prompt, {@code messages} of content blocks —
 * text, {@code tool_use}, {@code tool_result} — {@code tools} with {@code input_schema}, {@code tool_choice},
 * {@code stop_sequences}, {@code thinking}) becomes a chat like any other ({@link PreparedChat}: the model's template,
 * the tools' grammar); the reply comes back as content blocks ({@code thinking}, {@code text}, {@code tool_use}),
 * whole or as Anthropic's named Server-Sent Events. Errors under {@code /v1/messages} take Anthropic's shape
 * ({@link #error}).
 */
final class AnthropicEndpoints {
    /** Longest the engine may stay silent on a running request before the request fails. */
    private static final long ENGINE_SILENCE_SECONDS = 600;
    /** llama-server's reply limit when a request names none (the API requires {@code max_tokens}). */
    private static final int DEFAULT_MAX_TOKENS = 4096;

    private final ServerState state;

    AnthropicEndpoints(ServerState state) {
        this.state = state;
    }

    /** A request read: the chat made ready for the engine, and what the answer needs. */
    private record Job(PreparedChat chat, boolean stream, boolean mustCall, ReasoningFormat reasoning, List<String> stop) {
        ReasoningSplitter splitter(Tokenizer tokenizer) {
            return PreparedChat.splitter(reasoning, chat.prompt(), tokenizer);
        }
    }

    /** {@code POST /v1/messages}. */
    void messages(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        Json j = Json.parse(Json.body(req));
        Job job = read(j, engine, false);
        TokenChannel channel = new TokenChannel();
        List<BatchEngine.Request> running = channel.submit(engine, List.of(job.chat().prompt()), job.chat().params(), "messages");
        Tokenizer tokenizer = engine.model().tokenizer();
        String id = "msg_" + UUID.randomUUID().toString().replace("-", "");
        TokenChannel.answer(running, () -> {
            if (job.stream()) {
                stream(req, res, job, id, channel, running.getFirst(), tokenizer);
            } else {
                GenerationResult r = channel.awaitResult(ENGINE_SILENCE_SECONDS);
                RequestLog.of(req).tokens(r.promptTokens().length + r.tokens().size());
                Responses.sendJson(res, 200, whole(job, id, r, tokenizer));
            }
        });
    }

    /** {@code POST /v1/messages/count_tokens}: the prompt's length, as the template renders it with the tools. */
    void countTokens(ServerRequest req, ServerResponse res) {
        Json j = Json.parse(Json.body(req));
        Job job = read(j, state.engine(), true);
        Responses.sendJson(res, 200, Json.MAPPER.createObjectNode().put("input_tokens", job.chat().prompt().length));
    }

    private Job read(Json j, BatchEngine engine, boolean counting) {
        List<ChatMessage> messages = new ArrayList<>();
        if (j.has("system")) { // a string or text blocks, joined
            messages.add(ChatMessage.system(CompletionEndpoints.content(j.node("system"), "system")));
        }
        messages.addAll(messages(j.node("messages")));
        List<Tool> tools = tools(j.node("tools"));
        ToolChoice choice = toolChoice(j.node("tool_choice"), tools);
        int max = (int) j.integer("max_tokens", 1, Integer.MAX_VALUE, counting ? 1 : DEFAULT_MAX_TOKENS);
        GenerationParams params = GenerationParams.defaults().withMaxTokens(max);
        // temperature, top_p and top_k are Anthropic's; the rest of llama.cpp's sampling fields and a seed are read too
        params = SamplingFields.llamaCppFields(j, params);
        if (j.has("seed")) {
            params = params.withSeed(j.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE, 0));
        }
        List<String> stop = j.strings("stop_sequences");
        params = params.withStop(stop);
        Map<String, Object> variables = new HashMap<>();
        Json thinking = j.object("thinking");
        if (thinking != null) {
            String type = thinking.string("type", "");
            if (!type.equals("enabled") && !type.equals("disabled") && !type.equals("adaptive")) {
                throw ApiException.badField("thinking.type", "'thinking.type' must be \"enabled\", \"adaptive\" or \"disabled\"");
            }
            thinking.integer("budget_tokens", 0, Integer.MAX_VALUE, 0); // checked; the model thinks as long as it will
            variables.put("enable_thinking", !type.equals("disabled"));
        }
        PreparedChat chat = PreparedChat.of(state, engine.model(), messages, tools, choice, j.node("tools"), null, params, variables);
        return new Job(chat, j.bool("stream", false), choice.forcesCall(), PreparedChat.reasoning(state.template(), true), stop);
    }

    /**
     * {@code messages}: user and assistant turns whose content is a string or a list of blocks. Text blocks are
     * joined; an assistant's {@code tool_use} blocks become its tool calls; a user's {@code tool_result} blocks become
     * tool messages, put before the rest of that turn (they answer the calls just made); earlier {@code thinking} is
     * dropped, as the chat templates drop earlier reasoning. Images and documents are refused: the served model reads
     * text only.
     */
    private static List<ChatMessage> messages(JsonNode list) {
        CompletionEndpoints.messageList(list);
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String at = "messages[" + i + "]";
            String role = CompletionEndpoints.role(m, at);
            if (!role.equals("user") && !role.equals("assistant")) {
                throw ApiException.badField(at + ".role", "'" + at + ".role' must be \"user\" or \"assistant\" (the system "
                        + "prompt goes in 'system')");
            }
            JsonNode content = m.get("content");
            if (content == null || content.isNull()) {
                throw ApiException.badField(at + ".content", "'" + at + ".content' is required");
            }
            if (content.isTextual()) {
                out.add(new ChatMessage(role, content.asText()));
                continue;
            }
            if (!content.isArray()) {
                throw ApiException.badField(at + ".content", "'" + at + ".content' must be a string or a list of content blocks");
            }
            StringBuilder text = new StringBuilder();
            List<ToolCall> calls = new ArrayList<>();
            for (int b = 0; b < content.size(); b++) {
                JsonNode block = content.get(b);
                String bat = at + ".content[" + b + "]";
                String type = block.path("type").asText("");
                switch (type) {
                    case "text" -> text.append(ToolFields.string(block, "text", bat));
                    case "thinking", "redacted_thinking" -> { }
                    case "tool_use" -> {
                        if (!role.equals("assistant")) {
                            throw ApiException.badField(bat, "'" + bat + "': only the assistant makes tool calls");
                        }
                        JsonNode input = block.get("input");
                        if (input != null && !input.isNull() && !input.isObject()) {
                            throw ApiException.badField(bat + ".input", "'" + bat + ".input' must be an object");
                        }
                        calls.add(new ToolCall(ToolFields.string(block, "id", bat), ToolFields.string(block, "name", bat),
                                input == null || input.isNull() ? "{}" : input.toString()));
                    }
                    case "tool_result" -> {
                        if (!role.equals("user")) {
                            throw ApiException.badField(bat, "'" + bat + "': tool results come in a user turn");
                        }
                        out.add(ChatMessage.toolResult(ToolFields.string(block, "tool_use_id", bat),
                                CompletionEndpoints.content(block.get("content"), bat + ".content")));
                    }
                    case "image", "document", "search_result" -> throw ApiException.badField(bat + ".type", "'" + bat
                            + "': " + type + " blocks are not supported: the served model reads text only");
                    default -> throw ApiException.badField(bat + ".type", "'" + bat + ".type' must be text, tool_use, "
                            + "tool_result or thinking");
                }
            }
            if (!text.isEmpty() || !calls.isEmpty()) {
                out.add(new ChatMessage(role, text.toString(), calls, null));
            }
        }
        return out;
    }

    /** {@code tools}: {@code [{name, description, input_schema}]}; Anthropic's own server tools are refused. */
    private static List<Tool> tools(JsonNode list) {
        return ToolFields.tools(list, (t, at) -> {
            String type = t.isObject() ? t.path("type").asText("custom") : "";
            if (!type.equals("custom")) {
                throw ApiException.badField(at + ".type", "'" + at + ".type': only custom tools (with an input_schema) are "
                        + "supported, not " + (type.isEmpty() ? "this" : type));
            }
            return ToolFields.tool(t, "input_schema", true, at);
        });
    }

    /** {@code tool_choice}: {@code {type: auto | any | tool (with name) | none}}. */
    private static ToolChoice toolChoice(JsonNode c, List<Tool> tools) {
        if (c == null) {
            return tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
        }
        if (!c.isObject()) {
            throw ApiException.badField("tool_choice", "'tool_choice' must be an object such as {\"type\": \"auto\"}");
        }
        ToolChoice choice = switch (c.path("type").asText("")) {
            case "auto" -> tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
            case "any" -> ToolChoice.REQUIRED;
            case "none" -> ToolChoice.NONE;
            case "tool" -> ToolFields.named(ToolFields.string(c, "name", "tool_choice"), tools, "tool_choice.name");
            default -> throw ApiException.badField("tool_choice.type", "'tool_choice.type' must be auto, any, tool or none");
        };
        return ToolFields.checked(choice, tools);
    }

    // ---- answers

    /** The whole reply: a message of content blocks. */
    private ObjectNode whole(Job job, String id, GenerationResult r, Tokenizer tokenizer) {
        ReasoningSplitter split = r.splitInto(job.splitter(tokenizer));
        String text = PreparedChat.replyText(r, job.reasoning(), true, split);
        ChatReply reply = PreparedChat.reply(job.chat().format(), text, split);
        ObjectNode o = message(id);
        var content = o.putArray("content");
        if (!split.reasoning().isBlank()) {
            content.addObject().put("type", "thinking").put("thinking", split.reasoning().strip()).put("signature", "");
        }
        if (!reply.content().isEmpty()) {
            content.addObject().put("type", "text").put("text", reply.content());
        }
        for (ToolCall call : reply.toolCalls()) {
            toolUse(content.addObject(), call);
        }
        stopReason(o, job, r, !reply.toolCalls().isEmpty());
        ObjectNode usage = o.putObject("usage");
        usage.put("input_tokens", r.promptTokens().length);
        usage.put("output_tokens", r.tokens().size());
        return o;
    }

    private ObjectNode message(String id) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", id);
        o.put("type", "message");
        o.put("role", "assistant");
        o.put("model", state.modelId());
        return o;
    }

    private static void toolUse(ObjectNode block, ToolCall call) {
        block.put("type", "tool_use");
        block.put("id", call.id().startsWith("toolu_") ? call.id() : "toolu_" + call.id());
        block.put("name", call.name());
        block.set("input", arguments(call));
    }

    /** A call's arguments as an object (a model's malformed arguments become an empty one). */
    private static JsonNode arguments(ToolCall call) {
        try {
            JsonNode args = Json.MAPPER.readTree(call.arguments());
            return args != null && args.isObject() ? args : Json.MAPPER.createObjectNode();
        } catch (IOException e) {
            return Json.MAPPER.createObjectNode();
        }
    }

    /** {@code stop_reason} and {@code stop_sequence}: tool_use, stop_sequence, max_tokens or end_turn. */
    private static void stopReason(ObjectNode o, Job job, GenerationResult r, boolean called) {
        String reason = called ? "tool_use" : switch (r.stopReason()) {
            case STOP -> "stop_sequence";
            case LENGTH, CONTEXT -> "max_tokens";
            default -> "end_turn";
        };
        o.put("stop_reason", reason);
        if (!called && r.stopReason() == StopReason.STOP && job.stop().size() == 1) {
            o.put("stop_sequence", job.stop().getFirst());
        } else {
            o.putNull("stop_sequence");
        }
    }

    /**
     * The reply as Anthropic's events: {@code message_start}; per block {@code content_block_start}, its deltas
     * ({@code thinking_delta}, {@code text_delta}, {@code input_json_delta}) and {@code content_block_stop}; then
     * {@code message_delta} with the stop reason and {@code message_stop}.
     */
    private void stream(ServerRequest req, ServerResponse res, Job job, String id, TokenChannel channel,
            BatchEngine.Request running, Tokenizer tokenizer) throws InterruptedException {
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        SseSink sink = res.sink(SseSink.TYPE);
        Blocks blocks = new Blocks(sink);
        ChatReplyStream reply = new ChatReplyStream();
        reply.guarded(req, sink, running, job.chat().prompt().length, () -> {
            ObjectNode start = message(id);
            start.putArray("content");
            start.putNull("stop_reason");
            start.putNull("stop_sequence");
            start.putObject("usage").put("input_tokens", job.chat().prompt().length).put("output_tokens", 0);
            emit(sink, "message_start", Json.MAPPER.createObjectNode().put("type", "message_start").set("message", start));
            reply.run(channel, job.chat().format(), job.mustCall(), job.splitter(tokenizer), new ChatReplyStream.Sink() {
                @Override
                public void piece(String reasoning, String words) {
                    blocks.thinking(reasoning);
                    blocks.text(words);
                }

                @Override
                public void end(GenerationResult r, List<ToolCall> calls) {
                    for (ToolCall call : calls) {
                        blocks.toolUse(call);
                    }
                    blocks.close();
                    ObjectNode delta = Json.MAPPER.createObjectNode().put("type", "message_delta");
                    stopReason(delta.putObject("delta"), job, r, !calls.isEmpty());
                    delta.putObject("usage").put("output_tokens", r.tokens().size());
                    emit(sink, "message_delta", delta);
                    emit(sink, "message_stop", Json.MAPPER.createObjectNode().put("type", "message_stop"));
                    RequestLog.of(req).tokens(r.promptTokens().length + r.tokens().size());
                }

                @Override
                public void failed(RuntimeException error) {
                    emit(sink, "error", error(500, "generation failed: " + error.getMessage()));
                    running.cancel();
                }
            }, ENGINE_SILENCE_SECONDS);
        });
    }

    /** The content blocks of a streamed reply: one open at a time, numbered from 0. */
    private static final class Blocks {
        private final SseSink sink;
        private String open;
        private int index = -1;

        Blocks(SseSink sink) {
            this.sink = sink;
        }

        void thinking(String reasoning) {
            if (!reasoning.isEmpty()) {
                startIf("thinking", Json.MAPPER.createObjectNode().put("type", "thinking").put("thinking", "").put("signature", ""));
                delta(Json.MAPPER.createObjectNode().put("type", "thinking_delta").put("thinking", reasoning));
            }
        }

        void text(String words) {
            if (!words.isEmpty()) {
                startIf("text", Json.MAPPER.createObjectNode().put("type", "text").put("text", ""));
                delta(Json.MAPPER.createObjectNode().put("type", "text_delta").put("text", words));
            }
        }

        void toolUse(ToolCall call) {
            close();
            ObjectNode block = Json.MAPPER.createObjectNode();
            toolUse(block, call);
            String input = block.get("input").toString();
            block.putObject("input");
            start("tool_use", block);
            delta(Json.MAPPER.createObjectNode().put("type", "input_json_delta").put("partial_json", input));
            close();
        }

        private static void toolUse(ObjectNode block, ToolCall call) {
            AnthropicEndpoints.toolUse(block, call);
        }

        private void startIf(String type, ObjectNode block) {
            if (!type.equals(open)) {
                close();
                start(type, block);
            }
        }

        private void start(String type, ObjectNode block) {
            open = type;
            index++;
            emit(sink, "content_block_start", Json.MAPPER.createObjectNode().put("type", "content_block_start")
                    .put("index", index).set("content_block", block));
        }

        private void delta(ObjectNode delta) {
            emit(sink, "content_block_delta", Json.MAPPER.createObjectNode().put("type", "content_block_delta")
                    .put("index", index).set("delta", delta));
        }

        void close() {
            if (open != null) {
                emit(sink, "content_block_stop", Json.MAPPER.createObjectNode().put("type", "content_block_stop").put("index", index));
                open = null;
            }
        }
    }

    private static void emit(SseSink sink, String event, JsonNode data) {
        try {
            sink.emit(SseEvent.builder().name(event).data(Responses.text(data)).build());
        } catch (RuntimeException e) {
            throw new ClientGone(e);
        }
    }

    /** Anthropic's error object, {@code {"type": "error", "error": {"type", "message"}}}, with its type per status. */
    static ObjectNode error(int status, String message) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("type", "error");
        o.putObject("error").put("type", switch (status) {
            case 400, 413 -> status == 413 ? "request_too_large" : "invalid_request_error";
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 429 -> "rate_limit_error";
            case 503 -> "overloaded_error";
            default -> "api_error";
        }).put("message", message);
        return o;
    }
}
