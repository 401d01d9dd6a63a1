package dev.vellama.server;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** Writing JSON answers and OpenAI error objects. */
final class Responses {
    private Responses() {}

    static String text(JsonNode json) {
        try {
            return Json.MAPPER.writeValueAsString(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a response tree could not be written", e);
        }
    }

    static void sendJson(ServerResponse res, int status, JsonNode json) {
        res.status(Status.create(status));
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(text(json).getBytes(StandardCharsets.UTF_8));
    }

    /** OpenAI's error object: {@code {"error": {"message", "type", "param", "code"}}}. */
    static ObjectNode error(int status, String type, String code, String param, String message) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        ObjectNode e = o.putObject("error");
        e.put("message", message);
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return o;
    }

    static void sendError(ServerResponse res, ApiException e) {
        sendJson(res, e.status(), error(e.status(), e.type(), e.code(), e.param(), e.getMessage()));
    }

    /**
     * The error in the shape of the API the request used: ollama's {@code {"error": "..."}} under {@code /api/},
     * Anthropic's under {@code /v1/messages}, OpenAI's error object elsewhere.
     */
    static void sendError(ServerRequest req, ServerResponse res, ApiException e) {
        if (req.path().path().startsWith("/v1/messages")) {
            sendJson(res, e.status(), AnthropicEndpoints.error(e.status(), e.getMessage()));
        } else if (req.path().path().startsWith("/api/")) {
            sendJson(res, e.status(), Json.MAPPER.createObjectNode().put("error", e.getMessage()));
        } else {
            sendError(res, e);
        }
    }
}
