#!/usr/bin/env python3
"""Summarizes a JMH JSON result (-rf json -rff FILE): per benchmark and parameters, the mean and the best
iteration of the GB/s and GFLOP/s counters. The best iteration is reported because the build machine is shared:
other processes only ever slow an iteration down."""
import json
import sys

def main(path):
    rows = json.load(open(path))
    print("| benchmark | params | GB/s mean | GB/s best | GFLOP/s best |")
    print("|---|---|---|---|---|")
    for r in rows:
        params = ", ".join(f"{k}={v}" for k, v in sorted(r.get("params", {}).items()))
        sec = r.get("secondaryMetrics", {})
        gb = sec.get("weightGB", {})
        gf = sec.get("gflop", {})
        def best(m):
            raw = [v for fork in m.get("rawData", []) for v in fork]
            return max(raw) if raw else float("nan")
        print(f"| {r['benchmark'].split('.')[-2]}.{r['benchmark'].split('.')[-1]} | {params} | "
              f"{gb.get('score', float('nan')):.2f} | {best(gb):.2f} | {best(gf):.2f} |")

if __name__ == "__main__":
    main(sys.argv[1])
