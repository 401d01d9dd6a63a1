package dev.vellama.runtime.chat.jinja;

/**
 * A missing variable, key or attribute. Like Jinja2's default {@code Undefined} it renders as the empty string,
 * is false, iterates as empty and has length 0, but any other use (attribute access, arithmetic) is an error
 * that reports why the value was missing.
 */
record Undefined(String reason) {

    JinjaException error() {
        return new JinjaException(reason);
    }

    static Undefined variable(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    static Undefined attribute(Object owner, String attribute) {
        return new Undefined("'" + PyValues.typeName(owner) + " object' has no attribute '" + attribute + "'");
    }
}
