#!/usr/bin/env python3
"""Markdown table of `benches/hashmap.rs` results: throughput per workload and size for gomap,
hashbrown and std, and the ratio gomap/hashbrown.

Reads criterion's `<target>/criterion/<workload>_<size>/<map>/new/{estimates,benchmark}.json`
and uses the median time per iteration (robust to the preemptions of a shared machine).

    python3 bench/criterion_table.py [CARGO_TARGET_DIR | criterion output dir]   # default: ./target
"""

import json
import os
import sys

WORKLOADS = ["insert", "lookup_hit", "lookup_miss", "remove", "iterate", "churn",
             "str_insert", "str_lookup"]
SIZES = ["1e3", "1e5", "1e7"]
MAPS = ["gomap", "hashbrown", "std"]


def melem_per_s(root, group, name):
    d = os.path.join(root, f"{group}", name, "new")
    try:
        est = json.load(open(os.path.join(d, "estimates.json")))
        bench = json.load(open(os.path.join(d, "benchmark.json")))
    except FileNotFoundError:
        return None
    elements = bench["throughput"]["Elements"]
    ns = est["median"]["point_estimate"]
    return elements / ns * 1e3  # elements per ns -> Melem/s


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "target"
    root = os.path.join(target, "criterion")
    if not os.path.isdir(root):
        root = target
    print("| workload | N | gomap Melem/s | hashbrown Melem/s | std Melem/s | gomap/hashbrown | std/hashbrown |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for w in WORKLOADS:
        for n in SIZES:
            vals = [melem_per_s(root, f"{w}_{n}", m) for m in MAPS]
            if all(v is None for v in vals):
                continue
            cells = ["—" if v is None else f"{v:.1f}" for v in vals]
            g, hb, sd = vals

            def ratio(a, b):
                return "—" if a is None or b is None else f"{a / b:.2f}x"
            print(f"| {w} | {n} | {' | '.join(cells)} | **{ratio(g, hb)}** | {ratio(sd, hb)} |")


if __name__ == "__main__":
    main()
