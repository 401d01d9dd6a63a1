package dev.vellama.runtime.chat.jinja;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Jinja's built-in filters that chat templates use, plus Hugging Face's {@code tojson}. */
final class JinjaFilters {
    private static final java.util.regex.Pattern WORD =
            java.util.regex.Pattern.compile("\\w+", java.util.regex.Pattern.UNICODE_CHARACTER_CLASS);

    private JinjaFilters() {
    }

    static Object apply(String name, Object value, List<Object> args, Map<String, Object> kwargs) {
        Arguments a = new Arguments(name, args, kwargs);
        return switch (name) {
            case "trim" -> PyStrings.strip(PyValues.str(value), a.optionalString(0, "chars"), true, true);
            case "upper" -> PyValues.str(value).toUpperCase();
            case "lower" -> PyValues.str(value).toLowerCase();
            case "capitalize" -> PyStrings.capitalize(PyValues.str(value));
            case "title" -> PyStrings.jinjaTitle(PyValues.str(value));
            case "string" -> PyValues.str(value);
            case "safe" -> value;
            case "e", "escape" -> escapeHtml(PyValues.str(value));
            case "length", "count" -> PyValues.length(value);
            case "default", "d" -> {
                boolean falsyToo = PyValues.truthy(a.get(1, "boolean", false));
                boolean replace = value instanceof Undefined || (falsyToo && !PyValues.truthy(value));
                yield replace ? a.get(0, "default_value", "") : value;
            }
            case "first" -> {
                List<Object> items = PyValues.iterate(value);
                yield items.isEmpty() ? new Undefined("first() of an empty sequence") : items.getFirst();
            }
            case "last" -> {
                List<Object> items = PyValues.iterate(value);
                yield items.isEmpty() ? new Undefined("last() of an empty sequence") : items.getLast();
            }
            case "list" -> PyValues.iterate(value);
            case "reverse" -> value instanceof String s ? new StringBuilder(s).reverse().toString()
                    : PyValues.iterate(value).reversed();
            case "join" -> join(value, a);
            case "replace" -> PyStrings.replace(PyValues.str(value), a.string(0, "old"), a.string(1, "new"),
                    a.has(2, "count") ? PyValues.toLong(a.get(2, "count", null)) : -1);
            case "int" -> {
                PyValues.rejectUndefined(value);
                yield toInt(value, a.get(0, "default", 0L));
            }
            case "float" -> {
                PyValues.rejectUndefined(value);
                yield toFloat(value, a.get(0, "default", 0.0));
            }
            case "abs" -> {
                if (value instanceof Double d) {
                    yield Math.abs(d);
                }
                yield Math.abs(PyValues.toLong(value));
            }
            case "round" -> round(value, a);
            case "items" -> {
                if (value instanceof Undefined) {
                    yield List.of();
                }
                if (!(value instanceof Map<?, ?> map)) {
                    throw new JinjaException("items filter needs a mapping, got " + PyValues.typeName(value));
                }
                List<Object> items = new ArrayList<>();
                map.forEach((k, v) -> items.add(new PyTuple(k, v)));
                yield items;
            }
            case "dictsort" -> {
                // dictsort(case_sensitive=False, by='key', reverse=False), as Jinja2
                if (!(value instanceof Map<?, ?> map)) {
                    throw new JinjaException("dictsort filter needs a mapping, got " + PyValues.typeName(value));
                }
                boolean caseSensitive = PyValues.truthy(a.get(0, "case_sensitive", false));
                String by = PyValues.str(a.get(1, "by", "key"));
                if (!by.equals("key") && !by.equals("value")) {
                    throw new JinjaException("dictsort: 'by' must be 'key' or 'value', not '" + by + "'");
                }
                int at = by.equals("key") ? 0 : 1;
                List<Object> items = new ArrayList<>();
                map.forEach((k, v) -> items.add(new PyTuple(k, v)));
                Comparator<Object> order = (x, y) -> PyValues.compare(sortKey(((List<?>) x).get(at), caseSensitive),
                        sortKey(((List<?>) y).get(at), caseSensitive));
                items.sort(PyValues.truthy(a.get(2, "reverse", false)) ? order.reversed() : order);
                yield items;
            }
            case "truncate" -> truncate(PyValues.str(value), a);
            case "batch" -> batch(value, a);
            case "slice" -> slice(value, a);
            case "groupby" -> groupBy(value, a);
            case "tojson" -> {
                // Hugging Face's signature: tojson(ensure_ascii=False, indent=None, separators=None, sort_keys=False)
                Object indent = a.get(1, "indent", null);
                String itemSeparator = null;
                String keySeparator = null;
                if (a.get(2, "separators", null) instanceof List<?> pair && pair.size() == 2) {
                    itemSeparator = PyValues.str(pair.get(0));
                    keySeparator = PyValues.str(pair.get(1));
                }
                yield JsonText.format(value, indent == null ? null : (int) PyValues.toLong(indent),
                        itemSeparator, keySeparator, PyValues.truthy(a.get(3, "sort_keys", false)),
                        PyValues.truthy(a.get(0, "ensure_ascii", false)));
            }
            case "indent" -> {
                if (!(value instanceof String text)) {
                    throw new JinjaException("indent needs a string, got " + PyValues.typeName(value));
                }
                yield indent(text, a);
            }
            case "selectattr", "rejectattr" -> selectByAttribute(value, a, name.equals("selectattr"));
            case "select", "reject" -> selectByTest(value, a, name.equals("select"));
            case "map" -> map(value, a, kwargs);
            case "unique" -> {
                List<Object> unique = new ArrayList<>();
                for (Object item : PyValues.iterate(value)) {
                    if (item instanceof Map<?, ?> || item instanceof List<?> && !(item instanceof PyTuple)) {
                        throw new JinjaException("unique: unhashable type: '" + PyValues.typeName(item) + "'");
                    }
                    if (unique.stream().noneMatch(u -> PyValues.equal(u, item))) {
                        unique.add(item);
                    }
                }
                yield unique;
            }
            case "sort" -> sort(value, a);
            case "min", "max" -> {
                List<Object> items = PyValues.iterate(value);
                if (items.isEmpty()) {
                    yield new Undefined(name + "() of an empty sequence");
                }
                Comparator<Object> order = PyValues::compare;
                yield name.equals("min") ? items.stream().min(order).orElseThrow()
                        : items.stream().max(order).orElseThrow();
            }
            case "sum" -> {
                Object total = a.get(1, "start", 0L);
                for (Object item : PyValues.iterate(value)) {
                    Object term = a.has(0, "attribute") ? attributePath(item, a.string(0, "attribute")) : item;
                    total = PyValues.arithmetic("+", total, term);
                }
                yield total;
            }
            case "wordcount" -> WORD.matcher(PyValues.str(value)).results().count();
            case "center" -> {
                String s = PyValues.str(value);
                long pad = Math.max(0, PyValues.toLong(a.get(0, "width", 80L)) - s.length());
                yield PyValues.repeat(" ", pad / 2) + s + PyValues.repeat(" ", pad - pad / 2);
            }
            default -> throw new JinjaException("no filter named '" + name + "'");
        };
    }

    /** Jinja2's default: strings compare lower-cased unless case_sensitive. */
    private static Object sortKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? s.toLowerCase(java.util.Locale.ROOT) : v;
    }

    /** truncate(length=255, killwords=False, end='...', leeway=5), as Jinja2. */
    private static String truncate(String s, Arguments a) {
        long length = PyValues.toLong(a.get(0, "length", 255L));
        boolean killwords = PyValues.truthy(a.get(1, "killwords", false));
        String end = PyValues.str(a.get(2, "end", "..."));
        long leeway = PyValues.toLong(a.get(3, "leeway", 5L));
        if (length < end.length() || leeway < 0) {
            throw new JinjaException("truncate: expected length >= " + end.length() + " and leeway >= 0");
        }
        // the sum saturates: a length past any string keeps it whole
        if (s.codePointCount(0, s.length()) <= Math.min(Long.MAX_VALUE - leeway, length) + leeway) {
            return s;
        }
        int keep = (int) Math.max(0, length - end.length()); // code points, as Python's s[:n]; below the text's length here
        String head = s.substring(0, s.offsetByCodePoints(0, keep));
        if (killwords) {
            return head + end;
        }
        int space = head.lastIndexOf(' ');
        return (space >= 0 ? head.substring(0, space) : head) + end;
    }

    /** batch(linecount, fill_with=None): lists of linecount items, the last filled up when fill_with is given. */
    private static List<Object> batch(Object value, Arguments a) {
        long count = PyValues.toLong(a.get(0, "linecount", null));
        if (count <= 0) {
            throw new JinjaException("batch: linecount must be positive");
        }
        boolean fill = a.has(1, "fill_with") && a.get(1, "fill_with", null) != null;
        if (fill) {
            PyValues.checkLength(count); // the last batch is filled up to count
        }
        List<Object> out = new ArrayList<>();
        List<Object> tmp = new ArrayList<>();
        for (Object item : PyValues.iterate(value)) {
            if (tmp.size() == count) {
                out.add(tmp);
                tmp = new ArrayList<>();
            }
            tmp.add(item);
        }
        if (!tmp.isEmpty()) {
            while (fill && tmp.size() < count) {
                tmp.add(a.get(1, "fill_with", null));
            }
            out.add(tmp);
        }
        return out;
    }

    /** slice(slices, fill_with=None): the items in that many columns, as Jinja2 splits them. */
    private static List<Object> slice(Object value, Arguments a) {
        List<Object> seq = PyValues.iterate(value);
        long slices = PyValues.toLong(a.get(0, "slices", null));
        if (slices <= 0) {
            throw new JinjaException("slice: slices must be positive");
        }
        PyValues.checkLength(slices); // one list per slice
        boolean fill = a.has(1, "fill_with") && a.get(1, "fill_with", null) != null;
        int per = (int) (seq.size() / slices);
        int extra = (int) (seq.size() % slices);
        int offset = 0;
        List<Object> out = new ArrayList<>();
        for (int n = 0; n < slices; n++) {
            int start = offset + n * per;
            if (n < extra) {
                offset++;
            }
            int end = offset + (n + 1) * per;
            List<Object> tmp = new ArrayList<>(seq.subList(start, end));
            if (fill && n >= extra) {
                tmp.add(a.get(1, "fill_with", null));
            }
            out.add(tmp);
        }
        return out;
    }

    /**
     * groupby(attribute, default=None, case_sensitive=False): (grouper, items) tuples of the items sorted by the
     * attribute, the grouper as the first item of its group has it.
     */
    private static List<Object> groupBy(Object value, Arguments a) {
        String attribute = a.string(0, "attribute");
        Object fallback = a.get(1, "default", null);
        boolean caseSensitive = PyValues.truthy(a.get(2, "case_sensitive", false));
        List<Object> items = new ArrayList<>(PyValues.iterate(value));
        java.util.function.Function<Object, Object> key = item -> {
            Object k = attributePath(item, attribute);
            return k instanceof Undefined && a.has(1, "default") ? fallback : k;
        };
        items.sort((x, y) -> PyValues.compare(sortKey(key.apply(x), caseSensitive), sortKey(key.apply(y), caseSensitive)));
        List<Object> out = new ArrayList<>();
        List<Object> group = null;
        Object current = null;
        for (Object item : items) {
            Object k = sortKey(key.apply(item), caseSensitive);
            if (group == null || !PyValues.equal(current, k)) {
                group = new ArrayList<>();
                current = k;
                out.add(group);
            }
            group.add(item);
        }
        List<Object> tuples = new ArrayList<>();
        for (Object g : out) {
            List<?> members = (List<?>) g;
            tuples.add(new PyTuple(key.apply(members.getFirst()), members));
        }
        return tuples;
    }

    private static String join(Object value, Arguments a) {
        String separator = a.has(0, "d") ? a.string(0, "d") : "";
        List<String> parts = new ArrayList<>();
        for (Object item : PyValues.iterate(value)) {
            Object part = a.has(1, "attribute") ? attributePath(item, a.string(1, "attribute")) : item;
            parts.add(PyValues.str(part));
        }
        return PyValues.join(separator, parts);
    }

    private static Object toInt(Object value, Object fallback) {
        try {
            return switch (value) {
                case Boolean b -> b ? 1L : 0L;
                case Long l -> l;
                case Double d -> (long) d.doubleValue();
                case String s -> {
                    String t = s.strip().replace("_", "");
                    try {
                        yield Long.parseLong(t);
                    } catch (NumberFormatException e) {
                        yield (long) Double.parseDouble(t);
                    }
                }
                case null, default -> fallback;
            };
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static Object toFloat(Object value, Object fallback) {
        try {
            return switch (value) {
                case Boolean b -> b ? 1.0 : 0.0;
                case Number n -> n.doubleValue();
                case String s -> Double.parseDouble(s.strip());
                case null, default -> fallback;
            };
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static Object round(Object value, Arguments a) {
        int precision = (int) PyValues.toLong(a.get(0, "precision", 0L));
        String method = PyValues.str(a.get(1, "method", "common"));
        double scale = Math.pow(10, precision);
        double scaled = PyValues.toDouble(value) * scale;
        if (PyValues.isInteger(value) && method.equals("common")) {
            return PyValues.toLong(value); // Python's round() keeps an int an int
        }
        double rounded = switch (method) {
            case "ceil" -> Math.ceil(scaled);
            case "floor" -> Math.floor(scaled);
            case "common" -> Math.signum(scaled) * Math.floor(Math.abs(scaled) + 0.5);
            default -> throw new JinjaException("round method must be common, ceil or floor");
        };
        return rounded / scale;
    }

    private static String indent(String s, Arguments a) {
        Object width = a.get(0, "width", 4L);
        String pad = width instanceof String w ? w : PyValues.repeat(" ", PyValues.toLong(width));
        boolean first = PyValues.truthy(a.get(1, "first", false));
        boolean blank = PyValues.truthy(a.get(2, "blank", false));
        String[] lines = s.split("\n", -1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) {
                out.append('\n');
            }
            // as Jinja2: the first line only with first=True (even blank), the others unless empty (or with blank)
            boolean indentThis = i == 0 ? first : blank || !lines[i].isEmpty();
            out.append(indentThis ? pad : "").append(lines[i]);
        }
        return out.toString();
    }

    private static List<Object> selectByAttribute(Object value, Arguments a, boolean keep) {
        String attribute = a.string(0, "attribute");
        List<Object> result = new ArrayList<>();
        if (!PyValues.truthy(value)) {
            return result; // Jinja2 selects from a false value (none, an empty list) nothing, without iterating it
        }
        for (Object item : PyValues.iterate(value)) {
            Object attributeValue = attributePath(item, attribute);
            boolean passes = a.positionalCount() > 1
                    ? JinjaTests.test(a.string(1, "test"), attributeValue, a.positionalFrom(2))
                    : PyValues.truthy(attributeValue);
            if (passes == keep) {
                result.add(item);
            }
        }
        return result;
    }

    private static List<Object> selectByTest(Object value, Arguments a, boolean keep) {
        List<Object> result = new ArrayList<>();
        if (!PyValues.truthy(value)) {
            return result; // as selectattr: nothing from a false value
        }
        for (Object item : PyValues.iterate(value)) {
            boolean passes = a.positionalCount() > 0
                    ? JinjaTests.test(a.string(0, "test"), item, a.positionalFrom(1))
                    : PyValues.truthy(item);
            if (passes == keep) {
                result.add(item);
            }
        }
        return result;
    }

    private static List<Object> map(Object value, Arguments a, Map<String, Object> kwargs) {
        List<Object> result = new ArrayList<>();
        if (!PyValues.truthy(value)) {
            return result; // as selectattr: nothing from a false value
        }
        for (Object item : PyValues.iterate(value)) {
            if (kwargs.containsKey("attribute")) {
                Object mapped = attributePath(item, PyValues.str(kwargs.get("attribute")));
                if (mapped instanceof Undefined && kwargs.containsKey("default")) {
                    mapped = kwargs.get("default");
                }
                result.add(mapped);
            } else {
                Map<String, Object> rest = new LinkedHashMap<>(kwargs);
                result.add(apply(a.string(0, "filter"), item, a.positionalFrom(1), rest));
            }
        }
        return result;
    }

    private static List<Object> sort(Object value, Arguments a) {
        boolean reverse = PyValues.truthy(a.get(0, "reverse", false));
        boolean caseSensitive = PyValues.truthy(a.get(1, "case_sensitive", false));
        String attribute = a.has(2, "attribute") ? a.string(2, "attribute") : null;
        List<Object> items = PyValues.iterate(value);
        Comparator<Object> order = (x, y) -> {
            Object kx = attribute == null ? x : attributePath(x, attribute);
            Object ky = attribute == null ? y : attributePath(y, attribute);
            if (!caseSensitive && kx instanceof String sx && ky instanceof String sy) {
                return PyValues.compare(sx.toLowerCase(), sy.toLowerCase());
            }
            return PyValues.compare(kx, ky);
        };
        items.sort(reverse ? order.reversed() : order);
        return items;
    }

    /** Jinja's attribute lookup for filters: dotted paths, with integer parts used as indexes. */
    static Object attributePath(Object item, String path) {
        Object current = item;
        for (String part : path.split("\\.")) {
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? Long.parseLong(part) : part;
            if (current instanceof Undefined) {
                return current;
            }
            current = PyValues.getItem(current, key);
        }
        return current;
    }

    private static String escapeHtml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&#34;").replace("'", "&#39;");
    }

    /** A filter's arguments, reachable by position or by keyword as Python binds them. */
    private record Arguments(String filter, List<Object> args, Map<String, Object> kwargs) {
        boolean has(int index, String keyword) {
            return index < args.size() || kwargs.containsKey(keyword);
        }

        Object get(int index, String keyword, Object absent) {
            if (index < args.size()) {
                return args.get(index);
            }
            return kwargs.getOrDefault(keyword, absent);
        }

        String string(int index, String keyword) {
            if (!has(index, keyword)) {
                throw new JinjaException("filter '" + filter + "' is missing argument '" + keyword + "'");
            }
            Object v = get(index, keyword, null);
            if (v instanceof String s) {
                return s;
            }
            PyValues.rejectUndefined(v);
            return PyValues.str(v);
        }

        String optionalString(int index, String keyword) {
            Object v = get(index, keyword, null);
            return v == null ? null : PyValues.str(v);
        }

        int positionalCount() {
            return args.size();
        }

        List<Object> positionalFrom(int index) {
            return index >= args.size() ? List.of() : args.subList(index, args.size());
        }
    }
}
