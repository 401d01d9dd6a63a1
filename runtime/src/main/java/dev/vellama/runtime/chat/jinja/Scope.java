package dev.vellama.runtime.chat.jinja;

import java.util.HashMap;
import java.util.Map;

/**
 * Variables visible at one point of a template. A for-loop iteration and a macro call each get a child
 * scope, so assignments inside them do not leak out, as in Jinja2; {@code if} blocks share their scope.
 */
final class Scope {
    private final Scope parent;
    private final Map<String, Object> variables = new HashMap<>();

    Scope(Scope parent) {
        this.parent = parent;
    }

    Object lookup(String name) {
        for (Scope s = this; s != null; s = s.parent) {
            if (s.variables.containsKey(name)) {
                return s.variables.get(name);
            }
        }
        return Undefined.variable(name);
    }

    void set(String name, Object value) {
        variables.put(name, value);
    }

    Scope child() {
        return new Scope(this);
    }
}
