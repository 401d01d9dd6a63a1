package dev.vellama.server;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reading request bodies: one shared Jackson mapper, and typed field access that names the field in every error,
 * as the OpenAI API does ({@code param}).
 */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final ObjectNode body;

    private Json(ObjectNode body) {
        this.body = body;
    }

    /** Parses a request body that must be a JSON object. */
    static Json parse(byte[] bytes) {
        JsonNode node = readTree(bytes);
        if (!(node instanceof ObjectNode o)) {
            throw ApiException.badRequest("the body must be a JSON object");
        }
        return new Json(o);
    }

    /** A request's body; empty when it has none (a POST without a body must get a 400, not fail on reading it). */
    static byte[] body(io.helidon.webserver.http.ServerRequest req) {
        return req.content().hasEntity() ? req.content().as(byte[].class) : new byte[0];
    }

    /** Parses a request body of any JSON value (a 400 when it is none). */
    static JsonNode readTree(byte[] bytes) {
        try {
            JsonNode node = MAPPER.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw ApiException.badRequest("the body is empty: it must be JSON");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("the body is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("the body could not be read: " + e.getMessage());
        }
    }

    JsonNode node(String field) {
        JsonNode n = body.get(field);
        return n == null || n.isNull() ? null : n;
    }

    boolean has(String field) {
        return node(field) != null;
    }

    String string(String field, String otherwise) {
        JsonNode n = node(field);
        if (n == null) {
            return otherwise;
        }
        if (!n.isTextual()) {
            throw ApiException.badField(field, "'" + field + "' must be a string");
        }
        return n.asText();
    }

    boolean bool(String field, boolean otherwise) {
        JsonNode n = node(field);
        if (n == null) {
            return otherwise;
        }
        if (!n.isBoolean()) {
            throw ApiException.badField(field, "'" + field + "' must be true or false");
        }
        return n.asBoolean();
    }

    /** An integer in [min, max], or {@code otherwise} when absent. */
    long integer(String field, long min, long max, long otherwise) {
        JsonNode n = node(field);
        if (n == null) {
            return otherwise;
        }
        if (!n.isIntegralNumber() && !(n.isNumber() && n.asDouble() == Math.rint(n.asDouble()))) {
            throw ApiException.badField(field, "'" + field + "' must be an integer");
        }
        if (!n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
            throw ApiException.badField(field, "'" + field + "' must be between " + min + " and " + max + ", not " + n);
        }
        return n.asLong();
    }

    /** A number in [min, max], or {@code otherwise} when absent. */
    double number(String field, double min, double max, double otherwise) {
        JsonNode n = node(field);
        if (n == null) {
            return otherwise;
        }
        if (!n.isNumber()) {
            throw ApiException.badField(field, "'" + field + "' must be a number");
        }
        double v = n.asDouble();
        if (!(v >= min && v <= max)) {
            throw ApiException.badField(field, "'" + field + "' must be between " + min + " and " + max + ", not " + n);
        }
        return v;
    }

    /** {@code stop}: a string or a list of strings. */
    List<String> strings(String field) {
        JsonNode n = node(field);
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        if (n.isTextual()) {
            out.add(n.asText());
            return out;
        }
        if (!n.isArray()) {
            throw ApiException.badField(field, "'" + field + "' must be a string or a list of strings");
        }
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw ApiException.badField(field, "'" + field + "' must be a string or a list of strings");
            }
            out.add(e.asText());
        }
        return out;
    }

    /** The object's field names, in order. */
    Iterable<String> fieldNames() {
        java.util.List<String> names = new ArrayList<>();
        body.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The object of a field that must be an object, or null when absent. */
    Json object(String field) {
        JsonNode n = node(field);
        if (n == null) {
            return null;
        }
        if (!(n instanceof ObjectNode o)) {
            throw ApiException.badField(field, "'" + field + "' must be an object");
        }
        return new Json(o);
    }
}
