package dev.vellama.runtime.tokenizer;

/**
 * Per-token attribute bits, as llama.cpp derives them from {@code tokenizer.ggml.token_type} (1 normal,
 * 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte) and adjusts them by token text and model name.
 */
final class TokenAttributes {
    static final int UNDEFINED = 0;
    static final int UNKNOWN = 1;
    static final int UNUSED = 1 << 1;
    static final int NORMAL = 1 << 2;
    static final int CONTROL = 1 << 3;
    static final int USER_DEFINED = 1 << 4;
    static final int BYTE = 1 << 5;
    /** Whitespace before a match of this special token is dropped. */
    static final int LSTRIP = 1 << 7;
    /** Whitespace after a match of this special token is dropped. */
    static final int RSTRIP = 1 << 8;

    private TokenAttributes() {}

    static int fromTokenType(int type) {
        return switch (type) {
            case 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> UNDEFINED;
        };
    }
}
