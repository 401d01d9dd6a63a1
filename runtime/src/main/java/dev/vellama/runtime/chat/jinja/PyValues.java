package dev.vellama.runtime.chat.jinja;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Python semantics for template values. Values are {@code null} (None), {@link Boolean}, {@link Long},
 * {@link Double}, {@link String}, {@link List}, {@link Map} with string keys, {@link Namespace},
 * {@link LoopInfo}, {@link JinjaCallable} and {@link Undefined}.
 */
final class PyValues {
    /** The longest string or list a template may build: a chat prompt is far shorter, a hostile template no longer. */
    static final int MAX_LENGTH = 1 << 24;

    private PyValues() {
    }

    /** Refuses a string or list of {@code length} elements when it would pass {@link #MAX_LENGTH}. */
    static void checkLength(long length) {
        if (length > MAX_LENGTH) {
            throw new JinjaException("the template builds a string or list of more than " + MAX_LENGTH + " elements");
        }
    }

    /** {@code unit} elements {@code times} over (none when negative), refused past {@link #MAX_LENGTH}. */
    private static int repeatedLength(int unit, long times) {
        long n = Math.max(0, times);
        // beyond MAX_LENGTH repetitions any non-empty unit is too long, and below it the product fits a long
        checkLength(unit == 0 ? 0 : unit * Math.min(n, MAX_LENGTH + 1L));
        return (int) n;
    }

    /** {@code s} {@code times} over, as Python's {@code s * times}. */
    static String repeat(String s, long times) {
        return s.repeat(repeatedLength(s.length(), times));
    }

    /** {@code a + b}, refused past {@link #MAX_LENGTH}. */
    static String concat(String a, String b) {
        checkLength((long) a.length() + b.length());
        return a + b;
    }

    /** The parts with {@code separator} between them, as Python's {@code separator.join(parts)}. */
    static String join(String separator, List<String> parts) {
        long length = (long) separator.length() * Math.max(0, parts.size() - 1);
        for (String part : parts) {
            length += part.length();
        }
        checkLength(length);
        return String.join(separator, parts);
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case Boolean b -> "bool";
            case Long l -> "int";
            case Integer i -> "int";
            case Double d -> "float";
            case String s -> "str";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            case Namespace n -> "Namespace";
            case LoopInfo l -> "LoopContext";
            case Undefined u -> "Undefined";
            case JinjaCallable c -> "function";
            default -> v.getClass().getSimpleName();
        };
    }

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Undefined u -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case Integer i -> i != 0;
            case Double d -> d != 0;
            case String s -> !s.isEmpty();
            case Collection<?> c -> !c.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> true;
        };
    }

    /** Python's {@code str(v)}, which is what {@code {{ v }}} prints; undefined prints as nothing. */
    static String str(Object v) {
        return switch (v) {
            case null -> "None";
            case String s -> s;
            case Undefined u -> "";
            case Boolean b -> b ? "True" : "False";
            case Double d -> PyStrings.floatRepr(d);
            case Long l -> l.toString();
            case Integer i -> i.toString();
            default -> repr(v);
        };
    }

    static String repr(Object v) {
        return switch (v) {
            case String s -> PyStrings.repr(s);
            case PyTuple tuple -> {
                StringBuilder out = new StringBuilder("(");
                for (int i = 0; i < tuple.size(); i++) {
                    out.append(i > 0 ? ", " : "").append(repr(tuple.get(i)));
                }
                yield out.append(tuple.size() == 1 ? ",)" : ")").toString();
            }
            case List<?> list -> {
                StringBuilder out = new StringBuilder("[");
                for (int i = 0; i < list.size(); i++) {
                    out.append(i > 0 ? ", " : "").append(repr(list.get(i)));
                }
                yield out.append(']').toString();
            }
            case Map<?, ?> map -> {
                StringBuilder out = new StringBuilder("{");
                boolean first = true;
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    out.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                    first = false;
                }
                yield out.append('}').toString();
            }
            case Undefined u -> "Undefined";
            case JinjaCallable c -> "<function>";
            case null -> "None";
            default -> v instanceof Boolean || v instanceof Number ? str(v) : v.toString();
        };
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Integer || v instanceof Double || v instanceof Boolean;
    }

    static boolean isInteger(Object v) {
        return v instanceof Long || v instanceof Integer || v instanceof Boolean;
    }

    static long toLong(Object v) {
        return switch (v) {
            case Boolean b -> b ? 1 : 0;
            case Number n -> n.longValue();
            case null, default -> throw new JinjaException("expected an integer, got " + typeName(v));
        };
    }

    static double toDouble(Object v) {
        return switch (v) {
            case Boolean b -> b ? 1 : 0;
            case Number n -> n.doubleValue();
            case null, default -> throw new JinjaException("expected a number, got " + typeName(v));
        };
    }

    /** Python {@code ==}: numbers compare by value across int, float and bool; containers compare deeply. */
    static boolean equal(Object a, Object b) {
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (isNumber(a) && isNumber(b)) {
            if (isInteger(a) && isInteger(b)) {
                return toLong(a) == toLong(b);
            }
            return toDouble(a) == toDouble(b);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            if (la.size() != lb.size()) {
                return false;
            }
            for (int i = 0; i < la.size(); i++) {
                if (!equal(la.get(i), lb.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            if (ma.size() != mb.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                if (!mb.containsKey(e.getKey()) || !equal(e.getValue(), mb.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    /** Python ordering for {@code <}, {@code >}, sort, min and max. */
    static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (isInteger(a) && isInteger(b)) {
                return Long.compare(toLong(a), toLong(b));
            }
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String sa && b instanceof String sb) {
            return Integer.signum(sa.compareTo(sb));
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
                int c = compare(la.get(i), lb.get(i));
                if (c != 0) {
                    return c;
                }
            }
            return Integer.compare(la.size(), lb.size());
        }
        rejectUndefined(a);
        rejectUndefined(b);
        throw new JinjaException("cannot compare " + typeName(a) + " with " + typeName(b));
    }

    static void rejectUndefined(Object v) {
        if (v instanceof Undefined u) {
            throw u.error();
        }
    }

    static Object arithmetic(String op, Object a, Object b) {
        rejectUndefined(a);
        rejectUndefined(b);
        if (op.equals("+")) {
            if (a instanceof String sa && b instanceof String sb) {
                return concat(sa, sb);
            }
            if (a instanceof List<?> la && b instanceof List<?> lb) {
                checkLength((long) la.size() + lb.size());
                List<Object> joined = new ArrayList<>(la);
                joined.addAll(lb);
                return joined;
            }
        }
        if (op.equals("*")) {
            if (a instanceof String s && isInteger(b)) {
                return repeat(s, toLong(b));
            }
            if (b instanceof String s && isInteger(a)) {
                return repeat(s, toLong(a));
            }
            if (a instanceof List<?> list && isInteger(b)) {
                return repeat(list, toLong(b));
            }
            if (b instanceof List<?> list && isInteger(a)) {
                return repeat(list, toLong(a));
            }
        }
        if (op.equals("%") && a instanceof String format) {
            return PyStrings.percentFormat(format, b);
        }
        if (!isNumber(a) || !isNumber(b)) {
            if (op.equals("+") && a instanceof String) {
                throw new JinjaException("can only concatenate str (not \"" + typeName(b) + "\") to str");
            }
            throw new JinjaException("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '"
                    + typeName(b) + "'");
        }
        boolean integers = isInteger(a) && isInteger(b);
        if (integers) {
            long x = toLong(a);
            long y = toLong(b);
            switch (op) {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "/": return divide(x, y);
                case "//": return Math.floorDiv(x, nonZero(y));
                case "%": return Math.floorMod(x, nonZero(y));
                case "**": {
                    if (y >= 0) {
                        return power(x, y);
                    }
                    if (x == 0) {
                        throw new JinjaException("0 cannot be raised to a negative power");
                    }
                    return Math.pow(x, y);
                }
                default: break;
            }
        } else {
            double x = toDouble(a);
            double y = toDouble(b);
            switch (op) {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "/": return divide(x, y);
                case "//": return Math.floor(divide(x, y));
                case "%": {
                    nonZero(y);
                    double r = x % y;
                    return r != 0 && (r < 0) != (y < 0) ? r + y : r;
                }
                case "**": {
                    if (x == 0 && y < 0) {
                        throw new JinjaException("0.0 cannot be raised to a negative power");
                    }
                    return Math.pow(x, y);
                }
                default: break;
            }
        }
        throw new JinjaException("unknown operator " + op);
    }

    private static List<Object> repeat(List<?> list, long times) {
        int n = repeatedLength(list.size(), times);
        List<Object> result = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            result.addAll(list);
        }
        return result;
    }

    private static double divide(double x, double y) {
        if (y == 0) {
            throw new JinjaException("division by zero");
        }
        return x / y;
    }

    private static long nonZero(long y) {
        if (y == 0) {
            throw new JinjaException("integer division or modulo by zero");
        }
        return y;
    }

    private static double nonZero(double y) {
        if (y == 0) {
            throw new JinjaException("float modulo by zero");
        }
        return y;
    }

    private static long power(long base, long exponent) {
        long result = 1;
        for (long i = 0; i < exponent; i++) {
            result = Math.multiplyExact(result, base);
        }
        return result;
    }

    /** Python {@code needle in haystack}. */
    static boolean contains(Object haystack, Object needle) {
        return switch (haystack) {
            case String s -> {
                if (!(needle instanceof String n)) {
                    throw new JinjaException("'in <string>' requires string as left operand, not "
                            + typeName(needle));
                }
                yield s.contains(n);
            }
            case List<?> list -> list.stream().anyMatch(item -> equal(item, needle));
            case Map<?, ?> map -> map.containsKey(needle);
            case Undefined u -> false;
            case null, default -> throw new JinjaException("argument of type '" + typeName(haystack)
                    + "' is not iterable");
        };
    }

    static long length(Object v) {
        return switch (v) {
            case String s -> s.codePointCount(0, s.length());
            case Collection<?> c -> c.size();
            case Map<?, ?> m -> m.size();
            case Undefined u -> 0;
            case null, default -> throw new JinjaException("object of type '" + typeName(v) + "' has no len()");
        };
    }

    /** The items a for loop visits: list items, a string's characters, a dict's keys; nothing for undefined. */
    static List<Object> iterate(Object v) {
        return switch (v) {
            case List<?> list -> new ArrayList<>(list);
            case Map<?, ?> map -> new ArrayList<>(map.keySet());
            case String s -> {
                List<Object> chars = new ArrayList<>();
                s.codePoints().forEach(cp -> chars.add(Character.toString(cp)));
                yield chars;
            }
            case Undefined u -> List.of();
            case null, default -> throw new JinjaException("'" + typeName(v) + "' object is not iterable");
        };
    }

    /** {@code obj.name}: an attribute (a method) first, then an item, as Jinja2's {@code getattr} does. */
    static Object getAttribute(Object obj, String name) {
        if (obj instanceof Undefined u) {
            throw u.error();
        }
        JinjaCallable method = PyMethods.bind(obj, name);
        if (method != null) {
            return method;
        }
        return switch (obj) {
            case Map<?, ?> map -> map.containsKey(name) ? map.get(name) : Undefined.attribute(obj, name);
            case Namespace ns -> ns.has(name) ? ns.get(name) : Undefined.attribute(obj, name);
            case LoopInfo loop -> loop.attribute(name);
            case null, default -> Undefined.attribute(obj, name);
        };
    }

    /** {@code obj[key]}: an item first, then for string keys an attribute, as Jinja2's {@code getitem} does. */
    static Object getItem(Object obj, Object key) {
        if (obj instanceof Undefined u) {
            throw u.error();
        }
        if (obj instanceof Map<?, ?> map && map.containsKey(key)) {
            return map.get(key);
        }
        if ((obj instanceof List<?> || obj instanceof String) && isInteger(key)) {
            long index = toLong(key);
            long size = obj instanceof List<?> list ? list.size() : ((String) obj).length();
            if (index < 0) {
                index += size;
            }
            if (index < 0 || index >= size) {
                return new Undefined(typeName(obj) + " index " + toLong(key) + " is out of range");
            }
            return obj instanceof List<?> list ? list.get((int) index)
                    : String.valueOf(((String) obj).charAt((int) index));
        }
        if (key instanceof String name) {
            return getAttribute(obj, name);
        }
        return new Undefined("'" + typeName(obj) + " object' has no item " + repr(key));
    }

    /** Python slicing of a list or string. */
    static Object slice(Object obj, Object start, Object stop, Object step) {
        List<Object> items;
        boolean isString = obj instanceof String;
        if (obj instanceof String s) {
            items = iterate(s);
        } else if (obj instanceof List<?> list) {
            items = new ArrayList<>(list);
        } else {
            rejectUndefined(obj);
            throw new JinjaException("'" + typeName(obj) + "' object is not subscriptable");
        }
        int n = items.size();
        long stepValue = step == null ? 1 : toLong(step);
        if (stepValue == 0) {
            throw new JinjaException("slice step cannot be zero");
        }
        long lo;
        long hi;
        if (stepValue > 0) {
            lo = start == null ? 0 : clampIndex(toLong(start), n, 0, n);
            hi = stop == null ? n : clampIndex(toLong(stop), n, 0, n);
        } else {
            lo = start == null ? n - 1 : clampIndex(toLong(start), n, -1, n - 1);
            hi = stop == null ? -1 : clampIndex(toLong(stop), n, -1, n - 1);
        }
        List<Object> result = new ArrayList<>();
        for (long i = lo; stepValue > 0 ? i < hi : i > hi; i += stepValue) {
            result.add(items.get((int) i));
        }
        if (isString) {
            StringBuilder out = new StringBuilder();
            result.forEach(out::append);
            return out.toString();
        }
        return result;
    }

    private static long clampIndex(long index, int n, long min, long max) {
        long i = index < 0 ? index + n : index;
        return Math.max(min, Math.min(max, i));
    }
}
