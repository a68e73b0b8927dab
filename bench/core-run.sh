#!/bin/bash
# bench/core-run.sh - what one run of the embedded core costs, with its
# linear memory from mmap (this tree, native/core/w2c_alloc.h) against from the
# heap (wasm2c's own calloc), built the same way from this tree's objects,
# the two alternating ROUNDS times; each run is bench/core-run.c: N runs of
# each phase, in the process alone and with a forked child alive (as the
# namespace holder shares slurmstepd's pages). No Slurm needed. Run after
# npm run build. Prints a markdown table of medians over the rounds (ms).
#   N=1000 ROUNDS=5
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-500}
ROUNDS=${ROUNDS:-5}
OUT=$(mktemp -d /var/tmp/ptd-core-run.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
G=$REPO/dist/gen
CFLAGS=(-std=gnu11 -O2 -include "$G/w2c_config.h" -I"$REPO/native" -I"$G" -I/usr/src/wasm2c)
objs=()
for o in "$REPO"/dist/native/*.o "$REPO"/dist/native/*/*.o; do
	case $(basename "$o") in plugin*.o | pam.o | wasm_runtime.o) ;; *) objs+=("$o") ;; esac
done
for how in mmap heap; do
	extra=()
	[ "$how" = heap ] && extra=(-DPTD_W2C_ALLOC_HEAP)
	cc "${CFLAGS[@]}" -w "${extra[@]}" -c "$REPO/native/core/wasm_runtime.c" -o "$OUT/rt-$how.o"
	cc "${CFLAGS[@]}" -o "$OUT/core-run-$how" "$REPO/bench/core-run.c" "${objs[@]}" "$OUT/rt-$how.o" -lslurm
done
for r in $(seq "$ROUNDS"); do
	for how in mmap heap; do
		"$OUT/core-run-$how" "$N" | sed "s/^/$how\t/" >>"$OUT/all.tsv"
	done
done
python3 - "$OUT/all.tsv" <<'PY'
import statistics, sys
rows = {}
for l in open(sys.argv[1]):
    how, case, phase, mean = l.rstrip("\n").split("\t")
    rows.setdefault((case, phase, how), []).append(float(mean))
print("| run | phase | memory from mmap (this tree): ms per run | from the heap (wasm2c's calloc) | heap / mmap |")
print("|---|---|---|---|---|")
for case in ("warm", "after a fork"):
    for phase in ("check", "epilog", "step"):
        m = statistics.median(rows[(case, phase, "mmap")])
        h = statistics.median(rows[(case, phase, "heap")])
        print(f"| {case} | {phase} | {m:.3f} | {h:.3f} | ×{h / m:.2f} |")
PY
