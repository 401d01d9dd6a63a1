package dev.vellama.runtime.chat.jinja;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A parsed Jinja template, rendered with the semantics of Python Jinja2 in the sandboxed environment that
 * Hugging Face's {@code apply_chat_template} uses. This is the subset of Jinja that chat templates use:
 * {@code if/elif/else}, {@code for} (with {@code else}, an {@code if} filter, {@code loop.*},
 * {@code break}/{@code continue}), {@code set} (including {@code namespace} attributes and block form),
 * {@code macro}, {@code filter} blocks, {@code raw}, HF's {@code generation} marker, the usual filters and
 * tests, Python string and dict methods, slicing, and the globals {@code raise_exception},
 * {@code strftime_now}, {@code namespace}, {@code range} and {@code dict}. Template inheritance and
 * includes are not supported: a chat template is a single string.
 *
 * <p>Instances are immutable and safe to render from several threads.
 */
public final class JinjaTemplate {
    private final List<Node> nodes;

    private JinjaTemplate(List<Node> nodes) {
        this.nodes = nodes;
    }

    /** Parses with {@code trim_blocks} and {@code lstrip_blocks} on, as Hugging Face renders chat templates. */
    public static JinjaTemplate parse(String source) {
        return parse(source, true, true);
    }

    /**
     * Parses with explicit whitespace settings; Jinja2's own defaults are both off.
     *
     * @throws JinjaException if the template has a syntax error
     */
    public static JinjaTemplate parse(String source, boolean trimBlocks, boolean lstripBlocks) {
        Objects.requireNonNull(source, "source");
        return new JinjaTemplate(JinjaParser.parse(JinjaLexer.tokenize(source, trimBlocks, lstripBlocks)));
    }

    /**
     * Renders with the given variables. Values may be null, strings, booleans, numbers, lists and maps of
     * those; {@code strftime_now} reads {@code clock}.
     *
     * @throws JinjaException if rendering fails, including a {@link TemplateRaisedException}
     */
    public String render(Map<String, ?> variables, Clock clock) {
        Map<String, Object> converted = new LinkedHashMap<>();
        variables.forEach((name, value) -> converted.put(name, toTemplateValue(value)));
        try {
            return new Renderer(clock).render(nodes, converted);
        } catch (JinjaException e) {
            throw e;
        } catch (StackOverflowError e) {
            throw new JinjaException("template recursion is too deep", -1, e);
        } catch (RuntimeException e) {
            // A value combination the interpreter does not handle; still report it as a template failure.
            throw new JinjaException("template rendering failed: " + e, -1, e);
        }
    }

    public String render(Map<String, ?> variables) {
        return render(variables, Clock.systemDefaultZone());
    }

    /** Converts Java values to the few types the interpreter works with (Long, Double, List, Map...). */
    private static Object toTemplateValue(Object value) {
        return switch (value) {
            case null -> null;
            case String s -> s;
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> i.longValue();
            case Short s -> s.longValue();
            case Byte b -> b.longValue();
            case Double d -> d;
            case Float f -> Double.parseDouble(Float.toString(f));
            case Map<?, ?> map -> {
                Map<Object, Object> copy = new LinkedHashMap<>();
                map.forEach((k, v) -> copy.put(toTemplateValue(k), toTemplateValue(v)));
                yield copy;
            }
            case Collection<?> items -> {
                List<Object> copy = new ArrayList<>(items.size());
                items.forEach(item -> copy.add(toTemplateValue(item)));
                yield copy;
            }
            default -> throw new IllegalArgumentException("unsupported template variable type "
                    + value.getClass().getName());
        };
    }
}
