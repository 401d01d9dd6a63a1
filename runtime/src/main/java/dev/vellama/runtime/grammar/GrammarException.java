package dev.vellama.runtime.grammar;

import dev.vellama.VellamaException;

/** A GBNF grammar that cannot be used: a syntax error (with its line and column), an undefined rule, no root. */
public final class GrammarException extends VellamaException {
    /**
     * An exception with its reason.
     *
     * @param message what is wrong with the grammar or schema, with the line and column or the keyword at fault
     */
    public GrammarException(String message) {
        super(message);
    }
}
