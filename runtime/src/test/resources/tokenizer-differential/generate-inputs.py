# Random texts for TokenizerDifferentialTest, hex-encoded UTF-8, one per line: mixes of words, contractions,
# whitespace runs, digits, punctuation, CJK, Hangul, Cyrillic, Arabic, Devanagari, Thai, accents and combining
# marks, emoji (with joiners and modifiers) and special-token spellings.
# inputs.hex = the first 160 lines of `python3 generate-inputs.py 1 2000` followed by the first 50 lines of at most
# 300 hex digits of the long-runs generator below (`python3 generate-inputs.py runs 3 1500`), less those holding
# "</s>" (see the README).
# <vocab>.detok.ids = `python3 generate-inputs.py ids VOCAB_SIZE [SKIPPED_ID]` (phi-3: 32064 2).
import random, sys
if sys.argv[1] == "ids":
    r = random.Random(11)
    size, skip, out = int(sys.argv[2]), {int(a) for a in sys.argv[3:]}, 0
    while out < 80:
        ids = [r.randrange(size) for _ in range(r.randint(1, 12))]
        if skip & set(ids):
            continue
        print(" ".join(map(str, ids)))
        out += 1
    sys.exit(0)
if sys.argv[1] == "runs":
    r = random.Random(int(sys.argv[2]))
    units = [" ", "\n", "\t", "a", "0", "1", "!", "é", "中", "😀", "'s", "ab", "\u00a0", "\u3000", ".", "-", "=", "_",
             "<|im_start|>", "<|endoftext|>", "<s>", "</s>", "<|im_end|>", "<unk>", "[SEP]", "<|user|>"]
    for _ in range(int(sys.argv[3])):
        s = "".join(r.choice(units) * r.randint(1, 70) for _ in range(r.randint(1, 5)))
        print(s.encode().hex())
    sys.exit(0)
import random, sys
seed, n = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(seed)
pieces = [
  lambda: r.choice(["the", "The", "THE", "hello", "world", "don't", "I'm", "we're", "they'll", "it's", "you've", "he'd", "'s", "'S", "'T"]),
  lambda: " " * r.randint(1, 6), lambda: "\n" * r.randint(1, 3), lambda: "\t", lambda: "\r\n", lambda: " \n ",
  lambda: str(r.randint(0, 10**r.randint(1, 12))), lambda: r.choice("0123456789") * r.randint(1, 9),
  lambda: r.choice([".", ",", "!", "?", "...", "--", "(", ")", "[", "]", "{", "}", "\"", "'", "`", "#", "@", "$", "%", "&", "*", "+", "=", "<", ">", "/", "\\", "|", "~", "^", "_", ";", ":"]) * r.randint(1, 3),
  lambda: "".join(chr(r.randint(0x4E00, 0x9FFF)) for _ in range(r.randint(1, 5))),
  lambda: "".join(chr(r.randint(0x3040, 0x30FF)) for _ in range(r.randint(1, 5))),
  lambda: "".join(chr(r.randint(0xAC00, 0xD7A3)) for _ in range(r.randint(1, 4))),
  lambda: "".join(chr(r.randint(0x0400, 0x04FF)) for _ in range(r.randint(1, 6))),
  lambda: "".join(chr(r.randint(0x0600, 0x06FF)) for _ in range(r.randint(1, 6))),
  lambda: "".join(chr(r.randint(0x0900, 0x097F)) for _ in range(r.randint(1, 6))),
  lambda: "".join(chr(r.randint(0x0E00, 0x0E7F)) for _ in range(r.randint(1, 6))),
  lambda: r.choice(["é", "ñ", "ü", "ß", "Ø", "å", "ç", "œ", "İ", "ı", "ǅ", "ﬁ", "Å", "e\u0301", "a\u0308", "\u00a0", "\u200b", "\u2028", "\u3000", "\ufeff"]),
  lambda: "".join(chr(r.randint(0x1F300, 0x1FAFF)) for _ in range(r.randint(1, 3))),
  lambda: r.choice(["👨‍👩‍👧", "🏳️‍🌈", "👍🏽", "❤️", "☕", "✓", "→", "€", "£", "¥", "©", "™", "°", "±", "µ", "½"]),
  lambda: "".join(r.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(r.randint(1, 12))),
  lambda: r.choice(["<s>", "</s>", "<|endoftext|>", "<unk>", "[CLS]", "<|im_start|>", "▁", "Ġ", "Ċ"]),
  lambda: chr(r.randint(0x20, 0x7E)),
  lambda: chr(r.choice([r.randint(0x80, 0x2FF), r.randint(0x2000, 0x206F), r.randint(0x10000, 0x10FFF)])),
]
for _ in range(n):
    s = "".join(r.choice(pieces)() for _ in range(r.randint(1, 12)))
    if "\ud800" <= s <= "\udfff": continue
    print(s.encode("utf-8", "surrogatepass").hex())
