package dev.vellama.runtime.chat.jinja;

import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Executes a parsed template: statements write to the output, expressions evaluate with Python semantics. */
final class Renderer {
    /** Jinja2's sandbox refuses larger ranges; a template has no business building them. */
    private static final long MAX_RANGE = 100_000;
    /** Loop iterations one rendering may run (a chat prompt needs thousands): past it, the template is refused. */
    static final long MAX_ITERATIONS = 10_000_000;

    private long iterations;

    private enum Signal { NORMAL, BREAK, CONTINUE }

    private final Clock clock;

    Renderer(Clock clock) {
        this.clock = clock;
    }

    String render(List<Node> template, Map<String, Object> variables) {
        Scope root = new Scope(null);
        installGlobals(root);
        variables.forEach(root::set);
        StringBuilder out = new StringBuilder();
        try {
            Signal signal = execute(template, root, out);
            if (signal != Signal.NORMAL) {
                throw new JinjaException("'" + signal.name().toLowerCase() + "' used outside a for loop");
            }
        } catch (ArithmeticException e) {
            throw new JinjaException("arithmetic error in template: " + e.getMessage());
        }
        return out.toString();
    }

    private void installGlobals(Scope scope) {
        scope.set("raise_exception", (JinjaCallable) (args, kwargs) -> {
            throw new TemplateRaisedException(args.isEmpty() ? "" : PyValues.str(args.getFirst()));
        });
        scope.set("namespace", (JinjaCallable) (args, kwargs) -> {
            Map<String, Object> initial = new LinkedHashMap<>();
            for (Object arg : args) {
                if (!(arg instanceof Map<?, ?> map)) {
                    throw new JinjaException("namespace() takes keyword arguments or a mapping");
                }
                map.forEach((k, v) -> initial.put(PyValues.str(k), v));
            }
            initial.putAll(kwargs);
            return new Namespace(initial);
        });
        scope.set("dict", (JinjaCallable) (args, kwargs) -> {
            Map<Object, Object> dict = new LinkedHashMap<>();
            for (Object arg : args) {
                if (arg instanceof Map<?, ?> map) {
                    dict.putAll(map);
                }
            }
            dict.putAll(kwargs);
            return dict;
        });
        scope.set("range", (JinjaCallable) (args, kwargs) -> range(args));
        scope.set("strftime_now", (JinjaCallable) (args, kwargs) -> {
            if (args.isEmpty() || !(args.getFirst() instanceof String format)) {
                throw new JinjaException("strftime_now() takes one format string");
            }
            return PyStrftime.format(ZonedDateTime.now(clock), format);
        });
    }

    private static List<Object> range(List<Object> args) {
        long start = 0;
        long stop;
        long step = 1;
        switch (args.size()) {
            case 1 -> stop = PyValues.toLong(args.get(0));
            case 2, 3 -> {
                start = PyValues.toLong(args.get(0));
                stop = PyValues.toLong(args.get(1));
                if (args.size() == 3) {
                    step = PyValues.toLong(args.get(2));
                }
            }
            default -> throw new JinjaException("range() takes 1 to 3 arguments");
        }
        if (step == 0) {
            throw new JinjaException("range() step must not be zero");
        }
        List<Object> values = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (values.size() >= MAX_RANGE) {
                throw new JinjaException("range() is limited to " + MAX_RANGE + " items");
            }
            values.add(i);
        }
        return values;
    }

    // ---- statements -------------------------------------------------------------------------------------

    private Signal execute(List<Node> nodes, Scope scope, StringBuilder out) {
        for (Node node : nodes) {
            Signal signal;
            try {
                signal = executeOne(node, scope, out);
            } catch (JinjaException e) {
                throw e.atLine(node.line());
            }
            PyValues.checkLength(out.length());
            if (signal != Signal.NORMAL) {
                return signal;
            }
        }
        return Signal.NORMAL;
    }

    private Signal executeOne(Node node, Scope scope, StringBuilder out) {
        switch (node) {
            case Node.Text text -> out.append(text.text());
            case Node.Output output -> out.append(PyValues.str(eval(output.expr(), scope)));
            case Node.If ifNode -> {
                for (int i = 0; i < ifNode.conditions().size(); i++) {
                    if (PyValues.truthy(eval(ifNode.conditions().get(i), scope))) {
                        return execute(ifNode.bodies().get(i), scope, out);
                    }
                }
                return execute(ifNode.elseBody(), scope, out);
            }
            case Node.For forNode -> executeFor(forNode, eval(forNode.iterable(), scope), 1, scope, out);
            case Node.SetVariable set -> assign(set.targets(), eval(set.value(), scope), scope);
            case Node.SetAttribute set -> {
                Object target = scope.lookup(set.object());
                if (!(target instanceof Namespace ns)) {
                    throw new JinjaException("cannot assign attribute '" + set.attribute() + "' on '"
                            + set.object() + "': only namespace() objects can be assigned to");
                }
                ns.set(set.attribute(), eval(set.value(), scope));
            }
            case Node.SetBlock set -> {
                StringBuilder captured = new StringBuilder();
                requireNormal(execute(set.body(), scope, captured));
                scope.set(set.target(), captured.toString());
            }
            case Node.FilterBlock block -> {
                StringBuilder captured = new StringBuilder();
                requireNormal(execute(block.body(), scope, captured));
                Expr.Filter f = block.filter();
                out.append(PyValues.str(JinjaFilters.apply(f.name(), captured.toString(),
                        evalAll(f.args(), scope), evalKeywords(f.kwargs(), scope))));
            }
            case Node.Macro macro -> scope.set(macro.name(), macroCallable(macro, scope));
            case Node.CallBlock block -> {
                // the body becomes a macro named caller, passed to the called macro beside its own arguments
                JinjaCallable caller = macroCallable(new Node.Macro("caller", block.parameters(), block.defaults(),
                        block.body(), block.line()), scope);
                Map<String, Expr> kwargs = new java.util.LinkedHashMap<>(block.call().kwargs());
                kwargs.put("caller", new Expr.Literal(caller));
                out.append(PyValues.str(eval(new Expr.Call(block.call().callee(), block.call().args(), kwargs), scope)));
                PyValues.checkLength(out.length());
            }
            case Node.With with -> {
                Scope inner = scope.child();
                for (int i = 0; i < with.targets().size(); i++) {
                    // Jinja2 evaluates every value in the enclosing scope.
                    inner.set(with.targets().get(i), eval(with.values().get(i), scope));
                }
                return execute(with.body(), inner, out);
            }
            case Node.Break b -> {
                return Signal.BREAK;
            }
            case Node.Continue c -> {
                return Signal.CONTINUE;
            }
        }
        return Signal.NORMAL;
    }

    private static void requireNormal(Signal signal) {
        if (signal != Signal.NORMAL) {
            throw new JinjaException("'" + signal.name().toLowerCase() + "' cannot leave a block assignment");
        }
    }

    /** How deep a recursive loop may call itself: data nests far less; a template that loops on itself stops here. */
    static final int MAX_LOOP_DEPTH = 128;

    /** A for loop over {@code iterable} at {@code depth} (1 but inside a recursive loop's {@code loop(...)} calls). */
    private void executeFor(Node.For forNode, Object iterable, int depth, Scope scope, StringBuilder out) {
        List<Object> items = PyValues.iterate(iterable);
        if (forNode.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                countIteration();
                Scope filterScope = scope.child();
                assign(forNode.targets(), item, filterScope);
                if (PyValues.truthy(eval(forNode.filter(), filterScope))) {
                    kept.add(item);
                }
            }
            items = kept;
        }
        if (items.isEmpty()) {
            requireNormal(execute(forNode.elseBody(), scope.child(), out));
            return;
        }
        JinjaCallable recurse = !forNode.recursive() ? null : (args, kwargs) -> {
            if (args.size() != 1) {
                throw new JinjaException("loop() takes the items to loop over");
            }
            if (depth >= MAX_LOOP_DEPTH) {
                throw new JinjaException("a recursive loop goes deeper than " + MAX_LOOP_DEPTH + " levels");
            }
            StringBuilder inner = new StringBuilder();
            executeFor(forNode, args.getFirst(), depth + 1, scope, inner);
            return inner.toString();
        };
        LoopInfo loop = new LoopInfo(items, depth, recurse);
        for (int i = 0; i < items.size(); i++) {
            countIteration();
            Scope iteration = scope.child();
            assign(forNode.targets(), items.get(i), iteration);
            loop.advanceTo(i);
            iteration.set("loop", loop);
            if (execute(forNode.body(), iteration, out) == Signal.BREAK) {
                break;
            }
        }
    }

    private void countIteration() {
        if (++iterations > MAX_ITERATIONS) {
            throw new JinjaException("the template runs more than " + MAX_ITERATIONS + " loop iterations");
        }
    }

    private static void assign(List<String> targets, Object value, Scope scope) {
        if (targets.size() == 1) {
            scope.set(targets.getFirst(), value);
            return;
        }
        List<Object> parts = PyValues.iterate(value);
        if (parts.size() != targets.size()) {
            throw new JinjaException("cannot unpack " + parts.size() + " values into " + targets.size() + " names");
        }
        for (int i = 0; i < targets.size(); i++) {
            scope.set(targets.get(i), parts.get(i));
        }
    }

    private JinjaCallable macroCallable(Node.Macro macro, Scope definingScope) {
        return (args, kwargs) -> {
            Scope call = definingScope.child();
            List<String> parameters = macro.parameters();
            if (args.size() > parameters.size()) {
                throw new JinjaException("macro '" + macro.name() + "' takes " + parameters.size()
                        + " arguments, got " + args.size());
            }
            for (int i = 0; i < parameters.size(); i++) {
                String parameter = parameters.get(i);
                Object value;
                if (i < args.size()) {
                    value = args.get(i);
                } else if (kwargs.containsKey(parameter)) {
                    value = kwargs.get(parameter);
                } else if (macro.defaults().get(i) != null) {
                    value = eval(macro.defaults().get(i), call);
                } else {
                    value = new Undefined("parameter '" + parameter + "' of macro '" + macro.name()
                            + "' was not given");
                }
                call.set(parameter, value);
            }
            if (kwargs.get("caller") instanceof JinjaCallable caller) {
                call.set("caller", caller); // from a call block
            }
            StringBuilder out = new StringBuilder();
            requireNormal(execute(macro.body(), call, out));
            return out.toString();
        };
    }

    // ---- expressions ------------------------------------------------------------------------------------

    private Object eval(Expr expr, Scope scope) {
        return switch (expr) {
            case Expr.Literal literal -> literal.value();
            case Expr.Name name -> scope.lookup(name.name());
            case Expr.ListLiteral list -> evalAll(list.items(), scope);
            case Expr.TupleLiteral tuple -> PyTuple.of(evalAll(tuple.items(), scope));
            case Expr.DictLiteral dict -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < dict.keys().size(); i++) {
                    map.put(eval(dict.keys().get(i), scope), eval(dict.values().get(i), scope));
                }
                yield map;
            }
            case Expr.GetAttr get -> PyValues.getAttribute(eval(get.target(), scope), get.attribute());
            case Expr.GetItem get -> PyValues.getItem(eval(get.target(), scope), eval(get.index(), scope));
            case Expr.Slice slice -> PyValues.slice(eval(slice.target(), scope), evalOrNull(slice.start(), scope),
                    evalOrNull(slice.stop(), scope), evalOrNull(slice.step(), scope));
            case Expr.Call call -> {
                Object callee = eval(call.callee(), scope);
                if (callee instanceof Undefined u) {
                    throw u.error();
                }
                if (!(callee instanceof JinjaCallable function)) {
                    throw new JinjaException("'" + PyValues.typeName(callee) + "' object is not callable");
                }
                yield function.call(evalAll(call.args(), scope), evalKeywords(call.kwargs(), scope));
            }
            case Expr.Filter filter -> JinjaFilters.apply(filter.name(), eval(filter.target(), scope),
                    evalAll(filter.args(), scope), evalKeywords(filter.kwargs(), scope));
            case Expr.Test test -> JinjaTests.test(test.name(), eval(test.target(), scope),
                    evalAll(test.args(), scope)) != test.negated();
            case Expr.Unary unary -> evalUnary(unary, scope);
            case Expr.Binary binary -> evalBinary(binary, scope);
            case Expr.Compare compare -> evalCompare(compare, scope);
            case Expr.Conditional conditional -> {
                if (PyValues.truthy(eval(conditional.condition(), scope))) {
                    yield eval(conditional.then(), scope);
                }
                yield conditional.otherwise() == null
                        ? new Undefined("the conditional expression has no else branch")
                        : eval(conditional.otherwise(), scope);
            }
        };
    }

    private Object evalOrNull(Expr expr, Scope scope) {
        return expr == null ? null : eval(expr, scope);
    }

    private List<Object> evalAll(List<Expr> exprs, Scope scope) {
        List<Object> values = new ArrayList<>(exprs.size());
        for (Expr e : exprs) {
            values.add(eval(e, scope));
        }
        return values;
    }

    private Map<String, Object> evalKeywords(Map<String, Expr> exprs, Scope scope) {
        Map<String, Object> values = new LinkedHashMap<>();
        exprs.forEach((k, e) -> values.put(k, eval(e, scope)));
        return values;
    }

    private Object evalUnary(Expr.Unary unary, Scope scope) {
        Object value = eval(unary.operand(), scope);
        return switch (unary.operator()) {
            case "not" -> !PyValues.truthy(value);
            case "-" -> {
                PyValues.rejectUndefined(value);
                if (value instanceof Double d) {
                    yield -d;
                }
                if (!PyValues.isInteger(value)) {
                    throw new JinjaException("bad operand type for unary -: '" + PyValues.typeName(value) + "'");
                }
                yield -PyValues.toLong(value);
            }
            default -> {
                PyValues.rejectUndefined(value);
                if (!PyValues.isNumber(value)) {
                    throw new JinjaException("bad operand type for unary +: '" + PyValues.typeName(value) + "'");
                }
                yield value instanceof Boolean ? PyValues.toLong(value) : value;
            }
        };
    }

    private Object evalBinary(Expr.Binary binary, Scope scope) {
        Object left = eval(binary.left(), scope);
        return switch (binary.operator()) {
            case "and" -> PyValues.truthy(left) ? eval(binary.right(), scope) : left;
            case "or" -> PyValues.truthy(left) ? left : eval(binary.right(), scope);
            case "~" -> PyValues.concat(PyValues.str(left), PyValues.str(eval(binary.right(), scope)));
            default -> PyValues.arithmetic(binary.operator(), left, eval(binary.right(), scope));
        };
    }

    private Object evalCompare(Expr.Compare compare, Scope scope) {
        Object left = eval(compare.first(), scope);
        for (int i = 0; i < compare.operators().size(); i++) {
            Object right = eval(compare.operands().get(i), scope);
            boolean holds = switch (compare.operators().get(i)) {
                case "==" -> PyValues.equal(left, right);
                case "!=" -> !PyValues.equal(left, right);
                case "<" -> PyValues.compare(left, right) < 0;
                case "<=" -> PyValues.compare(left, right) <= 0;
                case ">" -> PyValues.compare(left, right) > 0;
                case ">=" -> PyValues.compare(left, right) >= 0;
                case "in" -> PyValues.contains(right, left);
                case "not in" -> !PyValues.contains(right, left);
                default -> throw new JinjaException("unknown comparison " + compare.operators().get(i));
            };
            if (!holds) {
                return false;
            }
            left = right;
        }
        return true;
    }
}
