package dev.vellama.runtime.chat.jinja;

import java.util.List;

/** Statement nodes of a parsed template; {@code line} is where the statement starts, for error messages. */
sealed interface Node {
    int line();

    record Text(String text, int line) implements Node { }

    record Output(Expr expr, int line) implements Node { }

    record If(List<Expr> conditions, List<List<Node>> bodies, List<Node> elseBody, int line) implements Node { }

    /** {@code for targets in iterable [if filter]}; several targets unpack each item. */
    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> elseBody, boolean recursive,
               int line) implements Node { }

    /** {@code set a = ...} or {@code set a, b = ...}. */
    record SetVariable(List<String> targets, Expr value, int line) implements Node { }

    /** {@code set ns.attr = ...}, the one kind of mutation Jinja allows (on a namespace). */
    record SetAttribute(String object, String attribute, Expr value, int line) implements Node { }

    /** {@code set name %}...{% endset}: captures rendered output. */
    record SetBlock(String target, List<Node> body, int line) implements Node { }

    record Macro(String name, List<String> parameters, List<Expr> defaults, List<Node> body, int line)
            implements Node { }

    /** {@code with a = 1, b = 2 %}...{% endwith}: a body with its own scope and optional assignments. */
    record With(List<String> targets, List<Expr> values, List<Node> body, int line) implements Node { }

    record Break(int line) implements Node { }

    record Continue(int line) implements Node { }

    /** {@code filter name %}...{% endfilter}: applies a filter to rendered output. */
    record FilterBlock(Expr.Filter filter, List<Node> body, int line) implements Node { }

    /** {@code {% call(params) macro(args) %}body{% endcall %}}: the macro called with the body as its {@code caller}. */
    record CallBlock(List<String> parameters, List<Expr> defaults, Expr.Call call, List<Node> body, int line) implements Node { }
}
