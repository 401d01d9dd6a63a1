#!/usr/bin/env python3
"""Writes cases.jsonl for JinjaDifferentialTest: random small templates over the expressions, filters, tests and
string methods chat templates use, each rendered by Python's Jinja2 (3.1.6) set up as Hugging Face's
apply_chat_template sets it up. A case is {"template", "text"} or {"template", "error"}. python3 generate.py"""
import json, os, random, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "templates"))
from hf_jinja import environment

env = environment()

VARS = {"s": "  Hello, World! <think>x</think> ", "t": "a,b,,c", "e": "", "n": 7, "m": -3, "f": 2.5,
        "xs": [3, 1, 2, 3], "ws": ["b", "A", "c"], "d": {"b": 2, "a": 1, "c": None},
        "msgs": [{"role": "system", "content": "S"}, {"role": "user", "content": "U1"},
                 {"role": "assistant", "content": "A1"}, {"role": "user", "content": "U2"}],
        "none_v": None, "flag": True}

STR = ["s", "t", "e", "'abc'", "'A-b_c'", "\"x y z\"", "msgs[1].content", "(s | trim)"]
NUM = ["n", "m", "f", "0", "1", "-1", "2", "10", "xs | length", "n // 2", "n % 3", "(f * 2)"]
LIST = ["xs", "ws", "msgs", "t.split(',')", "s.split()", "[1, 'a', none]", "d.keys() | list", "d.items() | list",
        "range(4) | list", "xs[1:]", "xs[::-1]", "ws | sort", "xs | unique | list"]

def rstr(r):
    c = r.choice(STR)
    return r.choice([c, c, f"{c}.{r.choice(['strip()', 'lstrip()', 'rstrip()', 'upper()', 'lower()', 'title()', 'capitalize()'])}",
                     f"{c}.replace('{r.choice('lo, ')}', '{r.choice(['', '_', 'XY'])}')",
                     f"{c}[{r.choice(['1', '-1', '0', '-2'])}:{r.choice(['', '3', '-1', '100'])}]",
                     f"{c}.strip('{r.choice([' H', '!', ' <>', 'a'])}')", f"{c}.split('{r.choice([',', ' ', '</think>'])}')[-1]",
                     f"{c} ~ {r.choice(NUM)}", f"{c} + {r.choice(STR)}", f"{c} * {r.choice(['0', '2', '-1'])}"])

STR_FILTERS = ['length', 'upper', 'lower', 'trim', 'title', 'capitalize', 'string', 'first', 'last', 'list',
               'reverse | list', 'wordcount', 'center(20)', 'indent(2)', 'indent(2, true)', 'truncate(8)',
               "replace('l', 'L')", 'tojson', 'int', 'float', "default('D')"]
LIST_FILTERS = ['length', 'first', 'last', "join('-')", 'join', 'sum', 'min', 'max', 'sort | list', 'reverse | list',
                'unique | list', 'tojson', 'tojson(indent=2)', "map('string') | join(',')", 'select | list',
                'reject | list', 'batch(2) | list', 'slice(2) | list', 'list | count']
NUM_FILTERS = ['abs', 'int', 'float', 'round', 'round(1)', 'string', 'default(5)']
DICT_FILTERS = ['dictsort | list', 'dictsort(reverse=true) | list', 'tojson', 'tojson(sort_keys=true)', 'length',
                'items | list', 'list']
MSG_FILTERS = ["selectattr('role', 'equalto', 'user') | list | length",
               "rejectattr('role', 'eq', 'system') | map(attribute='content') | join('|')",
               "map(attribute='role') | unique | list", "groupby('role') | list | length",
               "map(attribute='missing', default='?') | list", "sum(attribute='missing')"]
TESTS = ['defined', 'undefined', 'none', 'string', 'number', 'integer', 'float', 'iterable', 'mapping', 'sequence',
         'boolean', 'true', 'false', 'even', 'odd', 'divisibleby(3)', 'lower', 'upper']

def rexpr(r, depth=0):
    k = r.randrange(12 if depth < 2 else 6)
    if k == 0: return rstr(r)
    if k == 1: return f"{r.choice(NUM)} {r.choice(['+', '-', '*', '/', '//', '%', '**'])} {r.choice(NUM)}"
    if k == 2: return r.choice(LIST)
    if k == 3: return rstr(r) + " | " + r.choice(STR_FILTERS)
    if k == 4: return r.choice(LIST) + " | " + r.choice(LIST_FILTERS)
    if k == 5: return r.choice(NUM) + " | " + r.choice(NUM_FILTERS)
    if k == 6: return f"({rexpr(r, depth + 1)}) {r.choice(['==', '!=', '<', '>', 'in', 'not in', 'and', 'or'])} ({rexpr(r, depth + 1)})"
    if k == 7: return rexpr(r, depth + 1) + " is " + r.choice(TESTS)
    if k == 8: return f"({rexpr(r, depth + 1)}) if {r.choice(['flag', 'e', 'none_v', 'n > 3', 'xs'])} else ({rexpr(r, depth + 1)})"
    if k == 9: return "d | " + r.choice(DICT_FILTERS)
    if k == 10: return "msgs | " + r.choice(MSG_FILTERS)
    return f"not {rexpr(r, depth + 1)}"

def rstmt(r):
    k = r.randrange(7)
    if k == 0: return "{{ " + rexpr(r) + " }}"
    if k == 1: return "{% for x in " + r.choice(LIST) + " %}[{{ loop.index0 }}{{ x }}{{ loop.last }}{% if loop.first %}F{% endif %}]{% endfor %}"
    if k == 2: return "{% for k, v in d.items() %}{{ k }}={{ v }};{% else %}E{% endfor %}"
    if k == 3: return rstr(r) + " | " + r.choice(STR_FILTERS)
    if k == 4: return r.choice(LIST) + " | " + r.choice(LIST_FILTERS)
    if k == 5: return r.choice(NUM) + " | " + r.choice(NUM_FILTERS)
    return "{%- " + "set v = " + rexpr(r) + " -%}\n  {{ v }}|{{- v | string | length -}}\n"

MORE_EXPR = [
    "s.startswith('  H')", "s.endswith(' ')", "s.find('World')", "s.count('l')", "'-'.join(ws)", "t.split(',', 1)",
    "s.rsplit(' ', 1)", "s.splitlines()", "'%s and %d' % ('a', n)", "'%05.1f|%-4s|' % (f, 'x')", "'{} {}'.format(n, 'x')",
    "d.get('a')", "d.get('z', 'dflt')", "d['c']", "d.z", "'a' in d", "'World' in s", "xs.index(2)", "ws | join(',', attribute='x')",
    "t | replace(',', ';', 1)", "s | trim('! ')", "'abc' | list", "none_v | string", "flag | string", "f | string",
    "[] | first", "e | default('E', true)", "xs | int", "'3.7' | float | round(0, 'floor')", "2.5 | round(0, 'ceil')",
    "(n if flag)", "(n if none_v)", "d | length", "s | length", "none_v ~ 'x'", "xs | map('int') | list",
    "msgs | map(attribute='content') | map('lower') | join", "ws | map('upper') | select('equalto', 'A') | list",
    "range(1, 10, 3) | list", "range(5) | sum", "[1, 2] + [3]", "(1, 2)", "{'k': 1, 'j': [1, 2]}", "xs * 2",
    "'x' if 'y' else 'z'", "1 < 2 < 3", "n is in [7, 8]", "'a' is in 'cat'", "ws | sort(reverse=true) | list",
    "msgs | sort(attribute='role') | map(attribute='content') | list", "msgs | last", "msgs[-1].content[:1]",
]
MORE_STMT = [
    "{% macro m(a, b='B') %}<{{ a }}{{ b }}{{ caller() if caller is defined }}>{% endmacro %}{{ m(1) }}{{ m('x', b=n) }}",
    "{% for x in xs %}{{ loop.revindex }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.cycle('a', 'b') }};{% endfor %}",
    "{% set block_v %}  inner {{ n }}  {% endset %}[{{ block_v }}]",
    "{% raw %}{{ not rendered }}{% endraw %}",
    "{# a comment #}x{#- trimmed -#} y",
    "{% for a in ws %}{% for b in xs[:2] %}{{ loop.index }}{{ a }}{{ b }}{% endfor %}|{{ loop.index }}{% endfor %}",
    "{%- for m in msgs -%}\n  {%- if m.role == 'user' -%}\n    U:{{ m.content }}\n  {%- else -%}\n    O:{{ m.content }}\n  {% endif -%}\n{%- endfor -%}",
    "  {%+ if flag %}kept{% endif %}",
    "{% filter upper %}text {{ n }}{% endfilter %}",
    "{% for x in [] %}never{% else %}empty{% endfor %}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }}",
    "{% for x in xs %}{% if x > 2 %}{% continue %}{% endif %}{{ x }}{% endfor %}",
]

def rstmt2(r):
    k = r.randrange(4)
    if k == 0:
        return "{{ " + r.choice(MORE_EXPR) + " }}"
    if k == 1:
        return r.choice(MORE_STMT)
    if k == 2:
        return "{{ (" + r.choice(MORE_EXPR) + ") | " + r.choice(['string', 'length', 'tojson', 'list | length', 'trim', 'lower']) + " }}"
    return rstmt(r)

seen = set()

def collect(rng, make, count):
    """count new templates from make(rng), each with Jinja2's text or error; no template twice across the sets."""
    cases = []
    while len(cases) < count:
        src = make(rng)
        if src in seen:
            continue
        seen.add(src)
        try:
            cases.append({"template": src, "text": env.from_string(src).render(**VARS)})
        except Exception as e:
            cases.append({"template": src, "error": type(e).__name__ + ": " + str(e)})
    return cases

out = collect(random.Random(20261207), lambda r: "".join(rstmt(r) for _ in range(r.randrange(1, 4))), 600)
def write(name, cases):
    with open(name, "w", encoding="utf-8") as f:
        f.write(json.dumps({"variables": VARS}, ensure_ascii=False) + "\n")
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    print(name, len(cases), "cases,", sum(1 for c in cases if "error" in c), "errors")

write("cases.jsonl", out)

# a second set: string methods, % and format, macros, loop variables, block set, raw, comments, filters blocks
out2 = collect(random.Random(20261208), lambda r: "".join(rstmt2(r) for _ in range(r.randrange(1, 3))), 400)
write("cases-2.jsonl", out2)

# a third set: text case and unicode, tojson of odd text, undefined and missing values, errors, whitespace control,
# call blocks, loops over mappings and nested namespaces
THIRD_EXPR = [
    "\"they're bill's friends\" | title", "'hELLO wORLD' | capitalize", "'straße' | upper", "'ÀÉÎ' | lower",
    "'Ǆ' | title", "'a\\tb' | tojson", "'<tag> & \\'q\\'' | tojson", "'é ✓ 😀' | tojson", "'é ✓ 😀' | tojson(ensure_ascii=true)",
    "{'é': [1, {'x': none}]} | tojson", "{'b': 1, 'a': [1.5, true]} | tojson(indent=2, sort_keys=true)",
    "[1, [2, [3]]] | tojson(separators=(',', ':'))", "1 / 0", "n // 0", "xs[10]", "xs[10].a", "d.z.y", "none_v.x",
    "none_v['x']", "undefined_name", "undefined_name | default('u')", "undefined_name is defined", "xs[-1]",
    "'abc'[5:]", "'abc'[-10:2]", "xs[1:3:2]", "'%s' % none_v", "1 < 'a'", "[1] < [2]", "'b' > 'a'",
    "none_v == none_v", "n == 7.0", "1 == true", "'1' == 1", "xs == [3, 1, 2, 3]", "d == {'a': 1, 'b': 2, 'c': none}",
    "(n > 3) + 1", "true + true", "'' or 'x'", "0 or none_v", "e and 'y'", "not none_v", "-n ** 2", "2 ** 3 ** 2",
    "7 / 2", "-7 // 2", "-7 % 3", "7.5 // 2", "1e3", "1_000", "0x10", "3 | string ~ 'x'", "'x' ~ none_v ~ flag",
    "'%.2f' % 2.345", "'%d' % 3.9", "'%5.1f%%' % 99.95", "'%r' % 'x'", "'%s' % [1, 'a']", "'%(a)s' % {'a': 1}",
]
THIRD_STMT = [
    "{% macro box(w) %}[{{ caller(w) }}]{% endmacro %}{% call(x) box(3) %}in{{ x }}{% endcall %}",
    "{% for k in d %}{{ k }}{% endfor %}|{% for k in d | dictsort %}{{ k[0] }}{% endfor %}",
    "{% set ns = namespace(n=0) %}{% for a in xs %}{% for b in ws %}{% set ns.n = ns.n + 1 %}{% endfor %}{% endfor %}{{ ns.n }}",
    "{% for m in msgs %}{{- m.role -}} {% endfor %}",
    "a  {{- ' b ' -}}  c  {{ 'd' }}  \n  {%- if true %} e {% endif -%} \n f",
    "{% if xs %}\n  x\n{% endif %}\n  {% for i in range(2) %}\n  {{ i }}\n  {% endfor %}\n",
    "{% for x in xs recursive %}{{ x }}{% endfor %}",
    "{% set x = 1 %}{% for i in range(3) %}{% set x = x + i %}{% endfor %}{{ x }}",
    "{% for i in range(3) %}{{ loop.index }}{% if loop.index is divisibleby 2 %}e{% endif %}{% endfor %}",
    "{{ range(3) | join(', ') }}{{ range(10) | batch(3, 'x') | list }}{{ range(7) | slice(3, 0) | list }}",
    "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}",
    "{% if n is number and n is not string %}num{% endif %}{% if d is mapping %}map{% endif %}{% if xs is sequence %}seq{% endif %}",
]

def rstmt3(r):
    k = r.randrange(3)
    if k == 0:
        return "{{ " + r.choice(THIRD_EXPR) + " }}"
    if k == 1:
        return r.choice(THIRD_STMT)
    return rstmt2(r)

out3 = collect(random.Random(20261209), lambda r: "".join(rstmt3(r) for _ in range(r.randrange(1, 3))), 400)
write("cases-3.jsonl", out3)

# a fourth set: layout. Text with newlines and indentation around tags and comments with every whitespace
# marker ('-' on either side, '+' on the left), as chat templates lay themselves out over many lines.
TEXTS = ["", "\n", "\n\n", "  ", "\n  ", "  \n", "x", " x ", "\nx\n", "\t", "x\n  ", "\n\t\n"]
def tag(r, inner, kind):
    left = r.choice(["{" + kind, "{" + kind + "-", "{" + kind + "+"]) if kind == "%" else r.choice(["{{", "{{-"])
    right = r.choice([kind + "}", "-" + kind + "}"]) if kind == "%" else r.choice(["}}", "-}}"])
    return left + " " + inner + " " + right
def layout(r, depth=0):
    parts = []
    for _ in range(r.randrange(1, 5)):
        k = r.randrange(6 if depth < 2 else 3)
        parts.append(r.choice(TEXTS))
        if k == 0:
            parts.append(tag(r, r.choice(["n", "'v'", "e", "xs | length"]), "{")[1:] if False else tag(r, r.choice(["n", "'v'", "e", "xs | length"]), "{"))
        elif k == 1:
            parts.append(r.choice(["{# c #}", "{#- c #}", "{# c -#}", "{#- c -#}"]))
        elif k == 2:
            parts.append(tag(r, "set q = 1", "%"))
        elif k == 3:
            parts.append(tag(r, "if " + r.choice(["flag", "e", "n > 3"]), "%") + layout(r, depth + 1)
                         + tag(r, "else", "%") + layout(r, depth + 1) + tag(r, "endif", "%"))
        elif k == 4:
            parts.append(tag(r, "for x in ws", "%") + layout(r, depth + 1) + tag(r, "endfor", "%"))
        else:
            parts.append(tag(r, "raw", "%") + r.choice(TEXTS) + "{{ x }}" + r.choice(TEXTS) + tag(r, "endraw", "%"))
        parts.append(r.choice(TEXTS))
    return "".join(parts)

out4 = collect(random.Random(20261210), layout, 400)
write("cases-4.jsonl", out4)
