package dev.vellama.runtime.tokenizer;

/** A piece of the input after special-token matching: either a matched token or text still to tokenize. */
record Fragment(int token, String text) {
    static Fragment token(int id) {
        return new Fragment(id, null);
    }

    static Fragment text(String text) {
        return new Fragment(-1, text);
    }

    boolean isToken() {
        return text == null;
    }
}
