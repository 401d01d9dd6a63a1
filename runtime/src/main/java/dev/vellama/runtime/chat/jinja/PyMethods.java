package dev.vellama.runtime.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The Python methods of strings and dicts that chat templates call, such as {@code .startswith} and {@code .items()}. */
final class PyMethods {
    private PyMethods() {
    }

    /** The method {@code name} bound to {@code obj}, or null when the value has no such method. */
    static JinjaCallable bind(Object obj, String name) {
        if (obj instanceof String s) {
            return stringMethod(s, name);
        }
        if (obj instanceof Map<?, ?> map) {
            return dictMethod(map, name);
        }
        if (obj instanceof List<?> list) {
            return listMethod(list, name);
        }
        return null;
    }

    private static JinjaCallable stringMethod(String s, String name) {
        return switch (name) {
            case "startswith" -> (args, kwargs) -> affix(s, arg(args, 0, name), true);
            case "endswith" -> (args, kwargs) -> affix(s, arg(args, 0, name), false);
            case "strip" -> (args, kwargs) -> PyStrings.strip(s, optionalString(args, 0), true, true);
            case "lstrip" -> (args, kwargs) -> PyStrings.strip(s, optionalString(args, 0), true, false);
            case "rstrip" -> (args, kwargs) -> PyStrings.strip(s, optionalString(args, 0), false, true);
            case "split" -> (args, kwargs) -> PyStrings.split(s, optionalString(args, 0, kwargs, "sep"),
                    optionalLong(args, 1, kwargs, "maxsplit", -1));
            case "rsplit" -> (args, kwargs) -> PyStrings.rsplit(s, optionalString(args, 0, kwargs, "sep"),
                    optionalLong(args, 1, kwargs, "maxsplit", -1));
            case "format" -> (args, kwargs) -> PyStrings.format(s, args, kwargs);
            case "upper" -> (args, kwargs) -> s.toUpperCase();
            case "lower" -> (args, kwargs) -> s.toLowerCase();
            case "title" -> (args, kwargs) -> PyStrings.title(s);
            case "capitalize" -> (args, kwargs) -> PyStrings.capitalize(s);
            case "replace" -> (args, kwargs) -> PyStrings.replace(s, string(arg(args, 0, name)),
                    string(arg(args, 1, name)), optionalLong(args, 2, kwargs, "count", -1));
            case "find" -> (args, kwargs) -> (long) s.indexOf(string(arg(args, 0, name)));
            case "rfind" -> (args, kwargs) -> (long) s.lastIndexOf(string(arg(args, 0, name)));
            case "count" -> (args, kwargs) -> {
                String sub = string(arg(args, 0, name));
                return (long) (sub.isEmpty() ? s.length() + 1 : s.split(java.util.regex.Pattern.quote(sub), -1).length - 1);
            };
            case "join" -> (args, kwargs) -> {
                List<String> parts = new ArrayList<>();
                for (Object item : PyValues.iterate(arg(args, 0, name))) {
                    parts.add(string(item));
                }
                return PyValues.join(s, parts);
            };
            case "splitlines" -> (args, kwargs) -> {
                List<Object> lines = new ArrayList<>(List.of(s.split("\r\n|\r|\n", -1)));
                if (!lines.isEmpty() && ((String) lines.getLast()).isEmpty()) {
                    lines.removeLast();
                }
                return lines;
            };
            case "isdigit" -> (args, kwargs) -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> (args, kwargs) -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
            case "isalnum" -> (args, kwargs) -> !s.isEmpty() && s.chars().allMatch(Character::isLetterOrDigit);
            case "isspace" -> (args, kwargs) -> !s.isEmpty() && s.chars().allMatch(c -> PyStrings.isSpace((char) c));
            case "islower" -> (args, kwargs) -> PyStrings.isCase(s, true);
            case "isupper" -> (args, kwargs) -> PyStrings.isCase(s, false);
            default -> null;
        };
    }

    private static JinjaCallable dictMethod(Map<?, ?> map, String name) {
        return switch (name) {
            case "items" -> (args, kwargs) -> {
                List<Object> items = new ArrayList<>();
                map.forEach((k, v) -> items.add(new PyTuple(k, v)));
                return items;
            };
            case "keys" -> (args, kwargs) -> new ArrayList<Object>(map.keySet());
            case "values" -> (args, kwargs) -> new ArrayList<Object>(map.values());
            case "get" -> (args, kwargs) -> {
                Object key = arg(args, 0, name);
                return map.containsKey(key) ? map.get(key) : (args.size() > 1 ? args.get(1) : null);
            };
            default -> null;
        };
    }

    private static JinjaCallable listMethod(List<?> list, String name) {
        return switch (name) {
            case "index" -> (args, kwargs) -> {
                Object needle = arg(args, 0, name);
                for (int i = 0; i < list.size(); i++) {
                    if (PyValues.equal(list.get(i), needle)) {
                        return (long) i;
                    }
                }
                throw new JinjaException(PyValues.repr(needle) + " is not in list");
            };
            case "count" -> (args, kwargs) -> {
                Object needle = arg(args, 0, name);
                return list.stream().filter(item -> PyValues.equal(item, needle)).count();
            };
            default -> null;
        };
    }

    private static boolean affix(String s, Object affixes, boolean prefix) {
        List<Object> candidates = affixes instanceof List<?> list ? new ArrayList<>(list) : List.of(affixes);
        for (Object candidate : candidates) {
            String a = string(candidate);
            if (prefix ? s.startsWith(a) : s.endsWith(a)) {
                return true;
            }
        }
        return false;
    }

    private static Object arg(List<Object> args, int index, String method) {
        if (index >= args.size()) {
            throw new JinjaException(method + "() is missing argument " + (index + 1));
        }
        return args.get(index);
    }

    private static String string(Object v) {
        if (v instanceof String s) {
            return s;
        }
        PyValues.rejectUndefined(v);
        throw new JinjaException("expected a string argument, got " + PyValues.typeName(v));
    }

    private static String optionalString(List<Object> args, int index) {
        return index < args.size() && args.get(index) != null ? string(args.get(index)) : null;
    }

    private static String optionalString(List<Object> args, int index, Map<String, Object> kwargs, String key) {
        Object v = index < args.size() ? args.get(index) : kwargs.get(key);
        return v == null ? null : string(v);
    }

    private static long optionalLong(List<Object> args, int index, Map<String, Object> kwargs, String key,
            long absent) {
        Object v = index < args.size() ? args.get(index) : kwargs.get(key);
        return v == null ? absent : PyValues.toLong(v);
    }
}
