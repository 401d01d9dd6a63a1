#!/usr/bin/env python3
"""Writes cases.txt: sampler settings for SamplerDifferentialTest, one case a line (see README.md)."""
import random

rng = random.Random(20261207)
lines = []
for i in range(150):
    vocab = rng.choice([1000] * 6 + [32000])
    mirostat = rng.choice([0] * 8 + [1, 2])
    topk = rng.choice([0, 0, 1, 5, 40, 40, 100])
    topp = rng.choice([1.0, 1.0, 0.95, 0.9, 0.5])
    minp = rng.choice([0.0, 0.05, 0.05, 0.2])
    typical = rng.choice([1.0] * 4 + [0.9, 0.5])
    xtcp, xtct = rng.choice([(0.0, 0.1)] * 4 + [(0.5, 0.1), (1.0, 0.05), (0.3, 0.2)])
    temp = rng.choice([0.3, 0.7, 0.8, 0.8, 1.0, 1.5])
    tau, eta = rng.choice([(5.0, 0.1), (3.0, 0.2)])
    seed = rng.randrange(0, 2**32 - 1)  # 0xFFFFFFFF is llama.cpp's "random seed"
    genseed = rng.randrange(0, 2**32)
    scale = rng.choice([5.0, 12.0, 20.0, 40.0])
    lines.append(f"c{i} {vocab} {topk} {topp} {minp} {typical} {xtcp} {xtct} {temp} {mirostat} {tau} {eta} {seed} {genseed} {scale} 20")
open("cases.txt", "w").write("\n".join(lines) + "\n")
