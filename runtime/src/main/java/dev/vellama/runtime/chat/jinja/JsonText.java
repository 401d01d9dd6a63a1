package dev.vellama.runtime.chat.jinja;

import java.util.List;
import java.util.Map;

/**
 * JSON text for the {@code tojson} filter, formatted as Python's {@code json.dumps} formats it (Hugging Face
 * renders with {@code ensure_ascii=False} unless the template asks otherwise): {@code ", "} and {@code ": "}
 * separators, or one item per line when an indent is given.
 */
final class JsonText {
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;
    private final boolean ensureAscii;
    private final StringBuilder out = new StringBuilder();

    private JsonText(Integer indent, String itemSeparator, String keySeparator, boolean sortKeys,
            boolean ensureAscii) {
        this.indent = indent == null ? null : PyValues.repeat(" ", indent);
        this.itemSeparator = itemSeparator != null ? itemSeparator : (indent == null ? ", " : ",");
        this.keySeparator = keySeparator != null ? keySeparator : ": ";
        this.sortKeys = sortKeys;
        this.ensureAscii = ensureAscii;
    }

    static String format(Object value, Integer indent, String itemSeparator, String keySeparator,
            boolean sortKeys, boolean ensureAscii) {
        JsonText json = new JsonText(indent, itemSeparator, keySeparator, sortKeys, ensureAscii);
        json.write(value, 0);
        return json.out.toString();
    }

    private void write(Object value, int depth) {
        switch (value) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Long l -> out.append(l);
            case Integer i -> out.append(i);
            case Double d -> out.append(Double.isNaN(d) ? "NaN"
                    : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyStrings.floatRepr(d));
            case String s -> writeString(s);
            case List<?> list -> {
                if (list.isEmpty()) {
                    out.append("[]");
                    return;
                }
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        out.append(itemSeparator);
                    }
                    newline(depth + 1);
                    write(list.get(i), depth + 1);
                }
                newline(depth);
                out.append(']');
            }
            case Map<?, ?> map -> {
                if (map.isEmpty()) {
                    out.append("{}");
                    return;
                }
                out.append('{');
                var entries = new java.util.ArrayList<Map.Entry<?, ?>>(map.entrySet());
                if (sortKeys) {
                    entries.sort((a, b) -> PyValues.compare(a.getKey(), b.getKey()));
                }
                boolean first = true;
                for (Map.Entry<?, ?> e : entries) {
                    if (!first) {
                        out.append(itemSeparator);
                    }
                    first = false;
                    newline(depth + 1);
                    writeString(PyValues.str(e.getKey()));
                    out.append(keySeparator);
                    write(e.getValue(), depth + 1);
                }
                newline(depth);
                out.append('}');
            }
            case Namespace ns -> throw new JinjaException("Object of type Namespace is not JSON serializable");
            case Undefined u -> throw new JinjaException("Object of type Undefined is not JSON serializable");
            default -> throw new JinjaException("Object of type " + PyValues.typeName(value)
                    + " is not JSON serializable");
        }
    }

    private void newline(int depth) {
        if (indent != null) {
            PyValues.checkLength(out.length() + 1L + (long) indent.length() * depth);
            out.append('\n').append(indent.repeat(depth));
        }
    }

    private void writeString(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
