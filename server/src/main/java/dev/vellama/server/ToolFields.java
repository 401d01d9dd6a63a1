package dev.vellama.server;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vellama.runtime.chat.Tool;
import dev.vellama.runtime.chat.ToolChoice;

/**
 * Reading tools and tool choices as the APIs spell them (OpenAI's chat completions and Responses, Anthropic's
 * Messages): the parts they share, each error naming the field.
 */
final class ToolFields {
    private ToolFields() {}

    /**
     * A tool from the object that holds its {@code name}, {@code description} and schema.
     *
     * @param schemaField    the schema's field: {@code parameters} or {@code input_schema}
     * @param schemaRequired whether the schema must be there
     * @param at             where the object is in the request, for errors
     */
    static Tool tool(JsonNode f, String schemaField, boolean schemaRequired, String at) {
        String name = string(f, "name", at);
        JsonNode schema = f.get(schemaField);
        boolean absent = schema == null || schema.isNull();
        if (absent && schemaRequired || !absent && !schema.isObject()) {
            throw ApiException.badField(at + "." + schemaField, "'" + at + "." + schemaField + "' must be a JSON Schema object");
        }
        try {
            return new Tool(name, f.path("description").isTextual() ? f.get("description").asText() : null,
                    absent ? null : Json.MAPPER.convertValue(schema, Object.class));
        } catch (IllegalArgumentException e) {
            throw ApiException.badField(at + ".name", e.getMessage());
        }
    }

    /** The string {@code field} of {@code o}, which must be there. */
    static String string(JsonNode o, String field, String at) {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) {
            throw ApiException.badField(at + "." + field, "'" + at + "." + field + "' must be a string");
        }
        return v.asText();
    }

    /** Reads one entry of a request's {@code tools}. */
    interface Reader {
        /**
         * @param t  the entry, of any JSON type
         * @param at where it is in the request ({@code tools[i]}), for errors
         */
        Tool read(JsonNode t, String at);
    }

    /** A request's {@code tools}, each read by {@code reader}: none when absent, a 400 when not a list. */
    static List<Tool> tools(JsonNode list, Reader reader) {
        if (list != null && !list.isArray()) {
            throw ApiException.badField("tools", "'tools' must be a list of tools");
        }
        List<Tool> out = new ArrayList<>();
        for (int i = 0; list != null && i < list.size(); i++) {
            out.add(reader.read(list.get(i), "tools[" + i + "]"));
        }
        return out;
    }

    /** A choice of the tool named {@code name}, which must be among {@code tools}. */
    static ToolChoice named(String name, List<Tool> tools, String param) {
        if (tools.stream().noneMatch(t -> t.name().equals(name))) {
            throw ApiException.badField(param, "'" + param + "' names '" + name + "', which is not among the tools");
        }
        return ToolChoice.function(name);
    }

    /** {@code choice}, if the request offers tools or the choice is none. */
    static ToolChoice checked(ToolChoice choice, List<Tool> tools) {
        if (tools.isEmpty() && !choice.mode().equals("none")) {
            throw ApiException.badField("tool_choice", "'tool_choice' needs 'tools'");
        }
        return choice;
    }
}
