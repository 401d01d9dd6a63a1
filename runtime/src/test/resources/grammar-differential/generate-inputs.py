# Texts for GrammarDifferentialTest, hex-encoded UTF-8, one per line:
#   python3 generate-inputs.py GRAMMAR SEED COUNT        (GRAMMAR: arith, misc, json or uni)
#   python3 generate-inputs.py SCHEMA.json SEED COUNT    (texts for a JSON Schema)
import json, random, sys
what, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)


def mutate(s):
    if not s: return s
    i = r.randrange(len(s)); c = r.random()
    if c < 0.33: return s[:i] + s[i + 1:]
    if c < 0.66: return s[:i] + r.choice(alphabet) + s[i:]
    return s[:i] + r.choice(alphabet) + s[i + 1:]

if what.endswith(".json"):
    schema = json.load(open(what))
    defs = schema.get("$defs", {})
    def s_string(sc):
        fmt = sc.get("format")
        if fmt == "date": return r.choice(["2024-02-29", "1999-12-31", "2024-13-01", "24-1-1"])
        if fmt == "time": return r.choice(["12:30:59", "23:59:60Z", "01:02:03.456+02:00", "7:00"])
        if fmt == "uuid": return r.choice(["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000", "xyz"])
        if "pattern" in sc:
            if "[A-Z][a-z]+ " in sc["pattern"]:
                return r.choice(["John 2024", "Ann Lee 1999-12", "Bob 12", "A b 2024", "Eve Mae Jo Al 2000", "Zed 2024-1", "Ab-1"])
            return r.choice(["Ab-1", "Abcd-42", "A-1", "ab-1", "Abc-", "Zz-0099"])
        lo, hi = sc.get("minLength", 0), sc.get("maxLength", 8)
        return "".join(r.choice("ab é\"\\\n中😀") for _ in range(r.randint(max(0, lo - 1), hi + 1)))
    def gen(sc, d=0):
        if "$ref" in sc: return gen(defs[sc["$ref"].split("/")[-1]], d)
        if "const" in sc: return sc["const"] if r.random() < 0.9 else "other"
        if "enum" in sc: return r.choice(sc["enum"] + ["zz"])
        if "anyOf" in sc: return gen(r.choice(sc["anyOf"]), d)
        t = sc.get("type", "object")
        if isinstance(t, list): t = r.choice(t)
        if t == "object":
            props = sc.get("properties", {}); out = {}
            for k, v in props.items():
                if k in sc.get("required", []) or r.random() < 0.5: out[k] = gen(v, d + 1)
            ap = sc.get("additionalProperties")
            if isinstance(ap, dict):
                for _ in range(r.randint(0, 3)): out[r.choice(["a", "b", "x1", "é"])] = gen(ap, d + 1)
            elif r.random() < 0.1: out["extra"] = 1
            return out
        if t == "array":
            lo, hi = sc.get("minItems", 0), sc.get("maxItems", 4)
            return [gen(sc.get("items", {"type": "integer"}), d + 1) for _ in range(r.randint(max(0, lo - 1), hi + 1))]
        if t == "string": return s_string(sc)
        if t == "integer":
            lo = sc.get("minimum", sc.get("exclusiveMinimum", -1000)); hi = sc.get("maximum", 1000)
            return r.randint(lo - 2, hi + 2)
        if t == "number": return r.choice([0, -1.5, 3.25, 1e21, 2.5e-8, 7, -0.0])
        if t == "boolean": return r.random() < 0.5
        if t == "null": return None
        return None
    alphabet = "{}[]\":,0123456789.-e abnulltrue\n"
    out = 0
    while out < n:
        v = gen(schema)
        s = json.dumps(v, ensure_ascii=r.random() < 0.5, indent=r.choice([None, None, 1, 2]), separators=r.choice([None, (",", ":"), (", ", ": ")]))
        c = r.random()
        if c < 0.3: s = mutate(s)
        elif c < 0.4: s = s[: r.randint(0, len(s))]
        if r.random() < 0.15: s = s.replace("\n", "\n\n", 1)
        if r.random() < 0.1: s = s.replace("a", "\\/", 1)
        print(s.encode("utf-8").hex()); out += 1

    sys.exit(0)

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
gen = {"arith": arith, "misc": misc, "json": jsonish, "uni": uni}[what]
alphabet = {"arith": "abz09_()+-*/= \t\n", "misc": "hieloyABZ, !.abx0123fF\n中", "json": "{}[]\":,0123456789.-+eE truefalsn\\u \n\ta", "uni": "aé中😀 Zÿ1\u00e0"}[what]
for _ in range(n):
    c = r.random()
    if c < 0.4: s = gen()
    elif c < 0.8: s = gen(); s = mutate(s) if r.random() < 0.7 else mutate(mutate(s))
    elif c < 0.9: s = gen()[: r.randint(0, 30)]
    else: s = "".join(r.choice(alphabet) for _ in range(r.randint(0, 12)))
    print(s.encode("utf-8").hex())
