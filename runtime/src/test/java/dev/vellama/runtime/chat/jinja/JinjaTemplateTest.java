package dev.vellama.runtime.chat.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The interpreter against Python Jinja2 behaviour, one language feature at a time. */
class JinjaTemplateTest {
    private static final List<Map<String, Object>> MESSAGES = List.of(
            message("system", "Be brief."), message("user", "Hi"), message("assistant", "Hello!"),
            message("user", "Bye"));

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    private static String render(String source) {
        return render(source, Map.of());
    }

    private static String render(String source, Map<String, ?> variables) {
        return JinjaTemplate.parse(source).render(variables);
    }

    // ---- whitespace ----------------------------------------------------------------------------------

    @Test
    void trimAndLstripBlocksAsHuggingFaceRenders() {
        assertEquals("a\n  b\n  c", render("a\n  {% if true %}\n  b\n  {% endif %}\n  c\n"));
    }

    @Test
    void jinjaDefaultsKeepBlockWhitespace() {
        assertEquals("a\n  \n  b\n  \n  c",
                JinjaTemplate.parse("a\n  {% if true %}\n  b\n  {% endif %}\n  c\n", false, false).render(Map.of()));
    }

    @Test
    void minusStripsAllWhitespaceAndPlusOptsOut() {
        assertEquals(" a b\nc", render("{{- ' a ' -}}  \n  {{ 'b' }}\n{{ 'c' }}\n"));
        assertEquals("xyz", render("x  {{- 'y' }}  {%- if true -%}  z  {%- endif %}"));
        assertEquals("  x\ny", render("  {%+ if true %}x{% endif +%}\ny"));
    }

    @Test
    void commentsAreDroppedWithTheirLine() {
        assertEquals("z", render("{# c #}\n  {# d -#}   z"));
    }

    @Test
    void rawBlocksAreNotInterpreted() {
        assertEquals("{{ not rendered }}", render("{% raw %}{{ not rendered }}{% endraw %}"));
        // No trim_blocks after the start tag; the end tag is trimmed like any block tag.
        assertEquals("\n  {{ x }}\ny", render("{% raw %}\n  {{ x }}\n  {% endraw %}\ny"));
        assertThrows(JinjaException.class, () -> JinjaTemplate.parse("{% raw +%}x{% endraw %}"));
    }

    // ---- statements ----------------------------------------------------------------------------------

    @Test
    void loopVariablesAndElse() {
        assertEquals("empty", render("{% for x in [] %}a{% else %}empty{% endfor %}"));
        assertEquals("12TrueFalse;22FalseTrue;",
                render("{% for x in [1,2,3] if x > 1 %}{{ loop.index }}{{ loop.length }}{{ loop.first }}"
                        + "{{ loop.last }};{% endfor %}"));
        assertEquals("03;12p;21p;30p;", render("{%- for m in messages -%}{{ loop.index0 }}{{ loop.revindex0 }}"
                + "{%- if loop.previtem is defined %}p{% endif %};{% endfor %}", Map.of("messages", MESSAGES)));
    }

    @Test
    void aHostileTemplateIsRefusedQuicklyInsteadOfHangingOrExhaustingMemory() {
        // a model file's chat template is input like any other: nested loops, doubling strings, huge repetitions
        for (String template : List.of(
                "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
                "{% set l = range(100000)|list %}{% for a in l if a > 0 %}{% for b in l if b > 0 %}{% endfor %}{% endfor %}",
                "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
                "{{ 'x' * 100000000000 }}",
                "{{ ([1, 2] * 100000000)|length }}",
                "{{ ('x' * 10000000) ~ ('y' * 10000000) }}",
                "{{ ('x' * 10000000) + ('y' * 10000000) }}",
                "{{ 'x'|center(2000000000) }}",
                "{{ 'a\nb'|indent(2000000000) }}",
                "{{ (range(100000)|list)|join('x' * 1000) }}",
                "{{ ('x' * 1000).join(range(100000)|map('string')|list) }}",
                "{{ {'a': [[[[[1]]]]]}|tojson(indent=100000000) }}",
                "{{ ('x' * 10000000)|replace('x', 'y' * 10000000) }}",
                "{{ ('x' * 10000000).replace('x', 'yy') }}",
                "{{ '%s%s' % ('x' * 10000000, 'y' * 10000000) }}",
                "{{ '%.2000000000f' % 1.5 }}")) {
            long start = System.nanoTime();
            JinjaException e = assertThrows(JinjaException.class, () -> render(template), template);
            assertTrue(e.getMessage().contains("loop iterations") || e.getMessage().contains("more than 16777216 elements"),
                    e.getMessage());
            assertTrue(System.nanoTime() - start < 20_000_000_000L, template + " took too long to be refused");
        }
        assertEquals("abab", render("{{ 'ab' * 2 }}"));
        assertEquals("-a-b- a-c 1.50", render("{{ 'ab'|replace('', '-') }} {{ 'abc'.replace('b', '-', 1) }} {{ '%.2f' % 1.5 }}"));
        assertEquals("", render("{{ 'ab' * -3 }}"));
    }

    @Test
    void breakAndContinue() {
        assertEquals("02", render("{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}"
                + "{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}"));
    }

    @Test
    void assignmentsInsideALoopDoNotLeakButNamespacesDo() {
        assertEquals("[a][outer]outer", render("{% for i in [1,2] %}{% if i == 1 %}{% set x = 'a' %}{% endif %}"
                + "[{{ x }}]{% endfor %}{{ x }}", Map.of("x", "outer")));
        assertEquals("4x", render("{% set ns = namespace(a=1, b='x') %}{% for i in [1,2] %}"
                + "{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}{{ ns.b }}"));
        assertEquals("2", render("{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}"));
    }

    @Test
    void macrosBlockSetAndFilterBlocks() {
        assertEquals("Hi Bob! Hi Al?", render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}"
                + "{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }}"));
        assertEquals("[  block 1 ]", render("{%- set x %}  block {{ 1 }} {% endset -%}[{{ x }}]"));
        assertEquals("ABC", render("{% filter upper %}abc{% endfilter %}"));
        assertEquals("1|1|0", render("{% set a = 0 %}{% with a = 1, b = a + 2 %}{{ a }}|{{ b - 1 }}{% endwith %}"
                + "|{{ a }}"));
        assertEquals("12", render("{% set a, b = 1, 2 %}{{ a }}{{ b }}"));
        assertEquals("a=1;b=2;", render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}"));
    }

    // ---- expressions ---------------------------------------------------------------------------------

    @Test
    void valuesPrintAsPythonPrintsThem() {
        assertEquals("None|True|1.0|1e-05|[1, 'a', None]|{'a': 1}|2.5|3|2|1024",
                render("{{ none }}|{{ true }}|{{ 1.0 }}|{{ 1e-5 }}|{{ [1, 'a', none] }}|{{ {'a': 1} }}|{{ 10/4 }}"
                        + "|{{ 7//2 }}|{{ -7 % 3 }}|{{ 2**10 }}"));
        assertEquals("2.57 0.30000000000000004 1e+16 0.3333333333333333 5.0 0.0001 1.234e-05 -4",
                render("{{ 2.567 | round(2) }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1/3 }} {{ 10 / 2 }} {{ 0.0001 }} "
                        + "{{ 0.00001234 }} {{ -7 // 2 }}"));
        assertEquals("[\"it's\", 'say \"x\"']", render("{{ [\"it's\", 'say \"x\"'] }}"));
    }

    @Test
    void precedenceOfFiltersConcatenationAndConditionals() {
        assertEquals("<x>", render("{{ '<' + ' x ' | trim + '>' }}"));
        assertEquals("a1None", render("{{ 'a' ~ 1 ~ none }}"));
        assertEquals("b", render("{{ 'a' if x else 'b' }}"));
        assertEquals("", render("{{ 'a' if false }}"));
        assertEquals("alt", render("{{ x or 'alt' }}"));
        assertEquals("True", render("{{ 1 < 2 < 3 and not 2 in [1] and 'a' in 'cat' }}"));
        assertEquals("3", render("{{ -3 | abs }}"));
    }

    @Test
    void testsAfterIs() {
        assertEquals("TrueTrueTrueTrueTrueTrueTrueTrue", render("{{ 3 is divisibleby 3 }}{{ 'a' is string }}"
                + "{{ 'ab' is iterable }}{{ {} is mapping }}{{ 1.5 is number }}{{ none is none }}"
                + "{{ x is not defined }}{{ 'a' is in 'cat' }}"));
        assertEquals("TrueFalse", render("{{ tools is defined }}{{ tools is not none }}", mapWithNull("tools")));
    }

    private static Map<String, Object> mapWithNull(String key) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(key, null);
        return m;
    }

    @Test
    void pythonStringMethods() {
        assertEquals("['a', 'b', 'c']|x|cba|c|['a', 'b', '', 'c']|['a', 'b c']",
                render("{{ 'a b  c'.split() }}|{{ ' x '.strip() }}|{{ 'abc'[::-1] }}|{{ 'abc'[-1] }}"
                        + "|{{ 'a,b,,c'.split(',') }}|{{ 'a b c'.split(' ', 1) }}"));
        assertEquals("TrueTruea  |  a|a", render("{{ 'x'.startswith(('a', 'x')) }}{{ 'abc'.endswith('bc') }}"
                + "{{ '  a  '.lstrip() }}|{{ '  a  '.rstrip() }}|{{ 'xxaxx'.strip('x') }}"));
        assertEquals("hello worldXa+b+c", render("{{ 'Hello World'.lower() }}{{ 'x'.upper() }}"
                + "{{ 'a-b-c'.replace('-', '+') }}"));
        assertEquals("hmm", render("{{ '<think>\\nhmm\\n</think>x'.split('</think>')[0].rstrip('\\n')"
                + ".split('<think>')[-1].lstrip('\\n') }}"));
    }

    @Test
    void dictMethodsAndAccess() {
        Map<String, Object> vars = Map.of("messages", MESSAGES);
        assertEquals("systemdflt", render("{{ messages[0].get('role') }}{{ messages[0].get('nope', 'dflt') }}",
                vars));
        assertEquals("Bye3assistant", render("{{ messages[-1]['content'] }}{{ messages[1:] | length }}"
                + "{{ messages[2].role }}", vars));
        assertEquals("False", render("{{ x.content.content is defined }}", Map.of("x", Map.of("content", "s"))));
    }

    @Test
    void slicing() {
        assertEquals("bcd|ace|[3, 4]|[]|False", render("{{ 'abcdef'[1:4] }}|{{ 'abcdef'[::2] }}"
                + "|{{ [1,2,3,4][-2:] }}|{{ [1,2,3][5:] }}|{{ 'abc'[10] is defined }}"));
    }

    // ---- filters ---------------------------------------------------------------------------------------

    @Test
    void selectMapAndJoin() {
        Map<String, Object> vars = Map.of("messages", MESSAGES);
        assertEquals("Hi, Bye|2", render("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute="
                + "'content') | join(', ') }}|{{ messages | rejectattr('role', 'eq', 'user') | list | length }}", vars));
        assertEquals("[1, 3][2]['a', 'b']", render("{{ [1,2,3] | select('odd') | list }}"
                + "{{ [1,2,3] | reject('odd') | list }}{{ ['A','B'] | map('lower') | list }}"));
    }

    /** As Jinja2: selecting or mapping over a false value (none, an empty list) gives nothing, without iterating it. */
    @Test
    void selectAndMapOverNoneGiveNothing() {
        assertEquals("0|0|[]|[]", render("{{ none | selectattr('type', 'equalto', 'x') | list | length }}|"
                + "{{ none | rejectattr('type') | list | length }}|{{ none | map(attribute='a') | list }}|"
                + "{{ none | select('odd') | list }}"));
        // Functionary 3.1's opening, with no tools given
        assertEquals("False", render("{%- set tools = none -%}{{ tools | selectattr('type', 'equalto', "
                + "'code_interpreter') | list | length > 0 }}"));
    }

    @Test
    void commonFilters() {
        assertEquals("deNone3132.03", render("{{ x | default('d') }}{{ '' | default('e', true) }}"
                + "{{ none | default('f') }}{{ 3.7 | int }}{{ '12' | int + 1 }}{{ 2 | float }}{{ -3 | abs }}"));
        assertEquals("[1, 2, 3]3[1, 2, 3]256['b', 'a']",
                render("{{ [3,1,2] | sort }}{{ [3,1,2] | sort(reverse=true) | first }}{{ [1,2,2,3] | unique | list }}"
                        + "{{ [1,2] | last }}{{ [4,5] | max }}{{ [1,2,3] | sum }}{{ ['a','b'] | reverse | list }}"));
        assertEquals("line1\n  line2|  line1\n  line2",
                render("{{ 'line1\\nline2' | indent(2) }}|{{ 'line1\\nline2' | indent(2, true) }}"));
        assertEquals("Hello WorldHello", render("{{ 'hello world' | title }}{{ 'hELLO' | capitalize }}"));
    }

    @Test
    void tojsonFormatsLikePythonJsonDumps() {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("q", List.of(1, 2.5, true));
        args.put("none", null);
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("name", "f");
        call.put("args", args);
        assertEquals("{\"name\": \"f\", \"args\": {\"q\": [1, 2.5, true], \"none\": null}}",
                render("{{ x | tojson }}", Map.of("x", call)));
        assertEquals("{\n  \"b\": \"é<\\\"\\n\"\n}", render("{{ {'b': 'é<\"\\n'} | tojson(indent=2) }}"));
        assertEquals("{\"a\":\"\\u00e9\",\"b\":1}",
                render("{{ {'b': 1, 'a': 'é'} | tojson(true, separators=(',', ':'), sort_keys=true) }}"));
    }

    // ---- globals -------------------------------------------------------------------------------------

    @Test
    void strftimeNowReadsTheClock() {
        Clock clock = Clock.fixed(Instant.parse("2026-03-05T14:07:09Z"), ZoneOffset.UTC);
        assertEquals("05 Mar 2026|2026-03-05 14:07:09 Thursday March 02PM",
                JinjaTemplate.parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %I%p') }}")
                        .render(Map.of(), clock));
    }

    @Test
    void raiseExceptionCarriesTheTemplateMessage() {
        TemplateRaisedException e = assertThrows(TemplateRaisedException.class,
                () -> render("line one\n{{ raise_exception('boom') }}"));
        assertEquals("boom", e.templateMessage());
        assertEquals(2, e.line());
    }

    // ---- errors ----------------------------------------------------------------------------------------

    @Test
    void undefinedIsEmptyButCannotBeUsed() {
        assertEquals("|0||x|False", render("{{ u }}|{{ u | length }}|{{ u | trim }}|{{ u ~ 'x' }}|{{ u == none }}"));
        assertEquals("'x' is undefined", assertThrows(JinjaException.class, () -> render("{{ x.y }}")).getMessage()
                .replace(" (template line 1)", ""));
        assertEquals("'dict object' has no attribute 'z' (template line 1)",
                assertThrows(JinjaException.class, () -> render("{{ y.z.w }}", Map.of("y", Map.of()))).getMessage());
        assertThrows(JinjaException.class, () -> render("{{ undefined_function() }}"));
    }

    @Test
    void typeErrorsAreReported() {
        assertEquals("can only concatenate str (not \"int\") to str (template line 1)",
                assertThrows(JinjaException.class, () -> render("{{ 'a' + 1 }}")).getMessage());
        assertTrue(assertThrows(JinjaException.class, () -> render("{{ 'a' | nosuchfilter }}")).getMessage()
                .contains("no filter named 'nosuchfilter'"));
    }

    /** The filters that build as many items as an argument says are bounded like every other builder. */
    @Test
    void batchAndSliceRefuseHugeCounts() {
        assertThrows(JinjaException.class, () -> render("{{ [1] | batch(10**12, 0) | list }}"));
        assertThrows(JinjaException.class, () -> render("{{ [1] | slice(10**12) | list }}"));
        assertEquals("[[1, 2], [3, 0]]|[[1, 2], [3]]", render("{{ [1, 2, 3] | batch(2, 0) | list }}|{{ [1, 2, 3] | slice(2) | list }}"));
        assertEquals("x|a...", render("{{ 'x' | truncate(10**18) }}|{{ 'a b c d e f g h' | truncate(5, leeway=0) }}"));
    }

    @Test
    void recursiveLoopsWalkNestedItems() {
        Map<String, Object> tree = Map.of("items", List.of(
                Map.of("name", "a", "children", List.of(Map.of("name", "a1", "children", List.of()))),
                Map.of("name", "b", "children", List.of())));
        assertEquals("a(1)[a1(2)[]]b(1)[]", render("{% for n in items recursive %}{{ n.name }}({{ loop.depth }})"
                + "[{{ loop(n.children) }}]{% endfor %}", tree));
        // a loop that calls itself on the same items stops at the depth bound with an error, not a stack overflow
        JinjaException e = assertThrows(JinjaException.class, () -> render(
                "{% for n in items recursive %}{{ loop(items) }}{% endfor %}", tree));
        assertTrue(e.getMessage().contains("deeper than"), e.getMessage());
        assertThrows(JinjaException.class, () -> render("{% for n in items %}{{ loop(items) }}{% endfor %}", tree));
    }

    @Test
    void callBlocksHandTheirBodyToTheMacroAsCaller() {
        assertEquals("[in3]<x>", render("{% macro box(w) %}[{{ caller(w) }}]{% endmacro %}"
                + "{% macro wrap() %}<{{ caller() }}>{% endmacro %}"
                + "{% call(x) box(3) %}in{{ x }}{% endcall %}{% call wrap() %}x{% endcall %}"));
        assertEquals("%(a)s 1|[1, 'a']|None|  2.50|1   |+7|16|5", render("{{ '%%(a)s %(a)s' % {'a': 1} }}|{{ '%s' % [1, 'a'] }}|"
                + "{{ '%s' % none }}|{{ '%6.2f' % 2.5 }}|{{ '%-4d' % 1 }}|{{ '%+d' % 7 }}|{{ 0x10 }}|{{ 0b101 }}"));
    }

    @Test
    void syntaxErrorsNameTheLine() {
        JinjaException e = assertThrows(JinjaException.class, () -> JinjaTemplate.parse("ok\n{{ 1 + }}"));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().startsWith("template syntax error"), e.getMessage());
        assertThrows(JinjaException.class, () -> JinjaTemplate.parse("{% if true %}never closed"));
        assertThrows(JinjaException.class, () -> JinjaTemplate.parse("{% endif %}"));
        assertThrows(JinjaException.class, () -> JinjaTemplate.parse("{% include 'x' %}"));
        assertThrows(JinjaException.class, () -> JinjaTemplate.parse("{% for x in xs recursive %}{% endfor"));
        assertThrows(JinjaException.class, () -> JinjaTemplate.parse("{{ 'unterminated }}"));
    }

    @Test
    void pythonOperatorCornerCases() {
        assertEquals("[1, 2, 1, 2]|a=1, b|2|False|False|True",
                render("{{ [1, 2] * 2 }}|{{ 'a=%d, %s' % (1, 'b') }}|{{ 2 | round(1) }}|{{ 2.5 is even }}"
                        + "|{{ 2.5 is divisibleby 2 }}|{{ {'k': 1} is lower }}"));
        assertEquals("{'K': 1} Ab-Cd", render("{{ {'k': 1} | string | upper }} {{ 'aB-cD' | title }}"));
        assertEquals("3", render("{{ '4.5 x' | wordcount }}"));
        assertThrows(JinjaException.class, () -> render("{{ 'no specifiers' % 2 }}"));
        assertThrows(JinjaException.class, () -> render("{{ u | int }}"));
        assertThrows(JinjaException.class, () -> render("{{ x[1:] }}", Map.of("x", 7)));
    }

    @Test
    void noneIsAValueNotAMissingOne() {
        Map<String, Object> vars = mapWithNull("tools");
        assertEquals("None||0.0|0", render("{{ tools }}|{{ tools.x }}|{{ tools | float }}|{{ tools | int }}", vars));
        assertEquals("'NoneType' object is not iterable (template line 1)",
                assertThrows(JinjaException.class, () -> render("{% for t in tools %}{% endfor %}", vars)).getMessage());
        assertEquals("object of type 'NoneType' has no len() (template line 1)",
                assertThrows(JinjaException.class, () -> render("{{ tools | length }}", vars)).getMessage());
    }

    @Test
    void breakOutsideALoopIsAnError() {
        assertThrows(JinjaException.class, () -> render("{% break %}"));
    }
}
