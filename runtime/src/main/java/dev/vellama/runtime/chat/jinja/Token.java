package dev.vellama.runtime.chat.jinja;

/** One lexical token; {@code value} holds the decoded literal for strings and numbers. */
record Token(Kind kind, String text, Object value, int line) {

    enum Kind {
        /** Literal template text outside any tag, whitespace control already applied. */
        TEXT,
        VARIABLE_BEGIN,
        VARIABLE_END,
        BLOCK_BEGIN,
        BLOCK_END,
        NAME,
        STRING,
        INTEGER,
        FLOAT,
        OPERATOR,
        END_OF_TEMPLATE
    }

    boolean is(Kind expected, String expectedText) {
        return kind == expected && text.equals(expectedText);
    }

    boolean isOperator(String op) {
        return is(Kind.OPERATOR, op);
    }

    boolean isName(String name) {
        return is(Kind.NAME, name);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case TEXT -> "template text";
            case END_OF_TEMPLATE -> "end of template";
            case VARIABLE_BEGIN -> "'{{'";
            case VARIABLE_END -> "'}}'";
            case BLOCK_BEGIN -> "'{%'";
            case BLOCK_END -> "'%}'";
            default -> "'" + text + "'";
        };
    }
}
