package dev.vellama.server;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.tokenizer.Tokenizer;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** {@code /health}, {@code /v1/models}, {@code /metrics}, {@code /tokenize} and {@code /detokenize}. */
final class InfoEndpoints {
    private final ServerState state;

    InfoEndpoints(ServerState state) {
        this.state = state;
    }

    /**
     * 200 {"status":"ok"} when the model is loaded, 503 while it loads (llama-server's shape) and while the server
     * drains before it stops, so a load balancer takes it out of rotation.
     */
    void health(ServerRequest req, ServerResponse res) {
        if (state.draining) {
            Responses.sendError(res, new ApiException(503, "unavailable_error", "shutting_down", null, "the server is shutting down"));
        } else if (state.ready()) {
            Responses.sendJson(res, 200, Json.MAPPER.createObjectNode().put("status", "ok"));
        } else {
            Responses.sendError(res, new ApiException(503, "unavailable_error", "loading", null, "Loading model"));
        }
    }

    void models(ServerRequest req, ServerResponse res) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("object", "list");
        model(o.putArray("data").addObject());
        Responses.sendJson(res, 200, o);
    }

    /** {@code GET /v1/models/{model}}: the loaded model by its id, as OpenAI's retrieve; any other id is a 404. */
    void model(ServerRequest req, ServerResponse res) {
        String path = req.path().path();
        String id = path.substring(path.indexOf("/models/") + "/models/".length());
        if (!id.equals(state.modelId())) {
            throw new ApiException(404, "invalid_request_error", "model_not_found", "model", "The model '" + id
                    + "' does not exist; this server serves '" + state.modelId() + "'");
        }
        Responses.sendJson(res, 200, model(Json.MAPPER.createObjectNode()));
    }

    /** The loaded model's entry: OpenAI's fields and llama-server's {@code meta}. */
    private ObjectNode model(ObjectNode m) {
        m.put("id", state.modelId());
        m.put("object", "model");
        m.put("created", state.created);
        m.put("owned_by", "vellama");
        ObjectNode meta = m.putObject("meta");
        if (state.encoder() != null) {
            meta.put("n_vocab", state.encoder().tokenizer().vocabSize()).put("n_embd", state.encoder().embeddingLength())
                    .put("embedding_only", true);
        } else {
            BatchEngine engine = state.engine();
            Model model = engine.model();
            meta.put("architecture", model.config().architecture().name().toLowerCase(Locale.ROOT));
            meta.put("n_vocab", model.config().vocabSize());
            meta.put("n_ctx_train", model.config().contextLength());
            meta.put("n_embd", model.config().embeddingLength());
            meta.put("n_params", model.parameterCount());
            meta.put("n_ctx_slot", engine.slotContext());
            meta.put("slots", engine.slotCount());
        }
        return m;
    }

    /** Prometheus text format: requests, tokens, speeds, slots and the queue. */
    void metrics(ServerRequest req, ServerResponse res) {
        BatchEngine.Stats s = state.encoder() != null ? null : state.engine().stats(); // no engine behind an embedding model
        StringBuilder b = new StringBuilder();
        b.append("# HELP vellama_http_requests_total HTTP requests answered, by status.\n");
        b.append("# TYPE vellama_http_requests_total counter\n");
        for (Map.Entry<Integer, LongAdder> e : state.metrics.byStatus().entrySet()) {
            b.append("vellama_http_requests_total{status=\"").append(e.getKey()).append("\"} ").append(e.getValue().sum()).append('\n');
        }
        if (s == null) {
            res.status(Status.OK_200);
            res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
            res.send(b.toString().getBytes(StandardCharsets.UTF_8));
            return;
        }
        metric(b, "vellama_generations_total", "counter", "Generations the engine started.", s.requests());
        metric(b, "vellama_prompt_tokens_total", "counter", "Prompt tokens evaluated (cached prefixes not counted).", s.promptTokens());
        metric(b, "vellama_generated_tokens_total", "counter", "Tokens generated.", s.generatedTokens());
        metric(b, "vellama_prompt_seconds_total", "counter", "Time slots spent on prompts, summed over slots.", s.promptNanos() / 1e9);
        metric(b, "vellama_generation_seconds_total", "counter", "Time slots spent generating, summed over slots.", s.generationNanos() / 1e9);
        metric(b, "vellama_prompt_tokens_per_second", "gauge", "Average prompt speed of one slot.",
                s.promptNanos() == 0 ? 0 : s.promptTokens() * 1e9 / s.promptNanos());
        metric(b, "vellama_generated_tokens_per_second", "gauge", "Average generation speed of one slot.",
                s.generationNanos() == 0 ? 0 : s.generatedTokens() * 1e9 / s.generationNanos());
        metric(b, "vellama_slots_busy", "gauge", "Slots running a generation.", s.busySlots());
        metric(b, "vellama_slots_total", "gauge", "Slots.", s.slots());
        metric(b, "vellama_requests_queued", "gauge", "Generations waiting for a slot.", s.queued());
        // the same under llama-server's names, so its dashboards and alerts read this server unchanged
        metric(b, "llamacpp:prompt_tokens_total", "counter", "Number of prompt tokens processed.", s.promptTokens());
        metric(b, "llamacpp:prompt_seconds_total", "counter", "Prompt process time", s.promptNanos() / 1e9);
        metric(b, "llamacpp:tokens_predicted_total", "counter", "Number of generation tokens processed.", s.generatedTokens());
        metric(b, "llamacpp:tokens_predicted_seconds_total", "counter", "Predict process time", s.generationNanos() / 1e9);
        metric(b, "llamacpp:n_decode_total", "counter", "Total number of batched forward passes.", s.steps());
        metric(b, "llamacpp:n_tokens_max", "counter", "Largest observed n_tokens in a slot.", s.maxCachedTokens());
        metric(b, "llamacpp:n_busy_slots_per_decode", "gauge", "Average number of busy slots per forward pass.",
                s.steps() == 0 ? 0 : (double) s.busySlotSteps() / s.steps());
        metric(b, "llamacpp:prompt_tokens_seconds", "gauge", "Average prompt throughput in tokens/s.",
                s.promptNanos() == 0 ? 0 : s.promptTokens() * 1e9 / s.promptNanos());
        metric(b, "llamacpp:predicted_tokens_seconds", "gauge", "Average generation throughput in tokens/s.",
                s.generationNanos() == 0 ? 0 : s.generatedTokens() * 1e9 / s.generationNanos());
        metric(b, "llamacpp:requests_processing", "gauge", "Number of requests processing.", s.busySlots());
        metric(b, "llamacpp:requests_deferred", "gauge", "Number of requests deferred.", s.queued());
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(b.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void metric(StringBuilder b, String name, String type, String help, double value) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        b.append(name).append(' ');
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            b.append((long) value);
        } else {
            b.append(value);
        }
        b.append('\n');
    }

    /** llama-server's {@code {"content", "add_special", "parse_special", "with_pieces"}} → {@code {"tokens"}}. */
    void tokenize(ServerRequest req, ServerResponse res) {
        Tokenizer tokenizer = state.tokenizer();
        Json j = Json.parse(Json.body(req));
        String content = j.string("content", null);
        if (content == null) {
            throw ApiException.badField("content", "'content' is required");
        }
        int[] ids = tokenizer.encode(content, j.bool("add_special", false), j.bool("parse_special", true));
        boolean pieces = j.bool("with_pieces", false);
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode tokens = o.putArray("tokens");
        for (int id : ids) {
            if (pieces) {
                tokens.addObject().put("id", id).put("piece", new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8));
            } else {
                tokens.add(id);
            }
        }
        Responses.sendJson(res, 200, o);
    }

    /** {@code {"tokens": [ids]}} → {@code {"content"}}. */
    void detokenize(ServerRequest req, ServerResponse res) {
        Tokenizer tokenizer = state.tokenizer();
        Json j = Json.parse(Json.body(req));
        JsonNode list = j.node("tokens");
        if (list == null || !list.isArray()) {
            throw ApiException.badField("tokens", "'tokens' must be a list of token ids");
        }
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = list.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 0 || e.asInt() >= tokenizer.vocabSize()) {
                throw ApiException.badField("tokens", "'tokens[" + i + "]' is not a token id of this model (0 to "
                        + (tokenizer.vocabSize() - 1) + ")");
            }
            ids[i] = e.asInt();
        }
        Responses.sendJson(res, 200, Json.MAPPER.createObjectNode().put("content", tokenizer.decode(ids)));
    }
}
