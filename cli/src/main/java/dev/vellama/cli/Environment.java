package dev.vellama.cli;

import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The environment variables a command reads (HF_TOKEN, HF_ENDPOINT, VELLAMA_CACHE, ...): the process's own, or
 * those a test hands to {@link Main#run} in their place.
 */
final class Environment {
    private static volatile UnaryOperator<String> current = System::getenv;

    private Environment() {}

    static String get(String name) {
        return current.apply(name);
    }

    static UnaryOperator<String> reader() {
        return current;
    }

    /** Runs with {@code variables} in place of the process's environment (tests). */
    static <T> T with(Map<String, String> variables, java.util.function.Supplier<T> body) {
        UnaryOperator<String> before = current;
        current = variables::get;
        try {
            return body.get();
        } finally {
            current = before;
        }
    }

    /** Whether stderr reaches a terminal (the launcher says so; its filter makes stderr a pipe). */
    static boolean stderrIsTerminal() {
        return "1".equals(get("VELLAMA_STDERR_TTY"));
    }
}
