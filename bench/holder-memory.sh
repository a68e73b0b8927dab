#!/bin/bash
# What a namespace holder's end-of-job emptying of a job's tmpfs costs in
# memory and time (#21, 5): ptd_tmpfs_empty() of this tree against that of
# an older revision (OLD_REV, default 43b2794: 0.2.0's), both through
# bench/tmpfs_empty_bench.c, on the same trees, alternating, REPS times
# (default 3). The trees, made by an unprivileged user (uid 65534):
#   empty    a 16 MiB tmpfs with nothing in it (the baseline)
#   capped   a 16 MiB tmpfs at its default nr_inodes (4,096) filled with
#            nested 255-byte directories until ENOSPC
#   0.2.0    a 16 MiB tmpfs with no inode limit (0.2.0 set none) holding
#            NEST (default 200,000) nested 255-byte directories
# Prints a markdown table of medians on stdout, progress on stderr. Run as
# root; everything lives under /var/tmp/ptd-bench (never /tmp).
set -euo pipefail

REPS=${REPS:-3}
NEST=${NEST:-200000}
OLD_REV=${OLD_REV:-43b2794}
BASE=/var/tmp/ptd-bench/holder
MNT=$BASE/mnt
SRC=$(cd "$(dirname "$0")/.." && pwd)
USER_ID=65534

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
mkdir -p "$BASE" "$MNT"

# <native dir> <out>, through this tree's driver. A native/ from before #23
# is flat: its headers are given the folder names the driver includes.
build() {
	local srcs
	if [ -d "$1/fs" ]; then
		srcs="fs/tmpfs.c fs/walk.c fs/detail.c util/escape.c removal/remove.c
			removal/levels.c removal/entry.c removal/leftset.c removal/fixmode.c"
	else
		srcs="tmpfs.c remove.c escape.c walk.c detail.c"
		mkdir -p "$1/flat/fs"
		ln -sf ../../tmpfs.h "$1/flat/fs/tmpfs.h"
	fi
	# shellcheck disable=SC2086 # srcs is a list of words
	(cd "$1" && gcc -std=gnu11 -Wall -Wextra -O2 -I. -Iflat -o "$2" \
		"$SRC/bench/tmpfs_empty_bench.c" $srcs)
}
rm -rf "$BASE/old-native"
mkdir -p "$BASE/old-native"
git -C "$SRC" archive "$OLD_REV" native | tar -x -C "$BASE/old-native" --strip-components=1
build "$SRC/native" "$BASE/new"
build "$BASE/old-native" "$BASE/old"

# <inodes option> <how many nested directories, 0: none, max: until ENOSPC>
fill() {
	mountpoint -q "$MNT" && umount "$MNT"
	mount -t tmpfs -o "size=16m,$1,mode=0755,uid=$USER_ID,gid=$USER_ID" ptd-bench "$MNT"
	[ "$2" = 0 ] && return 0
	setpriv --reuid=$USER_ID --regid=$USER_ID --clear-groups /usr/bin/python3 - "$MNT" "$2" <<'PY'
import os, sys
os.chdir(sys.argv[1])
limit = None if sys.argv[2] == "max" else int(sys.argv[2])
n = 0
try:
    while limit is None or n < limit:
        os.mkdir("d" * 255)
        os.chdir("d" * 255)
        n += 1
except OSError:
    pass
PY
}

declare -A RSS MS LEFT
for rep in $(seq "$REPS"); do
	for tree in empty capped 0.2.0; do
		case $tree in
		empty) opt=nr_inodes=4096; n=0 ;;
		capped) opt=nr_inodes=4096; n=max ;;
		0.2.0) opt=nr_inodes=0; n=$NEST ;;
		esac
		order="old new"
		[ $((rep % 2)) = 0 ] && order="new old"
		for tool in $order; do
			fill "$opt" "$n"
			out=$("$BASE/$tool" "$MNT" "$USER_ID")
			echo "rep $rep $tree $tool: $out" >&2
			RSS[$tree.$tool]+="$(sed -E 's/.*maxrss_kib=([0-9]+).*/\1/' <<<"$out") "
			MS[$tree.$tool]+="$(sed -E 's/.* ms=([0-9.]+).*/\1/' <<<"$out") "
			# A tmpfs without an inode limit counts none (statfs f_files 0).
			LEFT[$tree.$tool]="$(sed -E 's/.*inodes_before=([0-9]+) inodes_after=([0-9]+).*/\1 → \2/; s/^0 → 0$/(not counted: no limit)/' <<<"$out")"
		done
	done
done
mountpoint -q "$MNT" && umount "$MNT"

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
base=$(median <<<"${RSS[empty.new]}")
echo "| tree | emptying | peak RSS (KiB) | × empty tree | time (ms) | inodes in use before → after |"
echo "|---|---|---|---|---|---|"
for tree in empty capped 0.2.0; do
	for tool in old new; do
		rss=$(median <<<"${RSS[$tree.$tool]}")
		ms=$(median <<<"${MS[$tree.$tool]}")
		label=$([ "$tool" = old ] && echo "$OLD_REV" || echo "this tree")
		printf '| %s | %s | %s | ×%.2f | %s | %s |\n' "$tree" "$label" "$rss" \
			"$(echo "$rss / $base" | bc -l)" "$ms" "${LEFT[$tree.$tool]}"
	done
done
