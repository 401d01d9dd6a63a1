# Texts for the GBNF grammars of GrammarDifferentialTest, hex-encoded UTF-8, one per line:
# python3 generate-inputs.py GRAMMAR SEED COUNT (GRAMMAR: arith, misc, json or uni)
import random, sys, json
g, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
def ws(): return r.choice(["", "", " ", "  ", "\t", "\n", " \n "])
def arith():
    def term(d):
        c = r.random()
        if c < 0.4: return r.choice("abcxyz") + "".join(r.choice("az09_") for _ in range(r.randint(0, 3))) + ws()
        if c < 0.8 or d > 2: return str(r.randint(0, 999)) + ws()
        return "(" + ws() + expr(d + 1) + ")" + ws()
    def expr(d): return term(d) + "".join(r.choice("-+*/") + term(d) for _ in range(r.randint(0, 3)))
    return "".join(expr(0) + "=" + ws() + term(0) + "\n" for _ in range(r.randint(1, 3)))
def misc():
    s = r.choice(["hi", "hello", "hey"]) + "".join(", " + r.choice("ABCZ") + "".join(r.choice("abcxyz") for _ in range(r.randint(0, 5))) for _ in range(r.randint(1, 4)))
    s += r.choice(["", "!"])
    if r.random() < 0.5: s += "".join(r.choice("ab .,!?é中\t") for _ in range(r.randint(0, 6))) + "."
    else: s += "".join(r.choice("0123456789") for _ in range(r.randint(1, 5))) + (("x" + "".join(r.choice("09afAFg") for _ in range(r.randint(0, 3)))) if r.random() < 0.5 else "")
    return s
def jvalue(d):
    c = r.random()
    if c < 0.2 and d < 3: return {r.choice(["a", "b", "key", "é", "\"q\"", "x\\y", "\u00e9\u4e2d", "\n"]): jvalue(d + 1) for _ in range(r.randint(0, 3))}
    if c < 0.35 and d < 3: return [jvalue(d + 1) for _ in range(r.randint(0, 3))]
    if c < 0.55: return r.choice(["", "text", "tab\there", "uni\u2028", "esc\"q\\", "\u0001ctl", "😀"])
    if c < 0.75: return r.choice([0, -1, 7, 123456789, 10**17, -0.5, 3.25, 1e21, 1.5e-7, 2e10])
    return r.choice([True, False, None])
def jsonish():
    v = {"k": jvalue(0)} if r.random() < 0.3 else jvalue(0)
    if not isinstance(v, dict): v = {"v": v}
    return json.dumps(v, ensure_ascii=r.random() < 0.5, indent=r.choice([None, None, 1, 2]), separators=r.choice([None, (",", ":"), (", ", ": ")]))
def uni():
    words = [r.choice(["hello", "Ünïcode", "café", "中文", "汉字字", "😀😀", "😀", "X", "1", "é", "ÿ", "字字字字"]) for _ in range(r.randint(1, 4))]
    return " ".join(words)
gen = {"arith": arith, "misc": misc, "json": jsonish, "uni": uni}[g]
alphabet = {"arith": "abz09_()+-*/= \t\n", "misc": "hieloyABZ, !.abx0123fF\n中", "json": "{}[]\":,0123456789.-+eE truefalsn\\u \n\ta", "uni": "aé中😀 Zÿ1\u00e0"}[g]
def mutate(s):
    if not s: return s
    i = r.randrange(len(s)); c = r.random()
    if c < 0.33: return s[:i] + s[i + 1:]
    if c < 0.66: return s[:i] + r.choice(alphabet) + s[i:]
    return s[:i] + r.choice(alphabet) + s[i + 1:]
for _ in range(n):
    c = r.random()
    if c < 0.4: s = gen()
    elif c < 0.8: s = gen(); s = mutate(s) if r.random() < 0.7 else mutate(mutate(s))
    elif c < 0.9: s = gen()[: r.randint(0, 30)]
    else: s = "".join(r.choice(alphabet) for _ in range(r.randint(0, 12)))
    print(s.encode("utf-8").hex())
