package dev.vellama.server;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import dev.vellama.runtime.grammar.Grammar;

/**
 * Grammars of recent requests by the text that made them (a schema, GBNF, a tool list): a grammar learns its
 * states as requests use it, so a client that sends the same schema again finds the work done. Bounded, shared.
 */
final class GrammarCache {
    private static final int SIZE = 32;

    private final Map<String, Grammar> recent = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Grammar> eldest) {
            return size() > SIZE;
        }
    };

    synchronized Grammar get(String key) {
        return recent.get(key);
    }

    /** The grammar for {@code key}, made by {@code make} (outside the lock) when it is not at hand. */
    Grammar get(String key, Supplier<Grammar> make) {
        Grammar g = get(key);
        if (g == null) {
            g = make.get();
            synchronized (this) {
                recent.putIfAbsent(key, g);
            }
        }
        return g;
    }
}
