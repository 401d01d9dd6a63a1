#!/usr/bin/env python3
"""Summarizes a JMH JSON result (-rf json -rff FILE): per benchmark and parameters, the mean and the best
iteration of the GB/s and GFLOP/s counters. The best iteration is reported because the build machine is shared:
other processes only ever slow an iteration down. With a second argument, the memory read bandwidth in GB/s,
a column gives the best GB/s as a percentage of it."""
import json
import sys


def best(metric):
    raw = [v for fork in metric.get("rawData", []) for v in fork]
    return max(raw) if raw else float("nan")


def main(path, ceiling=None):
    rows = json.load(open(path))
    head = "| benchmark | params | GB/s mean | GB/s best | GFLOP/s best |"
    rule = "|---|---|---|---|---|"
    if ceiling:
        head += f" % of {ceiling:g} GB/s |"
        rule += "---|"
    print(head)
    print(rule)
    for r in rows:
        name = ".".join(r["benchmark"].split(".")[-2:])
        params = ", ".join(f"{k}={v}" for k, v in sorted(r.get("params", {}).items()) if not (k == "impl" and v == "vector"))
        sec = r.get("secondaryMetrics", {})
        gb = sec.get("weightGB", {})
        gf = sec.get("gflop", {})
        line = f"| {name} | {params} | {gb.get('score', float('nan')):.1f} | {best(gb):.1f} | {best(gf):.1f} |"
        if ceiling:
            line += f" {100 * best(gb) / ceiling:.0f}% |"
        print(line)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else None)
