package dev.vellama.runtime.chat.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Recursive-descent parser from tokens to statement and expression trees, with Jinja2's precedence. */
final class JinjaParser {
    private static final Set<String> COMPARISON_OPERATORS = Set.of("==", "!=", "<", "<=", ">", ">=");

    private final List<Token> tokens;
    private int pos;

    private JinjaParser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Node> parse(List<Token> tokens) {
        JinjaParser parser = new JinjaParser(tokens);
        List<Node> body = parser.parseBody(Set.of());
        Token end = parser.peek();
        if (end.kind() != Token.Kind.END_OF_TEMPLATE) {
            throw parser.error("unexpected '" + parser.peekAfterBlockBegin().text() + "' tag", end);
        }
        return body;
    }

    // ---- statements -------------------------------------------------------------------------------------

    /** Parses nodes until end of template or a block tag whose keyword is in {@code terminators}. */
    private List<Node> parseBody(Set<String> terminators) {
        List<Node> nodes = new ArrayList<>();
        while (true) {
            Token token = peek();
            switch (token.kind()) {
                case END_OF_TEMPLATE -> {
                    if (!terminators.isEmpty()) {
                        throw error("template ended while looking for one of " + terminators, token);
                    }
                    return nodes;
                }
                case TEXT -> {
                    pos++;
                    nodes.add(new Node.Text((String) token.value(), token.line()));
                }
                case VARIABLE_BEGIN -> {
                    pos++;
                    Expr expr = parseExpression();
                    expect(Token.Kind.VARIABLE_END, "'}}'");
                    nodes.add(new Node.Output(expr, token.line()));
                }
                case BLOCK_BEGIN -> {
                    Token keyword = peekAfterBlockBegin();
                    if (terminators.contains(keyword.text())) {
                        return nodes;
                    }
                    pos += 2;
                    nodes.add(parseStatement(keyword));
                }
                default -> throw error("unexpected " + token, token);
            }
        }
    }

    private Token peekAfterBlockBegin() {
        Token keyword = pos + 1 < tokens.size() ? tokens.get(pos + 1) : peek();
        if (keyword.kind() != Token.Kind.NAME) {
            throw error("expected a statement keyword after '{%', found " + keyword, keyword);
        }
        return keyword;
    }

    private Node parseStatement(Token keyword) {
        int line = keyword.line();
        return switch (keyword.text()) {
            case "if" -> parseIf(line);
            case "for" -> parseFor(line);
            case "set" -> parseSet(line);
            case "macro" -> parseMacro(line);
            case "call" -> parseCallBlock(line);
            case "filter" -> parseFilterBlock(line);
            case "with" -> parseWith(line);
            case "break" -> {
                endOfTag();
                yield new Node.Break(line);
            }
            case "continue" -> {
                endOfTag();
                yield new Node.Continue(line);
            }
            case "generation" -> parseTransparentBlock("endgeneration", line);
            default -> throw error("unknown or unsupported tag '" + keyword.text() + "'", keyword);
        };
    }

    private Node parseIf(int line) {
        List<Expr> conditions = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        List<Node> elseBody = List.of();
        conditions.add(parseExpression());
        endOfTag();
        while (true) {
            bodies.add(parseBody(Set.of("elif", "else", "endif")));
            String keyword = closingKeyword();
            if (keyword.equals("elif")) {
                conditions.add(parseExpression());
                endOfTag();
            } else if (keyword.equals("else")) {
                endOfTag();
                elseBody = parseBody(Set.of("endif"));
                closingKeyword();
                endOfTag();
                break;
            } else {
                endOfTag();
                break;
            }
        }
        return new Node.If(conditions, bodies, elseBody, line);
    }

    private Node parseFor(int line) {
        List<String> targets = new ArrayList<>();
        boolean parenthesised = acceptOperator("(");
        do {
            targets.add(expectName());
        } while (acceptOperator(","));
        if (parenthesised) {
            expectOperator(")");
        }
        expectKeyword("in");
        Expr iterable = parseConditionalFree();
        Expr filter = null;
        if (acceptKeyword("if")) {
            filter = parseConditionalFree();
        }
        boolean recursive = acceptKeyword("recursive");
        endOfTag();
        List<Node> body = parseBody(Set.of("else", "endfor"));
        List<Node> elseBody = List.of();
        if (closingKeyword().equals("else")) {
            endOfTag();
            elseBody = parseBody(Set.of("endfor"));
            closingKeyword();
        }
        endOfTag();
        return new Node.For(targets, iterable, filter, body, elseBody, recursive, line);
    }

    private Node parseSet(int line) {
        String first = expectName();
        if (acceptOperator(".")) {
            String attribute = expectName();
            expectOperator("=");
            Expr value = parseTupleOrExpression();
            endOfTag();
            return new Node.SetAttribute(first, attribute, value, line);
        }
        List<String> targets = new ArrayList<>();
        targets.add(first);
        while (acceptOperator(",")) {
            targets.add(expectName());
        }
        if (acceptOperator("=")) {
            Expr value = parseTupleOrExpression();
            endOfTag();
            return new Node.SetVariable(targets, value, line);
        }
        if (targets.size() != 1) {
            throw error("a 'set' block assigns one name", peek());
        }
        endOfTag();
        List<Node> body = parseBody(Set.of("endset"));
        closingKeyword();
        endOfTag();
        return new Node.SetBlock(first, body, line);
    }

    private Node parseMacro(int line) {
        String name = expectName();
        expectOperator("(");
        List<String> parameters = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        parseParameters(parameters, defaults);
        endOfTag();
        List<Node> body = parseBody(Set.of("endmacro"));
        closingKeyword();
        endOfTag();
        return new Node.Macro(name, parameters, defaults, body, line);
    }

    /** A macro's or call block's parameter list after its '(': names, each with an optional default; then ')'. */
    private void parseParameters(List<String> parameters, List<Expr> defaults) {
        if (!acceptOperator(")")) {
            do {
                if (peek().isOperator(")")) {
                    break;
                }
                parameters.add(expectName());
                defaults.add(acceptOperator("=") ? parseExpression() : null);
            } while (acceptOperator(","));
            expectOperator(")");
        }
    }

    private Node parseCallBlock(int line) {
        List<String> parameters = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        if (acceptOperator("(")) {
            parseParameters(parameters, defaults);
        }
        Token at = peek();
        Expr call = parseExpression();
        if (!(call instanceof Expr.Call c)) {
            throw error("a call block needs a macro call, as in {% call macro() %}", at);
        }
        endOfTag();
        List<Node> body = parseBody(Set.of("endcall"));
        closingKeyword();
        endOfTag();
        return new Node.CallBlock(parameters, defaults, c, body, line);
    }

    private Node parseWith(int line) {
        List<String> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!peek().is(Token.Kind.BLOCK_END, "%}")) {
            if (!targets.isEmpty()) {
                expectOperator(",");
            }
            targets.add(expectName());
            expectOperator("=");
            values.add(parseExpression());
        }
        endOfTag();
        List<Node> body = parseBody(Set.of("endwith"));
        closingKeyword();
        endOfTag();
        return new Node.With(targets, values, body, line);
    }

    private Node parseFilterBlock(int line) {
        Expr.Filter filter = parseFilterCall(new Expr.Literal(""));
        endOfTag();
        List<Node> body = parseBody(Set.of("endfilter"));
        closingKeyword();
        endOfTag();
        return new Node.FilterBlock(filter, body, line);
    }

    /** A block whose tags only mark spans for other tools (HF's {@code generation}); renders its body as is. */
    private Node parseTransparentBlock(String endKeyword, int line) {
        endOfTag();
        List<Node> body = parseBody(Set.of(endKeyword));
        closingKeyword();
        endOfTag();
        return new Node.If(List.of(new Expr.Literal(true)), List.of(body), List.of(), line);
    }

    /** Consumes the '{%' and keyword of a closing or intermediate tag and returns the keyword. */
    private String closingKeyword() {
        expect(Token.Kind.BLOCK_BEGIN, "'{%'");
        return next().text();
    }

    private void endOfTag() {
        expect(Token.Kind.BLOCK_END, "'%}'");
    }

    // ---- expressions ------------------------------------------------------------------------------------

    /** An expression, or an unparenthesised tuple such as {@code set a, b = 1, 2}. */
    private Expr parseTupleOrExpression() {
        Expr first = parseExpression();
        if (!peek().isOperator(",")) {
            return first;
        }
        List<Expr> items = new ArrayList<>();
        items.add(first);
        while (acceptOperator(",")) {
            items.add(parseExpression());
        }
        return new Expr.TupleLiteral(items);
    }

    Expr parseExpression() {
        Expr expr = parseOr();
        while (acceptKeyword("if")) {
            Expr condition = parseOr();
            Expr otherwise = acceptKeyword("else") ? parseExpression() : null;
            expr = new Expr.Conditional(condition, expr, otherwise);
        }
        return expr;
    }

    /** An expression without a trailing {@code x if y}, as in a for loop's iterable and filter. */
    private Expr parseConditionalFree() {
        return parseOr();
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        while (acceptKeyword("or")) {
            left = new Expr.Binary("or", left, parseAnd());
        }
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (acceptKeyword("and")) {
            left = new Expr.Binary("and", left, parseNot());
        }
        return left;
    }

    private Expr parseNot() {
        if (acceptKeyword("not")) {
            return new Expr.Unary("not", parseNot());
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        Expr first = parseMath1();
        List<String> operators = new ArrayList<>();
        List<Expr> operands = new ArrayList<>();
        while (true) {
            Token token = peek();
            if (token.kind() == Token.Kind.OPERATOR && COMPARISON_OPERATORS.contains(token.text())) {
                pos++;
                operators.add(token.text());
            } else if (token.isName("in")) {
                pos++;
                operators.add("in");
            } else if (token.isName("not") && peekAt(1).isName("in")) {
                pos += 2;
                operators.add("not in");
            } else {
                break;
            }
            operands.add(parseMath1());
        }
        return operators.isEmpty() ? first : new Expr.Compare(first, operators, operands);
    }

    private Expr parseMath1() {
        Expr left = parseConcat();
        while (peek().isOperator("+") || peek().isOperator("-")) {
            String op = next().text();
            left = new Expr.Binary(op, left, parseConcat());
        }
        return left;
    }

    private Expr parseConcat() {
        Expr left = parseMath2();
        while (acceptOperator("~")) {
            left = new Expr.Binary("~", left, parseMath2());
        }
        return left;
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        while (peek().isOperator("*") || peek().isOperator("/") || peek().isOperator("//")
                || peek().isOperator("%")) {
            String op = next().text();
            left = new Expr.Binary(op, left, parsePow());
        }
        return left;
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        while (acceptOperator("**")) {
            left = new Expr.Binary("**", left, parseUnary(true));
        }
        return left;
    }

    private Expr parseUnary(boolean withFilters) {
        Expr expr;
        if (acceptOperator("-")) {
            expr = new Expr.Unary("-", parseUnary(false));
        } else if (acceptOperator("+")) {
            expr = new Expr.Unary("+", parseUnary(false));
        } else {
            expr = parsePostfix(parsePrimary());
        }
        return withFilters ? parseFiltersAndTests(expr) : expr;
    }

    private Expr parsePrimary() {
        Token token = next();
        switch (token.kind()) {
            case NAME -> {
                return switch (token.text()) {
                    case "true", "True" -> new Expr.Literal(Boolean.TRUE);
                    case "false", "False" -> new Expr.Literal(Boolean.FALSE);
                    case "none", "None" -> new Expr.Literal(null);
                    default -> new Expr.Name(token.text());
                };
            }
            case STRING -> {
                StringBuilder value = new StringBuilder((String) token.value());
                while (peek().kind() == Token.Kind.STRING) {
                    value.append((String) next().value());
                }
                return new Expr.Literal(value.toString());
            }
            case INTEGER, FLOAT -> {
                return new Expr.Literal(token.value());
            }
            case OPERATOR -> {
                switch (token.text()) {
                    case "(" -> {
                        if (acceptOperator(")")) {
                            return new Expr.TupleLiteral(List.of());
                        }
                        Expr first = parseExpression();
                        if (acceptOperator(")")) {
                            return first;
                        }
                        List<Expr> items = new ArrayList<>();
                        items.add(first);
                        while (acceptOperator(",")) {
                            if (peek().isOperator(")")) {
                                break;
                            }
                            items.add(parseExpression());
                        }
                        expectOperator(")");
                        return new Expr.TupleLiteral(items);
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        while (!acceptOperator("]")) {
                            items.add(parseExpression());
                            if (!acceptOperator(",")) {
                                expectOperator("]");
                                break;
                            }
                        }
                        return new Expr.ListLiteral(items);
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        while (!acceptOperator("}")) {
                            keys.add(parseExpression());
                            expectOperator(":");
                            values.add(parseExpression());
                            if (!acceptOperator(",")) {
                                expectOperator("}");
                                break;
                            }
                        }
                        return new Expr.DictLiteral(keys, values);
                    }
                    default -> { }
                }
            }
            default -> { }
        }
        throw error("unexpected " + token + " in an expression", token);
    }

    private Expr parsePostfix(Expr target) {
        Expr expr = target;
        while (true) {
            if (acceptOperator(".")) {
                Token attribute = next();
                if (attribute.kind() == Token.Kind.NAME) {
                    expr = new Expr.GetAttr(expr, attribute.text());
                } else if (attribute.kind() == Token.Kind.INTEGER) {
                    expr = new Expr.GetItem(expr, new Expr.Literal(attribute.value()));
                } else {
                    throw error("expected an attribute name after '.', found " + attribute, attribute);
                }
            } else if (acceptOperator("[")) {
                expr = parseSubscript(expr);
            } else if (peek().isOperator("(")) {
                pos++;
                expr = parseCallArguments(expr);
            } else {
                return expr;
            }
        }
    }

    private Expr parseSubscript(Expr target) {
        Expr start = null;
        if (!peek().isOperator(":")) {
            start = parseExpression();
            if (acceptOperator("]")) {
                return new Expr.GetItem(target, start);
            }
        }
        expectOperator(":");
        Expr stop = null;
        Expr step = null;
        if (!peek().isOperator("]") && !peek().isOperator(":")) {
            stop = parseExpression();
        }
        if (acceptOperator(":") && !peek().isOperator("]")) {
            step = parseExpression();
        }
        expectOperator("]");
        return new Expr.Slice(target, start, stop, step);
    }

    /** Parses arguments after an opening '(' up to and including ')'. */
    private Expr.Call parseCallArguments(Expr callee) {
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        while (!acceptOperator(")")) {
            if (peek().kind() == Token.Kind.NAME && peekAt(1).isOperator("=")) {
                String name = next().text();
                pos++;
                kwargs.put(name, parseExpression());
            } else {
                if (!kwargs.isEmpty()) {
                    throw error("positional argument follows keyword argument", peek());
                }
                args.add(parseExpression());
            }
            if (!acceptOperator(",")) {
                expectOperator(")");
                break;
            }
        }
        return new Expr.Call(callee, args, kwargs);
    }

    private Expr parseFiltersAndTests(Expr target) {
        Expr expr = target;
        while (true) {
            if (acceptOperator("|")) {
                expr = parseFilterCall(expr);
            } else if (acceptKeyword("is")) {
                boolean negated = acceptKeyword("not");
                String name = expectName();
                List<Expr> args = new ArrayList<>();
                Token next = peek();
                if (next.isOperator("(")) {
                    pos++;
                    args.addAll(parseCallArguments(new Expr.Literal(null)).args());
                } else if (startsTestArgument(next)) {
                    args.add(parsePostfix(parsePrimary()));
                }
                expr = new Expr.Test(expr, name, args, negated);
                if (peek().isName("is")) {
                    throw error("you cannot chain multiple tests with 'is'", peek());
                }
            } else if (peek().isOperator("(")) {
                pos++;
                expr = parseCallArguments(expr);
            } else {
                return expr;
            }
        }
    }

    private static boolean startsTestArgument(Token token) {
        return switch (token.kind()) {
            case STRING, INTEGER, FLOAT -> true;
            case NAME -> !Set.of("else", "or", "and", "if", "in", "not", "is").contains(token.text());
            case OPERATOR -> token.text().equals("[") || token.text().equals("{");
            default -> false;
        };
    }

    private Expr.Filter parseFilterCall(Expr target) {
        StringBuilder name = new StringBuilder(expectName());
        while (acceptOperator(".")) {
            name.append('.').append(expectName());
        }
        if (peek().isOperator("(")) {
            pos++;
            Expr.Call call = parseCallArguments(new Expr.Literal(null));
            return new Expr.Filter(target, name.toString(), call.args(), call.kwargs());
        }
        return new Expr.Filter(target, name.toString(), List.of(), Map.of());
    }

    // ---- token helpers ----------------------------------------------------------------------------------

    private Token peek() {
        return tokens.get(pos);
    }

    private Token peekAt(int offset) {
        return tokens.get(Math.min(pos + offset, tokens.size() - 1));
    }

    private Token next() {
        Token token = tokens.get(pos);
        if (token.kind() != Token.Kind.END_OF_TEMPLATE) {
            pos++;
        }
        return token;
    }

    private boolean acceptOperator(String op) {
        if (peek().isOperator(op)) {
            pos++;
            return true;
        }
        return false;
    }

    private boolean acceptKeyword(String keyword) {
        if (peek().isName(keyword)) {
            pos++;
            return true;
        }
        return false;
    }

    private void expectOperator(String op) {
        if (!acceptOperator(op)) {
            throw error("expected '" + op + "', found " + peek(), peek());
        }
    }

    private void expectKeyword(String keyword) {
        if (!acceptKeyword(keyword)) {
            throw error("expected '" + keyword + "', found " + peek(), peek());
        }
    }

    private String expectName() {
        Token token = next();
        if (token.kind() != Token.Kind.NAME) {
            throw error("expected a name, found " + token, token);
        }
        return token.text();
    }

    private void expect(Token.Kind kind, String description) {
        Token token = next();
        if (token.kind() != kind) {
            throw error("expected " + description + ", found " + token, token);
        }
    }

    private JinjaException error(String message, Token at) {
        return new JinjaException("template syntax error: " + message, at.line());
    }
}
