#!/usr/bin/env bash
# Does boxing keys and values over 128 bytes (Go's indirectkey / indirectelem) pay?
# Builds examples/indirect_storage.rs twice, as gomap is (big keys and values boxed) and with
# `--cfg gomap_inline_all` (everything inline), runs the two binaries alternately, and prints
# for every shape, size and measure the fastest figure of each build over all runs and the
# ratio inline / boxed (above 1.00: boxing is faster, or smaller for bytes per entry).
#
#   bash bench/indirect.sh [RUNS] [SIZES...]      # defaults: 3 runs, sizes 1000 100000
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
shift || true
sizes=("${@:-1000 100000}")
read -r -a sizes <<<"${sizes[*]}"
case $runs in '' | *[!0-9]* | 0) echo "indirect.sh: RUNS must be a positive integer, got '$runs'" >&2; exit 2 ;; esac

cargo build --release --example indirect_storage --quiet
RUSTFLAGS="--cfg gomap_inline_all" CARGO_TARGET_DIR=target/inline-all \
  cargo build --release --example indirect_storage --quiet
boxed=target/release/examples/indirect_storage
inline=target/inline-all/release/examples/indirect_storage

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= runs; r++)); do
  for n in "${sizes[@]}"; do
    "$boxed" "$n" 7 >>"$out"
    "$inline" "$n" 7 >>"$out"
  done
done

python3 - "$out" <<'EOF'
import sys
best = {}
for line in open(sys.argv[1]):
    tag, storage, shape, n, measure, fastest, _median = line.split()
    if tag != "RESULT":
        continue
    k = (shape, int(n), measure)
    best.setdefault(k, {})
    prev = best[k].get(storage)
    best[k][storage] = float(fastest) if prev is None else min(prev, float(fastest))
print(f"{'shape':<11} {'n':>7}  {'measure':<16} {'boxed':>9} {'inline':>9}  inline/boxed")
for (shape, n, measure), v in best.items():
    unit = "B/entry" if measure == "bytes_per_entry" else "ns/op"
    print(f"{shape:<11} {n:>7}  {measure:<16} {v['boxed']:>9.1f} {v['inline']:>9.1f}  "
          f"{v['inline'] / v['boxed']:.2f}x  ({unit})")
EOF
