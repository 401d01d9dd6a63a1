package dev.vellama.runtime.chat.jinja;

import java.util.List;
import java.util.Map;

/** Expression nodes of a parsed template. */
sealed interface Expr {

    record Literal(Object value) implements Expr { }

    record Name(String name) implements Expr { }

    record ListLiteral(List<Expr> items) implements Expr { }

    /** A tuple, parenthesised or not: evaluated to a {@link PyTuple}. */
    record TupleLiteral(List<Expr> items) implements Expr { }

    record DictLiteral(List<Expr> keys, List<Expr> values) implements Expr { }

    record GetAttr(Expr target, String attribute) implements Expr { }

    record GetItem(Expr target, Expr index) implements Expr { }

    /** {@code target[start:stop:step]}; absent parts are null. */
    record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr { }

    record Call(Expr callee, List<Expr> args, Map<String, Expr> kwargs) implements Expr { }

    record Filter(Expr target, String name, List<Expr> args, Map<String, Expr> kwargs) implements Expr { }

    record Test(Expr target, String name, List<Expr> args, boolean negated) implements Expr { }

    /** {@code not}, unary {@code -} or unary {@code +}. */
    record Unary(String operator, Expr operand) implements Expr { }

    /** Arithmetic, {@code ~} concatenation, {@code and} and {@code or}. */
    record Binary(String operator, Expr left, Expr right) implements Expr { }

    /** A comparison chain such as {@code a < b <= c}, including {@code in} and {@code not in}. */
    record Compare(Expr first, List<String> operators, List<Expr> operands) implements Expr { }

    /** {@code then if condition else otherwise}; {@code otherwise} is null when the else part is omitted. */
    record Conditional(Expr condition, Expr then, Expr otherwise) implements Expr { }
}
