package dev.vellama.server;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.LoraAdapter;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * llama-server's {@code /lora-adapters}: the LoRA adapters the server was started with ({@code --lora}) and their
 * scales ({@code GET}), and new scales for all of them ({@code POST [{"id", "scale"}]}; an adapter left out gets
 * scale 0), which apply from the next request on, once the running ones have finished.
 */
final class AdapterEndpoints {
    private final ServerState state;

    AdapterEndpoints(ServerState state) {
        this.state = state;
    }

    /**
     * A request's own LoRA scales, llama-server's {@code lora} field ({@code [{"id", "scale"}]}; an adapter left out
     * gets 0); null when the request has none and takes the server's.
     */
    static float[] requestScales(Json j, BatchEngine engine) {
        JsonNode list = j.node("lora");
        if (list == null) {
            return null;
        }
        if (!list.isArray()) {
            throw ApiException.badField("lora", "'lora' must be a list of {\"id\": number, \"scale\": number}");
        }
        return scales(list, engine.adapters().size(), "lora");
    }

    /** Each adapter's scale from a list of {@code {"id", "scale"}}; adapters left out get 0. */
    private static float[] scales(JsonNode list, int adapters, String field) {
        float[] scales = new float[adapters];
        for (int i = 0; i < list.size(); i++) {
            JsonNode e = list.get(i);
            JsonNode id = e.get("id");
            JsonNode scale = e.get("scale");
            if (id == null || !id.isIntegralNumber() || id.asLong() < 0 || id.asLong() >= adapters) {
                throw ApiException.badField(field + "[" + i + "].id", "'id' must name one of the server's " + adapters
                        + " LoRA adapters" + (adapters == 0 ? " (it was started without --lora)" : " (0 to " + (adapters - 1)
                        + "; GET /lora-adapters lists them)"));
            }
            if (scale == null || !scale.isNumber() || !Double.isFinite(scale.asDouble()) || Math.abs(scale.asDouble()) > 1e6) {
                throw ApiException.badField(field + "[" + i + "].scale", "'scale' must be a finite number");
            }
            scales[id.asInt()] = (float) scale.asDouble();
        }
        return scales;
    }

    /** {@code GET /lora-adapters}: {@code [{"id", "path", "scale"}]} in the order they were given. */
    void list(ServerRequest req, ServerResponse res) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        List<LoraAdapter.Applied> applied = state.engine().adapters();
        for (int i = 0; i < applied.size(); i++) {
            list.addObject().put("id", i).put("path", applied.get(i).adapter().path().toString())
                    .put("scale", applied.get(i).scale());
        }
        Responses.sendJson(res, 200, list);
    }

    /** {@code POST /lora-adapters}: a list of {@code {"id", "scale"}}. */
    void set(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        JsonNode body = Json.readTree(Json.body(req));
        if (!body.isArray()) {
            throw ApiException.badRequest("the body must be a list of {\"id\": number, \"scale\": number}");
        }
        List<LoraAdapter.Applied> now = engine.adapters();
        float[] scales = scales(body, now.size(), "");
        List<LoraAdapter.Applied> next = new ArrayList<>(now.size());
        for (int i = 0; i < now.size(); i++) {
            next.add(new LoraAdapter.Applied(now.get(i).adapter(), scales[i]));
        }
        engine.useAdapters(next);
        Responses.sendJson(res, 200, Json.MAPPER.createObjectNode().put("success", true));
    }
}
