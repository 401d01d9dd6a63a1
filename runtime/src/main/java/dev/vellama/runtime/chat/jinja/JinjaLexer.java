package dev.vellama.runtime.chat.jinja;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into tokens the way Jinja2's lexer does, including its whitespace rules: {@code -} on a
 * tag strips all whitespace on that side, {@code trim_blocks} drops the first newline after a block or comment
 * tag, {@code lstrip_blocks} drops spaces and tabs between the start of a line and a block or comment tag
 * ({@code +} on the tag opts out of either), and one trailing newline of the template is dropped.
 */
final class JinjaLexer {
    private static final String[] OPERATORS = {
        "//", "**", "==", "!=", "<=", ">=",
        "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", ";"
    };

    private final String src;
    private final boolean trimBlocks;
    private final boolean lstripBlocks;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    private int line = 1;
    /** Whether the last consumed tag ended with a newline: lstrip_blocks also applies at such a line start. */
    private boolean lineStarting = true;

    private JinjaLexer(String source, boolean trimBlocks, boolean lstripBlocks) {
        String normalized = source.replace("\r\n", "\n").replace('\r', '\n');
        if (normalized.endsWith("\n")) {
            normalized = normalized.substring(0, normalized.length() - 1);
        }
        this.src = normalized;
        this.trimBlocks = trimBlocks;
        this.lstripBlocks = lstripBlocks;
    }

    static List<Token> tokenize(String source, boolean trimBlocks, boolean lstripBlocks) {
        JinjaLexer lexer = new JinjaLexer(source, trimBlocks, lstripBlocks);
        lexer.run();
        return lexer.tokens;
    }

    private void run() {
        while (pos < src.length()) {
            int open = nextTagStart(pos);
            if (open < 0) {
                emitText(src.substring(pos));
                countLines(src.substring(pos));
                pos = src.length();
                break;
            }
            char kind = src.charAt(open + 1);
            char sign = open + 2 < src.length() ? src.charAt(open + 2) : 0;
            String text = src.substring(pos, open);
            if (sign == '-') {
                text = stripTrailingWhitespace(text);
            } else if (sign != '+' && lstripBlocks && kind != '{') {
                text = stripIndentBeforeTag(text);
            }
            emitText(text);
            countLines(src.substring(pos, open));
            pos = open + 2 + (sign == '-' || sign == '+' ? 1 : 0);
            switch (kind) {
                case '#' -> skipComment(open);
                case '%' -> {
                    if (isRawBlock()) {
                        readRaw(open);
                    } else {
                        readTag(Token.Kind.BLOCK_BEGIN, Token.Kind.BLOCK_END, '%', open);
                    }
                }
                default -> readTag(Token.Kind.VARIABLE_BEGIN, Token.Kind.VARIABLE_END, '}', open);
            }
        }
        tokens.add(new Token(Token.Kind.END_OF_TEMPLATE, "", null, line));
    }

    private int nextTagStart(int from) {
        int i = src.indexOf('{', from);
        while (i >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
            i = src.indexOf('{', i + 1);
        }
        return -1;
    }

    private String stripIndentBeforeTag(String text) {
        int lineStart = text.lastIndexOf('\n') + 1;
        if (lineStart == 0 && !lineStarting) {
            return text;
        }
        if (lineStart == text.length()) {
            return text;
        }
        for (int i = lineStart; i < text.length(); i++) {
            if (!PyStrings.isSpace(text.charAt(i))) {
                return text;
            }
        }
        return text.substring(0, lineStart);
    }

    private static String stripTrailingWhitespace(String text) {
        int end = text.length();
        while (end > 0 && PyStrings.isSpace(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(0, end);
    }

    private void emitText(String text) {
        if (!text.isEmpty()) {
            tokens.add(new Token(Token.Kind.TEXT, text, text, line));
        }
    }

    private void countLines(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
        }
    }

    /** Consumes whatever follows a tag's closing delimiter that whitespace control removes. */
    private void afterTagEnd(char sign, boolean isBlock) {
        int start = pos;
        if (sign == '-') {
            while (pos < src.length() && PyStrings.isSpace(src.charAt(pos))) {
                pos++;
            }
        } else if (isBlock && sign != '+' && trimBlocks && pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
        }
        countLines(src.substring(start, pos));
        lineStarting = pos > start && src.charAt(pos - 1) == '\n';
    }

    private void skipComment(int open) {
        int close = src.indexOf("#}", pos);
        if (close < 0) {
            throw new JinjaException("comment opened with '{#' is never closed", lineAt(open));
        }
        char sign = close > pos ? src.charAt(close - 1) : 0;
        countLines(src.substring(pos, close));
        pos = close + 2;
        afterTagEnd(sign == '-' || sign == '+' ? sign : 0, true);
    }

    /** Whether the block tag being read is {@code raw}; like Jinja2, its start tag may not end with {@code +%}}. */
    private boolean isRawBlock() {
        int i = skipSpaces(pos);
        if (!src.startsWith("raw", i)) {
            return false;
        }
        int after = skipSpaces(i + 3);
        return src.startsWith("%}", after) || src.startsWith("-%}", after);
    }

    /**
     * Emits a raw block's body as text. Jinja2 does not apply trim_blocks after the start tag, but treats the
     * end tag like any block tag: {@code -} and lstrip_blocks before it, trim_blocks after it.
     */
    private void readRaw(int open) {
        int i = skipSpaces(skipSpaces(pos) + 3);
        boolean stripAfterStart = src.charAt(i) == '-';
        int bodyStart = i + (stripAfterStart ? 3 : 2);
        if (stripAfterStart) {
            bodyStart = skipSpaces(bodyStart);
        }
        countLines(src.substring(pos, bodyStart));
        lineStarting = bodyStart > 0 && src.charAt(bodyStart - 1) == '\n';
        pos = bodyStart;
        int search = pos;
        while (true) {
            int tag = src.indexOf("{%", search);
            if (tag < 0) {
                throw new JinjaException("'raw' block is never closed with 'endraw'", lineAt(open));
            }
            int j = tag + 2;
            char innerSign = j < src.length() && (src.charAt(j) == '-' || src.charAt(j) == '+') ? src.charAt(j) : 0;
            j = skipSpaces(j + (innerSign != 0 ? 1 : 0));
            if (src.startsWith("endraw", j)) {
                int k = skipSpaces(j + 6);
                char closeSign = src.charAt(k) == '%' ? 0 : src.charAt(k);
                String body = src.substring(pos, tag);
                if (innerSign == '-') {
                    body = stripTrailingWhitespace(body);
                } else if (innerSign != '+' && lstripBlocks) {
                    body = stripIndentBeforeTag(body);
                }
                emitText(body);
                countLines(src.substring(pos, tag));
                pos = k + (closeSign == 0 ? 2 : 3);
                afterTagEnd(closeSign, true);
                return;
            }
            search = tag + 2;
        }
    }

    private int skipSpaces(int i) {
        while (i < src.length() && PyStrings.isSpace(src.charAt(i))) {
            i++;
        }
        return i;
    }

    private void readTag(Token.Kind begin, Token.Kind end, char closer, int open) {
        tokens.add(new Token(begin, src.substring(open, open + 2), null, line));
        int depth = 0;
        while (true) {
            while (pos < src.length() && PyStrings.isSpace(src.charAt(pos))) {
                if (src.charAt(pos) == '\n') {
                    line++;
                }
                pos++;
            }
            if (pos >= src.length()) {
                throw new JinjaException("tag opened with '" + src.substring(open, open + 2) + "' is never closed",
                        lineAt(open));
            }
            if (depth == 0) {
                char c = src.charAt(pos);
                char sign = 0;
                int closeAt = pos;
                boolean signAllowed = c == '-' || (c == '+' && closer == '%');
                if (signAllowed && src.startsWith(closer + "}", pos + 1)) {
                    sign = c;
                    closeAt = pos + 1;
                }
                if (src.startsWith(closer + "}", closeAt)) {
                    tokens.add(new Token(end, closer + "}", null, line));
                    pos = closeAt + 2;
                    afterTagEnd(sign, begin == Token.Kind.BLOCK_BEGIN);
                    return;
                }
            }
            Token token = readExpressionToken();
            if (token.kind() == Token.Kind.OPERATOR) {
                switch (token.text()) {
                    case "(", "[", "{" -> depth++;
                    case ")", "]", "}" -> depth = Math.max(0, depth - 1);
                    default -> { }
                }
            }
            tokens.add(token);
        }
    }

    private Token readExpressionToken() {
        char c = src.charAt(pos);
        int startLine = line;
        if (Character.isLetter(c) || c == '_') {
            int start = pos;
            while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                pos++;
            }
            String name = src.substring(start, pos);
            return new Token(Token.Kind.NAME, name, name, startLine);
        }
        if (Character.isDigit(c)) {
            return readNumber(startLine);
        }
        if (c == '\'' || c == '"') {
            return readString(c, startLine);
        }
        for (String op : OPERATORS) {
            if (src.startsWith(op, pos)) {
                pos += op.length();
                return new Token(Token.Kind.OPERATOR, op, op, startLine);
            }
        }
        throw new JinjaException("unexpected character '" + c + "' inside a tag", startLine);
    }

    private Token readNumber(int startLine) {
        int start = pos;
        if (src.charAt(pos) == '0' && pos + 1 < src.length() && "xXoObB".indexOf(src.charAt(pos + 1)) >= 0) {
            // 0x1f, 0o17, 0b101, as Jinja2 reads them
            char kind = Character.toLowerCase(src.charAt(pos + 1));
            int radix = kind == 'x' ? 16 : kind == 'o' ? 8 : 2;
            pos += 2;
            int digitsStart = pos;
            while (pos < src.length() && (Character.digit(src.charAt(pos), radix) >= 0 || src.charAt(pos) == '_')) {
                pos++;
            }
            String text = src.substring(start, pos);
            try {
                return new Token(Token.Kind.INTEGER, text, Long.parseLong(src.substring(digitsStart, pos).replace("_", ""), radix), startLine);
            } catch (NumberFormatException e) {
                throw new JinjaException("integer literal " + text + " is not a number Vellama can read", startLine);
            }
        }
        while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
            pos++;
        }
        boolean isFloat = false;
        if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
            isFloat = true;
            pos++;
            while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                pos++;
            }
        }
        if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            int save = pos;
            pos++;
            if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
                pos++;
            }
            if (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                isFloat = true;
                while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                    pos++;
                }
            } else {
                pos = save;
            }
        }
        String text = src.substring(start, pos);
        String digits = text.replace("_", "");
        if (isFloat) {
            return new Token(Token.Kind.FLOAT, text, Double.parseDouble(digits), startLine);
        }
        try {
            return new Token(Token.Kind.INTEGER, text, Long.parseLong(digits), startLine);
        } catch (NumberFormatException e) {
            throw new JinjaException("integer literal " + text + " is too large", startLine);
        }
    }

    private Token readString(char quote, int startLine) {
        StringBuilder value = new StringBuilder();
        int start = pos;
        pos++;
        while (true) {
            if (pos >= src.length()) {
                throw new JinjaException("string literal is never closed", startLine);
            }
            char c = src.charAt(pos++);
            if (c == quote) {
                break;
            }
            if (c == '\n') {
                line++;
            }
            if (c != '\\' || pos >= src.length()) {
                value.append(c);
                continue;
            }
            char e = src.charAt(pos++);
            switch (e) {
                case 'n' -> value.append('\n');
                case 't' -> value.append('\t');
                case 'r' -> value.append('\r');
                case 'b' -> value.append('\b');
                case 'f' -> value.append('\f');
                case 'v' -> value.append('\u000b');
                case 'a' -> value.append('\u0007');
                case '0' -> value.append('\0');
                case '\\', '\'', '"' -> value.append(e);
                case '\n' -> line++;
                case 'x' -> value.append(hexEscape(2, startLine));
                case 'u' -> value.append(hexEscape(4, startLine));
                case 'U' -> value.append(hexEscape(8, startLine));
                default -> value.append('\\').append(e);
            }
        }
        return new Token(Token.Kind.STRING, src.substring(start, pos), value.toString(), startLine);
    }

    private String hexEscape(int digits, int startLine) {
        if (pos + digits > src.length()) {
            throw new JinjaException("truncated \\x/\\u escape in a string literal", startLine);
        }
        try {
            int codePoint = Integer.parseInt(src.substring(pos, pos + digits), 16);
            pos += digits;
            return Character.toString(codePoint);
        } catch (IllegalArgumentException e) {
            throw new JinjaException("bad \\x/\\u escape in a string literal", startLine);
        }
    }

    private int lineAt(int offset) {
        int n = 1;
        for (int i = 0; i < offset && i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }
}
