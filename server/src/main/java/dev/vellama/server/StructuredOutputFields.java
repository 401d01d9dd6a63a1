package dev.vellama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vellama.runtime.grammar.Grammar;
import dev.vellama.runtime.grammar.GrammarException;

/**
 * The fields that constrain a reply's shape, read into a grammar: OpenAI's {@code response_format}
 * ({@code text}, {@code json_object}, {@code json_schema} with its {@code schema}), and llama-server's
 * {@code json_schema} (a schema) and {@code grammar} (GBNF). One at most; a schema or grammar the converter cannot
 * honour is a 400 naming the field and the keyword.
 */
final class StructuredOutputFields {
    private StructuredOutputFields() {}

    /** The grammar the request asks for, or null for free text. */
    static Grammar read(Json j, GrammarCache cache) {
        int given = (j.has("response_format") ? 1 : 0) + (j.has("json_schema") ? 1 : 0) + (j.has("grammar") ? 1 : 0);
        if (given > 1) {
            throw ApiException.badField("response_format", "give one of 'response_format', 'json_schema' and 'grammar'");
        }
        if (j.has("grammar")) {
            String gbnf = j.string("grammar", null);
            return compile("grammar", "gbnf:" + gbnf, () -> Grammar.parse(gbnf), cache);
        }
        if (j.has("json_schema")) {
            return schema("json_schema", j.node("json_schema"), cache);
        }
        Json format = j.object("response_format");
        if (format == null) {
            return null;
        }
        String type = format.string("type", null);
        if (type == null) {
            throw ApiException.badField("response_format.type", "'response_format.type' is required: text, json_object or json_schema");
        }
        return switch (type) {
            case "text" -> null;
            case "json_object" -> format.has("schema") // llama-server lets json_object carry a schema
                    ? schema("response_format.schema", format.node("schema"), cache) : Grammar.jsonObject();
            case "json_schema" -> {
                Json spec = format.object("json_schema");
                if (spec == null || !spec.has("schema")) {
                    // OpenAI requires a name and allows the schema out; without one any JSON object will do
                    if (spec == null) {
                        throw ApiException.badField("response_format.json_schema", "'response_format.json_schema' is required for type json_schema");
                    }
                    yield Grammar.jsonObject();
                }
                yield schema("response_format.json_schema.schema", spec.node("schema"), cache);
            }
            default -> throw ApiException.badField("response_format.type",
                    "'response_format.type' must be text, json_object or json_schema, not '" + type + "'");
        };
    }

    /** The grammar of a JSON Schema given in {@code field}; a schema the converter cannot honour is a 400 naming it. */
    static Grammar schema(String field, JsonNode schema, GrammarCache cache) {
        if (!schema.isObject() && !schema.isBoolean()) {
            throw ApiException.badField(field, "'" + field + "' must be a JSON Schema object");
        }
        Object value = Json.MAPPER.convertValue(schema, Object.class);
        return compile(field, "schema:" + schema, () -> Grammar.fromJsonSchema(value), cache);
    }

    private static Grammar compile(String field, String key, java.util.function.Supplier<Grammar> make, GrammarCache cache) {
        try {
            return cache.get(key, make);
        } catch (GrammarException e) {
            throw ApiException.badField(field, e.getMessage());
        }
    }
}
