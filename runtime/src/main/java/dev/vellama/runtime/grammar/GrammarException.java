package dev.vellama.runtime.grammar;

import dev.vellama.VellamaException;

/** A GBNF grammar that cannot be used: a syntax error (with its line and column), an undefined rule, no root. */
public final class GrammarException extends VellamaException {
    public GrammarException(String message) {
        super(message);
    }
}
