package dev.vellama.runtime.chat;

/**
 * Reads one Gemma 4 tool call, {@code call:NAME{key:value,...}<tool_call|>}, from just after its
 * {@code <|tool_call>}, and writes its arguments as compact JSON the way llama.cpp's Gemma 4 parser does.
 *
 * <p>The notation is what Gemma 4's chat template writes for earlier calls: a string is the text between two
 * {@code <|"|>} markers, taken as it stands (it has no escapes); a key is the text up to its colon (no colon or
 * closing brace in it), kept as written; numbers (JSON's syntax, kept as written), {@code true}, {@code false} and
 * {@code null} are JSON's; lists and dicts are bracketed and comma-separated, with whitespace allowed after an
 * opening bracket, a comma or a colon and before a closing bracket. The call ends with {@code <tool_call|>}, or
 * with the text (a reply cut off right after its last call).
 *
 * <p>Where llama.cpp is stricter it accepts whitespace before a comma too, and any function name made of the
 * characters a {@link Tool} name may have (llama.cpp takes only the names of the tools offered).
 */
final class Gemma4Notation {
    /** What opens a call. */
    static final String OPEN = "<|tool_call>";
    /** What closes a call. */
    static final String CLOSE = "<tool_call|>";
    private static final String QUOTE = "<|\"|>";
    private static final String CALL = "call:";

    private final String text;
    private int at;

    /**
     * A reader of the call that starts at {@code from}.
     *
     * @param text the reply
     * @param from where the call starts, just after {@code <|tool_call>}
     */
    Gemma4Notation(String text, int from) {
        this.text = text;
        this.at = from;
    }

    /** {@return where the call read by {@link #readCall} ends: after its {@code <tool_call|>}, or the text's end} */
    int end() {
        return at;
    }

    /** {@return the call's name and its arguments as JSON text, or null when the text there is not a call} */
    String[] readCall() {
        if (!text.startsWith(CALL, at)) {
            return null;
        }
        at += CALL.length();
        int nameStart = at;
        while (at < text.length() && isNameChar(text.charAt(at))) {
            at++;
        }
        if (at == nameStart || at - nameStart > 64 || !peek('{')) {
            return null;
        }
        String name = text.substring(nameStart, at);
        StringBuilder json = new StringBuilder();
        if (!dict(json)) {
            return null;
        }
        if (text.startsWith(CLOSE, at)) {
            at += CLOSE.length();
        } else if (at != text.length()) {
            return null;
        }
        return new String[] {name, json.toString()};
    }

    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-';
    }

    private boolean peek(char c) {
        return at < text.length() && text.charAt(at) == c;
    }

    private void space() {
        while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
            at++;
        }
    }

    private boolean value(StringBuilder out) {
        if (text.startsWith(QUOTE, at)) {
            int end = text.indexOf(QUOTE, at + QUOTE.length());
            if (end < 0) {
                return false;
            }
            quote(text.substring(at + QUOTE.length(), end), out);
            at = end + QUOTE.length();
            return true;
        }
        if (peek('{')) {
            return dict(out);
        }
        if (peek('[')) {
            return list(out);
        }
        for (String word : new String[] {"true", "false", "null"}) {
            if (text.startsWith(word, at)) {
                out.append(word);
                at += word.length();
                return true;
            }
        }
        return number(out);
    }

    private boolean dict(StringBuilder out) {
        at++; // {
        out.append('{');
        space();
        if (peek('}')) {
            at++;
            out.append('}');
            return true;
        }
        while (true) {
            int keyStart = at;
            while (at < text.length() && text.charAt(at) != ':' && text.charAt(at) != '}') {
                at++;
            }
            if (at == keyStart || !peek(':')) {
                return false;
            }
            quote(text.substring(keyStart, at), out);
            out.append(':');
            at++;
            space();
            if (!value(out)) {
                return false;
            }
            int next = next('}', out);
            if (next != 0) {
                return next > 0;
            }
        }
    }

    private boolean list(StringBuilder out) {
        at++; // [
        out.append('[');
        space();
        if (peek(']')) {
            at++;
            out.append(']');
            return true;
        }
        while (true) {
            if (!value(out)) {
                return false;
            }
            int next = next(']', out);
            if (next != 0) {
                return next > 0;
            }
        }
    }

    /**
     * After a member or an element: {@code close} ends the object or list (1), a comma asks for another (0), anything
     * else is not the notation (-1).
     */
    private int next(char close, StringBuilder out) {
        space();
        if (peek(close)) {
            at++;
            out.append(close);
            return 1;
        }
        if (!peek(',')) {
            return -1;
        }
        at++;
        out.append(',');
        space();
        return 0;
    }

    /** A JSON number: {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?}, written out as it stands. */
    private boolean number(StringBuilder out) {
        int start = at;
        if (peek('-')) {
            at++;
        }
        if (peek('0')) {
            at++;
        } else if (digits() == 0) {
            return false;
        }
        if (peek('.')) {
            at++;
            if (digits() == 0) {
                return false;
            }
        }
        if (peek('e') || peek('E')) {
            at++;
            if (peek('+') || peek('-')) {
                at++;
            }
            if (digits() == 0) {
                return false;
            }
        }
        out.append(text, start, at);
        return true;
    }

    private int digits() {
        int start = at;
        while (at < text.length() && text.charAt(at) >= '0' && text.charAt(at) <= '9') {
            at++;
        }
        return at - start;
    }

    /**
     * Writes {@code s} as a JSON string, escaped as llama.cpp's JSON library escapes it: quote, backslash and the
     * usual control characters by their short escapes, other control characters in lower-case hex, the rest as is.
     */
    static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
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
