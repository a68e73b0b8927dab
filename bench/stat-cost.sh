#!/bin/bash
# What the remover's byte count costs (#11): one flat directory of N empty
# files (default 100,000) removed by GNU rm -rf, by the floor of
# bench/flat_tree.c (getdents64 + unlinkat), by the floor with one statx
# per entry first, and by ptd_remove_tree() (native/removal/remove.c, which stats
# every entry: bytes for the log line, mount points, identity). Run as
# root; trees live under /var/tmp/ptd-bench (never /tmp). REPS (default 3)
# rounds, the four in rotating order; prints a markdown table of medians.
set -euo pipefail

REPS=${REPS:-3}
N=${N:-100000}
BASE=/var/tmp/ptd-bench
SRC=$(cd "$(dirname "$0")/.." && pwd)

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
mkdir -p "$BASE"
gcc -std=gnu11 -Wall -Wextra -Werror -O2 -o "$BASE/flat_tree" "$SRC/bench/flat_tree.c"
gcc -std=gnu11 -Wall -Wextra -Werror -O2 -o "$BASE/remove_bench" \
	-I"$SRC/native" "$SRC/bench/remove_bench.c" \
	"$SRC"/native/removal/{remove,levels,entry,leftset,fixmode}.c \
	"$SRC/native/util/escape.c"

make_tree() {
	rm -rf "$1"
	"$BASE/flat_tree" "$1" make "$N"
	sync
}

# run <tool> <dir>: wall seconds
run() {
	local t0 t1
	t0=$EPOCHREALTIME
	case $1 in
	rm) rm -rf "$2" ;;
	floor) "$BASE/flat_tree" "$2" plain >/dev/null ;;
	floor+statx) "$BASE/flat_tree" "$2" stat >/dev/null ;;
	ptd) "$BASE/remove_bench" "$(dirname "$2")" "$(basename "$2")" >/dev/null ;;
	esac
	t1=$EPOCHREALTIME
	[ ! -e "$2" ] || { echo "$1 left $2 behind" >&2; exit 1; }
	echo "$t1 - $t0" | bc -l
}

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

tools=(rm floor floor+statx ptd)
declare -A t
for ((r = 0; r < REPS; r++)); do
	for ((i = 0; i < ${#tools[@]}; i++)); do
		tool=${tools[(i + r) % ${#tools[@]}]}
		make_tree "$BASE/flat"
		s=$(run "$tool" "$BASE/flat")
		t[$tool]+="$s "
		echo "round $r $tool $s" >&2
	done
done
declare -A m
for tool in "${tools[@]}"; do m[$tool]=$(printf '%s\n' ${t[$tool]} | median); done
echo "| $N empty files in one directory | wall (s), median of $REPS | vs rm -rf |"
echo "|---|---:|---:|"
for tool in "${tools[@]}"; do
	printf '| %s | %.3f | ×%.2f |\n' "$tool" "${m[$tool]}" "$(echo "${m[$tool]} / ${m[rm]}" | bc -l)"
done
