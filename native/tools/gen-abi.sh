#!/bin/sh
# Writes the ABI that assembly/abi.ts defines, for one host: "c" (the C
# header dist/gen/ptd_abi.h) or "ts" (host/abi.gen.ts). POSIX sh and awk
# only: the plugin is built from the source tarball without Node.js.
# Reads exactly two forms, and fails on anything else it cannot place:
#   export const NAME: i32 = <integer or NAME * integer>;
#   export const enum Name { KEY = <integer>, ... }
set -eu
[ $# -eq 2 ] || { echo "usage: gen-abi.sh c|ts assembly/abi.ts" >&2; exit 2; }
lang=$1
src=$2
[ "$lang" = c ] || [ "$lang" = ts ] || { echo "gen-abi.sh: no language \"$lang\"" >&2; exit 2; }

awk -v lang="$lang" '
function die(msg) { print "gen-abi.sh: " FILENAME ":" FNR ": " msg > "/dev/stderr"; failed = 1; exit 1 }
function upper(s) { return toupper(s) }
function value(v,    a) {
	if (v ~ /^-?[0-9]+$/) return v + 0
	if (v ~ /^0o[0-7]+$/) return oct(substr(v, 3))
	if (split(v, a, /[ \t]*\*[ \t]*/) == 2 && (a[1] in known) && a[2] ~ /^[0-9]+$/) return known[a[1]] * a[2]
	die("cannot evaluate \"" v "\"")
}
function oct(s,    i, n) { n = 0; for (i = 1; i <= length(s); i++) n = n * 8 + substr(s, i, 1); return n }
BEGIN { nconst = 0; nenum = 0 }
{ sub(/\/\/.*/, "") }
enum != "" {
	if ($0 ~ /^[ \t]*}/) { enum = ""; next }
	if ($0 ~ /^[ \t]*$/) next
	line = $0
	gsub(/[ \t,]/, "", line)
	if (split(line, kv, "=") != 2) die("enum member expected")
	members[enum] = members[enum] (members[enum] == "" ? "" : " ") kv[1] "=" value(kv[2])
	next
}
/^export const enum [A-Za-z]+ \{/ {
	enum = $4
	order[++nenum] = enum
	next
}
/^export const [A-Z_]+: i32 = / {
	name = $3
	sub(/:$/, "", name)
	v = $0
	sub(/^[^=]*=[ \t]*/, "", v)
	sub(/;[ \t]*$/, "", v)
	known[name] = value(v)
	consts[++nconst] = name
	next
}
/^export / { die("an export gen-abi.sh cannot translate") }
END {
	if (failed) exit 1
	if (nconst == 0 || nenum == 0) { print "gen-abi.sh: no ABI found in " FILENAME > "/dev/stderr"; exit 1 }
	if (lang == "c") {
		print "/* Generated from assembly/abi.ts by native/tools/gen-abi.sh: do not edit. */"
		print "#ifndef PTD_ABI_H"
		print "#define PTD_ABI_H"
		print ""
		for (i = 1; i <= nconst; i++) printf "#define PTD_%s %d\n", consts[i], known[consts[i]]
		for (e = 1; e <= nenum; e++) {
			name = order[e]
			printf "\nenum ptd_%s {\n", tolower(name)
			n = split(members[name], m, " ")
			for (i = 1; i <= n; i++) {
				split(m[i], kv, "=")
				printf "\tPTD_%s_%s = %d,\n", upper(name), kv[1], kv[2]
			}
			print "};"
		}
		print ""
		print "#endif"
	} else {
		print "// Generated from assembly/abi.ts by native/tools/gen-abi.sh: do not edit."
		print ""
		for (i = 1; i <= nconst; i++) printf "export const %s = %d;\n", consts[i], known[consts[i]]
		for (e = 1; e <= nenum; e++) {
			name = order[e]
			printf "\nexport const %s = {\n", name
			n = split(members[name], m, " ")
			for (i = 1; i <= n; i++) {
				split(m[i], kv, "=")
				printf "  %s: %d,\n", kv[1], kv[2]
			}
			print "} as const;"
		}
	}
}
' "$src"
