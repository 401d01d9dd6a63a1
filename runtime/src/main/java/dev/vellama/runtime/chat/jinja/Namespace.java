package dev.vellama.runtime.chat.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/** The object {@code namespace(...)} returns: the one value whose attributes a template may assign. */
final class Namespace {
    private final Map<String, Object> attributes = new LinkedHashMap<>();

    Namespace(Map<String, Object> initial) {
        attributes.putAll(initial);
    }

    boolean has(String name) {
        return attributes.containsKey(name);
    }

    Object get(String name) {
        return attributes.get(name);
    }

    void set(String name, Object value) {
        attributes.put(name, value);
    }

    @Override
    public String toString() {
        return "<Namespace " + attributes + ">";
    }
}
