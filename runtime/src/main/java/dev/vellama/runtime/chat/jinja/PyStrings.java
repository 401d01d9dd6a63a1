package dev.vellama.runtime.chat.jinja;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/** Python's string behaviour where templates depend on it: whitespace, strip, split, repr and float text. */
final class PyStrings {
    private PyStrings() {
    }

    /** Python's {@code str.isspace} for one character. */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        if (left) {
            while (start < end && stripped(s.charAt(start), chars)) {
                start++;
            }
        }
        if (right) {
            while (end > start && stripped(s.charAt(end - 1), chars)) {
                end--;
            }
        }
        return s.substring(start, end);
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    /** {@code str.split(sep, maxsplit)}: with no separator, splits on whitespace runs and drops empty parts. */
    /**
     * Python's {@code str.rsplit}: {@link #split} from the right, done as a split of the reversed text by the
     * reversed separator (both of Python's splits are symmetric so), the pieces turned back.
     */
    static List<Object> rsplit(String s, String separator, long maxSplit) {
        if (maxSplit < 0) {
            return split(s, separator, maxSplit);
        }
        List<Object> reversed = split(new StringBuilder(s).reverse().toString(),
                separator == null ? null : new StringBuilder(separator).reverse().toString(), maxSplit);
        List<Object> out = new ArrayList<>();
        for (int i = reversed.size() - 1; i >= 0; i--) {
            out.add(new StringBuilder((String) reversed.get(i)).reverse().toString());
        }
        return out;
    }

    /**
     * Python's {@code str.format} for the fields templates use: {@code {}}, {@code {0}}, {@code {name}}, and
     * {@code {{}} and {@code }}} for braces; a field with a conversion or a format spec is refused.
     */
    static String format(String s, List<Object> args, java.util.Map<String, Object> kwargs) {
        StringBuilder out = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '{' || c == '}' && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                out.append(c);
                i++;
                continue;
            }
            if (c == '}') {
                throw new JinjaException("single '}' encountered in format string");
            }
            if (c != '{') {
                out.append(c);
                continue;
            }
            int end = s.indexOf('}', i);
            if (end < 0) {
                throw new JinjaException("single '{' encountered in format string");
            }
            String field = s.substring(i + 1, end);
            if (field.contains(":") || field.contains("!")) {
                throw new JinjaException("format fields with a conversion or spec are not supported: {" + field + "}");
            }
            Object value;
            if (field.isEmpty()) {
                if (auto >= args.size()) {
                    throw new JinjaException("format: replacement index " + auto + " out of range");
                }
                value = args.get(auto++);
            } else if (field.chars().allMatch(Character::isDigit)) {
                int index = Integer.parseInt(field);
                if (index >= args.size()) {
                    throw new JinjaException("format: replacement index " + index + " out of range");
                }
                value = args.get(index);
            } else if (kwargs.containsKey(field)) {
                value = kwargs.get(field);
            } else {
                throw new JinjaException("format: no argument named '" + field + "'");
            }
            out.append(PyValues.str(value));
            PyValues.checkLength(out.length());
            i = end;
        }
        return out.toString();
    }

    static List<Object> split(String s, String separator, long maxSplit) {
        List<Object> parts = new ArrayList<>();
        if (separator == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    return parts;
                }
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(s.substring(i));
                    return parts;
                }
                int start = i;
                while (i < n && !isSpace(s.charAt(i))) {
                    i++;
                }
                parts.add(s.substring(start, i));
            }
        }
        if (separator.isEmpty()) {
            throw new JinjaException("empty separator in split()");
        }
        int from = 0;
        while (maxSplit < 0 || parts.size() < maxSplit) {
            int at = s.indexOf(separator, from);
            if (at < 0) {
                break;
            }
            parts.add(s.substring(from, at));
            from = at + separator.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    /** Python's {@code s.replace(old, replacement, count)}, every occurrence when {@code count} is negative. */
    static String replace(String s, String old, String replacement, long count) {
        StringBuilder out = new StringBuilder();
        int from = 0;
        long done = 0;
        while (count < 0 || done < count) {
            int at = old.isEmpty() ? (from <= s.length() ? from : -1) : s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            PyValues.checkLength((long) out.length() + (at - from) + replacement.length() + 1);
            out.append(s, from, at).append(replacement);
            if (old.isEmpty()) {
                if (at < s.length()) {
                    out.append(s.charAt(at));
                }
                from = at + 1;
            } else {
                from = at + old.length();
            }
            done++;
        }
        if (from <= s.length()) {
            out.append(s.substring(from));
        }
        return out.toString();
    }

    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        return s.substring(0, 1).toUpperCase() + s.substring(1).toLowerCase();
    }

    /** Python's {@code str.title}: upper-cases the first letter of every run of letters. */
    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousIsLetter = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            out.append(previousIsLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousIsLetter = Character.isLetter(c);
        }
        return out.toString();
    }

    /** Jinja's {@code title} filter: upper-cases the first character after a space, dash or opening bracket. */
    static String jinjaTitle(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean wordStart = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean separator = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || isSpace(c);
            out.append(separator ? c : wordStart ? Character.toUpperCase(c) : Character.toLowerCase(c));
            wordStart = separator;
        }
        return out.toString();
    }

    /** Python's {@code str.islower}/{@code isupper}: at least one cased character and none of the other case. */
    static boolean isCase(String s, boolean lower) {
        boolean cased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (lower ? Character.isUpperCase(c) || Character.isTitleCase(c) : Character.isLowerCase(c)) {
                return false;
            }
            cased |= Character.isUpperCase(c) || Character.isLowerCase(c);
        }
        return cased;
    }

    /** Python's {@code format % args} for the conversions templates use: s, r, d, i, f and %, with flags, widths, precisions and {@code %(key)s}. */
    static String percentFormat(String format, Object args) {
        // a tuple gives the values; anything else (a list, a mapping, none) is the one value
        List<Object> values = args instanceof PyTuple tuple ? new ArrayList<>(tuple) : java.util.Collections.singletonList(args);
        boolean mapping = args instanceof java.util.Map<?, ?>;
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            int j = i + 1;
            String key = null;
            if (j < format.length() && format.charAt(j) == '(') {
                int close = format.indexOf(')', j);
                if (close < 0) {
                    throw new JinjaException("incomplete format key in '" + format + "'");
                }
                key = format.substring(j + 1, close);
                j = close + 1;
            }
            int flagsStart = j;
            while (j < format.length() && "-+ #0".indexOf(format.charAt(j)) >= 0) {
                j++;
            }
            String flags = format.substring(flagsStart, j);
            while (j < format.length() && ".0123456789".indexOf(format.charAt(j)) >= 0) {
                j++;
            }
            if (j >= format.length()) {
                throw new JinjaException("incomplete format in '" + format + "'");
            }
            String spec = format.substring(flagsStart + flags.length(), j);
            char conversion = format.charAt(j);
            i = j;
            if (conversion == '%') {
                out.append('%');
                continue;
            }
            Object value;
            if (key != null) {
                if (!(args instanceof java.util.Map<?, ?> map)) {
                    throw new JinjaException("format requires a mapping");
                }
                if (!map.containsKey(key)) {
                    throw new JinjaException("format: no key '" + key + "'");
                }
                value = map.get(key);
                next++;
            } else {
                if (next >= values.size()) {
                    throw new JinjaException("not enough arguments for format string");
                }
                value = values.get(next++);
            }
            String text = switch (conversion) {
                case 's' -> PyValues.str(value);
                case 'r' -> PyValues.repr(value);
                case 'd', 'i' -> Long.toString(PyValues.toLong(value));
                case 'f' -> {
                    String precision = spec.contains(".") ? spec.substring(spec.indexOf('.') + 1) : "6";
                    PyValues.checkLength(precision.length() > 9 ? Long.MAX_VALUE : Long.parseLong("0" + precision));
                    yield String.format(java.util.Locale.ROOT, "%." + precision + "f", PyValues.toDouble(value));
                }
                default -> throw new JinjaException("unsupported format character '" + conversion + "'");
            };
            out.append(pad(text, flags, spec, conversion != 's' && conversion != 'r'));
            PyValues.checkLength(out.length());
        }
        boolean unused = args instanceof PyTuple ? next < values.size() : next == 0;
        if (!mapping && unused) {
            throw new JinjaException("not all arguments converted during string formatting");
        }
        return out.toString();
    }

    /**
     * A %-conversion's text to its field width: '-' justifies left; '0' pads a number with zeros after its sign;
     * '+' and ' ' put a sign or a space before a non-negative number; otherwise spaces on the left.
     */
    private static String pad(String text, String flags, String spec, boolean numeric) {
        if (numeric && !text.startsWith("-")) {
            text = flags.contains("+") ? "+" + text : flags.contains(" ") ? " " + text : text;
        }
        String widthText = spec.contains(".") ? spec.substring(0, spec.indexOf('.')) : spec;
        if (widthText.isEmpty()) {
            return text;
        }
        long width = widthText.length() > 9 ? Long.MAX_VALUE : Long.parseLong(widthText);
        PyValues.checkLength(width);
        int missing = (int) width - text.codePointCount(0, text.length());
        if (missing <= 0) {
            return text;
        }
        if (flags.contains("-")) {
            return text + " ".repeat(missing);
        }
        if (flags.contains("0") && numeric) {
            int sign = text.startsWith("-") || text.startsWith("+") || text.startsWith(" ") ? 1 : 0;
            return text.substring(0, sign) + "0".repeat(missing) + text.substring(sign);
        }
        return " ".repeat(missing) + text;
    }

    /** Python's {@code repr} of a string: single quotes unless the text has one and no double quote. */
    static String repr(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder out = new StringBuilder(s.length() + 2).append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c == quote) {
                        out.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\x%02x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append(quote).toString();
    }

    /** Python's {@code repr} of a float: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = exact.unscaledValue().toString();
        int exponent = digits.length() - 1 - exact.scale();
        String sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            String exp = String.format("%02d", Math.abs(exponent));
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + exp;
        }
        String plain = exact.toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }
}
