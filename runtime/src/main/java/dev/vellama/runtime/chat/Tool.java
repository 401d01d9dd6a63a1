package dev.vellama.runtime.chat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A function the model may call: its name, what it does, and its parameters as a JSON Schema (maps, lists and
 * plain values, as a JSON parser gives them; null for none). Templates see OpenAI's shape,
 * {@code {"type": "function", "function": {"name", "description", "parameters"}}}.
 *
 * @param name        what the model calls it by: 1 to 64 letters, digits, {@code _}, {@code .} or {@code -}
 *                    (OpenAI's rule)
 * @param description what the function does, for the model to read; null for none (the template then sees no
 *                    {@code description} key)
 * @param parameters  the JSON Schema of the arguments object; null when the function takes any object
 */
public record Tool(String name, String description, Object parameters) {
    /**
     * Checks the name.
     *
     * @throws NullPointerException     if {@code name} is null
     * @throws IllegalArgumentException if {@code name} is not 1 to 64 letters, digits, {@code _}, {@code .} or
     *                                  {@code -}
     */
    public Tool {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[a-zA-Z0-9_.-]{1,64}")) {
            throw new IllegalArgumentException("a tool's name must be 1 to 64 letters, digits, '_', '.' or '-', not '" + name + "'");
        }
    }

    /** {@return the parameters' schema, {@code {"type": "object"}} (any object) when none was given} */
    public Object parametersOrAny() {
        return parameters != null ? parameters : Map.of("type", "object");
    }

    Map<String, Object> asTemplateValue() {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", name);
        if (description != null) {
            function.put("description", description);
        }
        function.put("parameters", parametersOrAny());
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("type", "function");
        value.put("function", function);
        return value;
    }
}
