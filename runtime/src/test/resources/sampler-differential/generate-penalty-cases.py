#!/usr/bin/env python3
"""Writes cases-penalties.txt: settings with a token history for SamplerDifferentialTest (see README.md)."""
import random

rng = random.Random(20261208)
lines = []
for i in range(100):
    vocab = rng.choice([1000, 1000, 1000, 4000])
    topk = rng.choice([0, 40, 40, 100])
    topp = rng.choice([1.0, 0.95, 0.9])
    minp = rng.choice([0.0, 0.05])
    temp = rng.choice([0.5, 0.8, 1.0, 1.3])
    seed = rng.randrange(0, 2**32 - 1)
    genseed = rng.randrange(0, 2**32)
    scale = rng.choice([2.0, 4.0, 8.0])
    rep, lastn = rng.choice([(1.0, 64), (1.1, 64), (1.3, 16), (1.5, 128), (0.8, 32)])
    freq, pres = rng.choice([(0.0, 0.0), (0.2, 0.0), (0.0, 0.5), (0.3, 0.3), (-0.2, 0.1)])
    dry_mult, dry_base, dry_allowed, dry_last_n = rng.choice([(0.0, 1.75, 2, -1), (0.8, 1.75, 2, -1),
                                                               (1.5, 2.0, 1, 32), (0.5, 1.2, 3, 64)])
    hist = rng.choice([0, 1, 8, 30, 120])
    bias = rng.choice(["-", "-", "5:2.5", "3:-100,7:1.5", "0:-1e9"])
    lines.append(f"p{i} {vocab} {topk} {topp} {minp} {temp} {seed} {genseed} {scale} 20 {rep} {lastn} {freq} {pres} "
                 f"{dry_mult} {dry_base} {dry_allowed} {dry_last_n} {hist} {bias}")
open("cases-penalties.txt", "w").write("\n".join(lines) + "\n")
