package dev.vellama.runtime.chat.jinja;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/** Jinja's tests, the names after {@code is}: {@code defined}, {@code none}, {@code string}, {@code in}... */
final class JinjaTests {
    private JinjaTests() {
    }

    static boolean test(String name, Object value, List<Object> args) {
        return switch (name) {
            case "defined" -> !(value instanceof Undefined);
            case "undefined" -> value instanceof Undefined;
            case "none" -> value == null;
            case "boolean" -> value instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(value);
            case "false" -> Boolean.FALSE.equals(value);
            case "string" -> value instanceof String;
            case "number" -> PyValues.isNumber(value);
            case "integer" -> value instanceof Long || value instanceof Integer;
            case "float" -> value instanceof Double;
            case "mapping" -> value instanceof Map<?, ?>;
            case "iterable" -> value instanceof Collection<?> || value instanceof Map<?, ?> || value instanceof String;
            case "sequence" -> value instanceof Collection<?> || value instanceof Map<?, ?> || value instanceof String;
            case "callable" -> value instanceof JinjaCallable;
            case "odd" -> PyValues.equal(PyValues.arithmetic("%", value, 2L), 1L);
            case "even" -> PyValues.equal(PyValues.arithmetic("%", value, 2L), 0L);
            case "divisibleby" -> PyValues.equal(PyValues.arithmetic("%", value, arg(args, name)), 0L);
            case "eq", "equalto", "==" -> PyValues.equal(value, arg(args, name));
            case "ne", "!=" -> !PyValues.equal(value, arg(args, name));
            case "lt", "lessthan", "<" -> PyValues.compare(value, arg(args, name)) < 0;
            case "le", "<=" -> PyValues.compare(value, arg(args, name)) <= 0;
            case "gt", "greaterthan", ">" -> PyValues.compare(value, arg(args, name)) > 0;
            case "ge", ">=" -> PyValues.compare(value, arg(args, name)) >= 0;
            case "in" -> PyValues.contains(arg(args, name), value);
            case "sameas" -> value == arg(args, name) || (value != null && value.equals(arg(args, name))
                    && (value instanceof Boolean));
            case "lower" -> PyStrings.isCase(PyValues.str(value), true);
            case "upper" -> PyStrings.isCase(PyValues.str(value), false);
            default -> throw new JinjaException("no test named '" + name + "'");
        };
    }

    private static Object arg(List<Object> args, String test) {
        if (args.isEmpty()) {
            throw new JinjaException("test '" + test + "' needs an argument");
        }
        return args.getFirst();
    }
}
