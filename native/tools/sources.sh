#!/bin/sh
# Prints the sources native/sources.txt lists for one product, one a line,
# each with PREFIX in front (binding.gyp needs them relative to the repo).
set -eu
[ $# -ge 1 ] || { echo "usage: sources.sh plugin|pam|addon [prefix]" >&2; exit 2; }
list=$(dirname "$0")/../sources.txt
awk -v want="$1" -v prefix="${2:-}" '
	/^#/ || NF == 0 { next }
	{ for (i = 2; i <= NF; i++) if ($i == want) { print prefix $1; n++ } }
	END { if (!n) { print "sources.sh: nothing is built into \"" want "\"" > "/dev/stderr"; exit 1 } }
' "$list"
