#!/bin/bash
# Times ptd_remove_tree() (native/removal/remove.c, through bench/remove_bench.c)
# against GNU rm -rf on identical trees: (a) 100,000 empty files in 10,000
# directories, (b) a 10,000-deep directory chain. Run as root; everything
# lives under /var/tmp/ptd-bench (never /tmp: the product privatises it).
# REPS (default 5) repetitions, the two tools in alternating order; prints
# a markdown table of medians on stdout, progress on stderr.
set -euo pipefail

REPS=${REPS:-5}
BASE=/var/tmp/ptd-bench
TREES=$BASE/trees
SRC=$(cd "$(dirname "$0")/.." && pwd)
DRIVER=$BASE/remove_bench

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
	apt-get install -y time >&2
fi

mkdir -p "$BASE"
gcc -std=gnu11 -Wall -Wextra -Werror -O2 -o "$DRIVER" \
	-I"$SRC/native" "$SRC/bench/remove_bench.c" \
	"$SRC"/native/removal/{remove,levels,entry,leftset,fixmode}.c \
	"$SRC/native/util/escape.c"

rm -rf "$TREES"
mkdir -p "$TREES"

# (a) d00..d99, each holding e00..e98: 10,000 directories, 10 files in each.
gen_wide() {
	mkdir "$1"
	(
		cd "$1"
		mkdir -p d{00..99}/e{00..98}
		printf '%s\0' d{00..99}/{,e{00..98}/}f{0..9} |
			xargs -0 touch
	)
}

# (b) 10,000 nested "c": made 1,000 levels at a time (PATH_MAX).
gen_deep() {
	local chunk i
	chunk=$(printf 'c/%.0s' {1..1000})
	mkdir "$1"
	(
		cd "$1"
		for i in {1..10}; do
			mkdir -p "$chunk"
			cd "$chunk"
		done
	)
}

# run <tool> <dir>: prints "wall_seconds peak_rss_kib cpu_seconds"
run() {
	local tool=$1 dir=$2 t0 t1 out=$BASE/time.out
	# Neither tool should pay for the other's (or the generator's)
	# journal writeback.
	sync
	t0=$EPOCHREALTIME
	if [ "$tool" = rm ]; then
		/usr/bin/time -f '%M %S %U' -o "$out" rm -rf "$dir"
	else
		/usr/bin/time -f '%M %S %U' -o "$out" "$DRIVER" \
			"$(dirname "$dir")" "$(basename "$dir")" >/dev/null
	fi
	t1=$EPOCHREALTIME
	if [ -e "$dir" ]; then
		echo "$tool left $dir behind" >&2
		exit 1
	fi
	tail -n1 "$out" | awk -v w="$(echo "$t1 - $t0" | bc -l)" \
		'{ printf "%.3f %d %.2f\n", w, $1, $2 + $3 }'
}

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A T
for case in wide deep; do
	: >"$BASE/$case.rm" >"$BASE/$case.ours" >"$BASE/$case.ratio"
	for ((i = 1; i <= REPS; i++)); do
		echo "$case: repetition $i/$REPS" >&2
		"gen_$case" "$TREES/$case-rm"
		"gen_$case" "$TREES/$case-ours"
		sync
		if ((i % 2)); then
			a=$(run rm "$TREES/$case-rm")
			b=$(run ours "$TREES/$case-ours")
		else
			b=$(run ours "$TREES/$case-ours")
			a=$(run rm "$TREES/$case-rm")
		fi
		echo "$a" >>"$BASE/$case.rm"
		echo "$b" >>"$BASE/$case.ours"
		echo "${b%% *} / ${a%% *}" | bc -l >>"$BASE/$case.ratio"
		echo "  rm -rf: $a   ours: $b" >&2
	done
	for t in rm ours; do
		T[$case.$t.s]=$(cut -d' ' -f1 "$BASE/$case.$t" | median)
		T[$case.$t.kb]=$(cut -d' ' -f2 "$BASE/$case.$t" | median)
		T[$case.$t.cpu]=$(cut -d' ' -f3 "$BASE/$case.$t" | median)
	done
	T[$case.ratio]=$(median <"$BASE/$case.ratio")
done
rm -rf "$TREES"

echo "| case | rm -rf wall (s) | ours wall (s) | ratio ours/rm (wall) |" \
	"rm -rf CPU (s) | ours CPU (s) | rm -rf peak RSS (KiB) |" \
	"ours peak RSS (KiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for case in wide deep; do
	if [ "$case" = wide ]; then
		label="100,000 files in 10,000 dirs"
	else
		label="10,000-deep chain"
	fi
	printf '| %s | %.3f | %.3f | %.2f | %.2f | %.2f | %s | %s |\n' \
		"$label" "${T[$case.rm.s]}" "${T[$case.ours.s]}" \
		"${T[$case.ratio]}" "${T[$case.rm.cpu]}" \
		"${T[$case.ours.cpu]}" "${T[$case.rm.kb]}" "${T[$case.ours.kb]}"
done
echo
echo "Medians of $REPS repetitions (CPU: user + sys), $(uname -r)," \
	"$(df -T "$BASE" | awk 'NR == 2 { print $2 }') on" \
	"$(df "$BASE" | awk 'NR == 2 { print $1 }')."
