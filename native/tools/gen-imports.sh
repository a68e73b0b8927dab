#!/bin/sh
# Writes what assembly/imports.tbl describes, for one consumer:
#   as     assembly/host.gen.ts (the core's declarations)
#   h      dist/gen/ptd_imports.h (the prototypes of ptd_ops_<name>)
#   trace  dist/gen/ptd_ops_trace.inc (the dry run's trace_<name>, core/ops.c)
#   calls  dist/gen/ptd_ops_calls.inc (ptd_ops_<name> around op_<name>, core/ops.c)
#   wasm   dist/gen/ptd_wasm_imports.inc (the wasm2c imports, core/imports.c)
#   addon  dist/gen/ptd_addon_imports.inc (the addon's functions, entry/addon.cc)
#   ts     host/imports.gen.ts (HostImports, the core's env in Node, the trace)
# Fails unless every Op of assembly/abi.ts has an import of its lower-cased
# name and every import an Op. POSIX sh and awk only: the plugin is built
# from the source tarball without Node.js.
set -eu
[ $# -eq 3 ] || { echo "usage: gen-imports.sh as|h|trace|calls|wasm|addon|ts assembly/imports.tbl assembly/abi.ts" >&2; exit 2; }
case $1 in as | h | trace | calls | wasm | addon | ts) ;; *) echo "gen-imports.sh: no output \"$1\"" >&2; exit 2 ;; esac

awk -v out="$1" '
function die(msg) { print "gen-imports.sh: " FILENAME ":" FNR ": " msg > "/dev/stderr"; failed = 1; exit 1 }
function snake(s,    r, i, c) {
	r = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		r = r (c ~ /[A-Z]/ ? "_" tolower(c) : c)
	}
	return r
}
function ctype(t) { return t == "str" ? "const char *" : (t == "uint" || t == "mode") ? "unsigned " : "int " }
function cfmt(t) { return t == "str" ? "%s" : t == "uint" ? "%u" : t == "mode" ? "%o" : "%d" }
function astype(t) { return t == "uint" ? "u32" : "i32" }
function napi(t, i, p) { return t == "str" ? "Str(info, " i ", \"" p "\").c_str()" : (t == "uint" || t == "mode") ? "U32(info, " i ", \"" p "\")" : "I32(info, " i ", \"" p "\")" }
# The C parameter list of ptd_ops_<name>, after its struct ptd_ops *.
function cparams(k,    i, s) {
	s = ""
	for (i = 1; i <= np[k]; i++) s = s ", " ctype(pt[k, i]) snake(pn[k, i])
	return s
}
function cargs(k,    i, s) {
	s = ""
	for (i = 1; i <= np[k]; i++) s = s ", " snake(pn[k, i])
	return s
}
function comment(k, lead, cont, last,    m, i, lines) {
	m = split(doc[k], lines, "\n")
	for (i = 1; i <= m; i++) print (i == 1 ? lead : cont) lines[i] (i == m ? last : "")
}

FILENAME ~ /abi\.ts$/ {
	if ($0 ~ /^export const enum Op \{/) { inop = 1; next }
	if (inop && $0 ~ /^\}/) { inop = 0; next }
	if (inop && $0 ~ /^  [A-Z_]+ = [0-9]+,/) { op = $1; ops[tolower(op)] = 1; nops++ }
	next
}
/^#/ || /^[ \t]*$/ { next }
/^\t/ { if (!n) die("a description before any import"); sub(/^\t/, ""); doc[n] = doc[n] (doc[n] == "" ? "" : "\n") $0; next }
/^[a-z_]+\(/ {
	line = $0
	name = line; sub(/\(.*/, "", name)
	params = line; sub(/^[^(]*\(/, "", params); rest = params; sub(/\).*/, "", params); sub(/^[^)]*\)/, "", rest)
	gsub(/^[ \t]+|[ \t]+$/, "", rest)
	if (rest != "" && rest != "node") die("after the parameters only \"node\" may follow")
	n++
	names[n] = name; node[n] = rest == "node"; np[n] = 0
	if (name in seen) die("import \"" name "\" twice")
	seen[name] = 1
	if (params !~ /^[ \t]*$/) {
		c = split(params, ps, /,[ \t]*/)
		for (i = 1; i <= c; i++) {
			if (split(ps[i], nt, /[ \t]+/) != 2) die("a parameter is \"name type\"")
			if (nt[2] !~ /^(slot|int|uint|mode|str)$/) die("no type \"" nt[2] "\"")
			if (nt[1] !~ /^[a-z][A-Za-z]*$/) die("a parameter name is camelCase")
			np[n]++; pn[n, np[n]] = nt[1]; pt[n, np[n]] = nt[2]
		}
	}
	next
}
{ die("neither an import, its description nor a comment") }

END {
	if (failed) exit 1
	if (!n || !nops) { print "gen-imports.sh: no imports or no Op enum found" > "/dev/stderr"; exit 1 }
	for (k = 1; k <= n; k++) if (!(names[k] in ops)) { print "gen-imports.sh: import " names[k] " has no Op in abi.ts" > "/dev/stderr"; exit 1 }
	for (o in ops) if (!(o in seen)) { print "gen-imports.sh: Op " toupper(o) " in abi.ts has no import in imports.tbl" > "/dev/stderr"; exit 1 }

	if (out == "as") {
		print "// Generated from assembly/imports.tbl by native/tools/gen-imports.sh: do not edit."
		print "// The host imports: the only way the core acts on the world."
		for (k = 1; k <= n; k++) {
			print ""
			comment(k, "// ", "// ", "")
			printf "@external(\"env\", \"%s\")\nexport declare function %s(", names[k], names[k]
			for (i = 1; i <= np[k]; i++) {
				printf "%s", (i > 1 ? ", " : "")
				if (pt[k, i] == "str") printf "%s: usize, %sLen: i32", pn[k, i], pn[k, i]
				else printf "%s: %s", pn[k, i], astype(pt[k, i])
			}
			print "): i32;"
		}
	} else if (out == "h") {
		print "/* Generated from assembly/imports.tbl by native/tools/gen-imports.sh: do not edit. */"
		print "#ifndef PTD_IMPORTS_GEN_H"
		print "#define PTD_IMPORTS_GEN_H"
		print ""
		print "struct ptd_ops;"
		for (k = 1; k <= n; k++) {
			print ""
			comment(k, "/* ", " * ", " */")
			printf "int ptd_ops_%s(struct ptd_ops *o%s);\n", names[k], cparams(k)
		}
		print ""
		print "#endif"
	} else if (out == "trace") {
		print "/* Generated from assembly/imports.tbl by native/tools/gen-imports.sh: do not edit."
		print " * A dry run records each call as one tab-separated line (host/imports.gen.ts"
		print " * writes the same in Node). Included by core/ops.c after its record(). */"
		for (k = 1; k <= n; k++) {
			fmt = names[k]
			for (i = 1; i <= np[k]; i++) fmt = fmt "\\t" cfmt(pt[k, i])
			printf "\nstatic int trace_%s(struct ptd_ops *o%s)\n{\n\treturn record(o, \"%s\\n\"%s);\n}\n", names[k], cparams(k), fmt, cargs(k)
		}
	} else if (out == "calls") {
		print "/* Generated from assembly/imports.tbl by native/tools/gen-imports.sh: do not edit."
		print " * The ops as the hosts call them: each with its own reason (begin), the"
		print " * first failure kept (done). Included at the end of core/ops.c. */"
		for (k = 1; k <= n; k++)
			printf "\nint ptd_ops_%s(struct ptd_ops *o%s)\n{\n\treturn done(o, op_%s(begin(o)%s));\n}\n", names[k], cparams(k), names[k], cargs(k)
	} else if (out == "wasm") {
		print "/* Generated from assembly/imports.tbl by native/tools/gen-imports.sh: do not edit."
		print " * Every (offset, length) checked against the core memory (str_at), the test"
		print " * trap (maybe_trap), then ptd_ops_<name>. Included by core/imports.c. */"
		for (k = 1; k <= n; k++) {
			printf "\nu32 PTD_IMPORT(%s)(struct PTD_W2C_ENV *env", names[k]
			for (i = 1; i <= np[k]; i++) {
				p = snake(pn[k, i])
				printf ", u32 %s", p
				if (pt[k, i] == "str") printf ", u32 %s_len", p
			}
			print ")\n{"
			nstr = 0; check = ""; call = ""
			for (i = 1; i <= np[k]; i++) {
				p = snake(pn[k, i])
				if (pt[k, i] == "str") {
					printf "\tconst char *%s_s = str_at(env, %s, %s_len);\n", p, p, p
					check = check (nstr ? " || " : "") "!" p "_s"; nstr++
					call = call ", " p "_s"
				} else if (pt[k, i] == "slot" || pt[k, i] == "int") call = call ", (int) " p
				else call = call ", " p
			}
			if (nstr) print ""
			printf "\tmaybe_trap(\"%s\");\n", names[k]
			if (nstr) printf "\tif (%s)\n\t\treturn ret(-EFAULT);\n", check
			printf "\treturn ret(ptd_ops_%s(&env->ops%s));\n}\n", names[k], call
		}
	} else if (out == "addon") {
		print "// Generated from assembly/imports.tbl by native/tools/gen-imports.sh: do not edit."
		print "// The imports marked node, each checking its arguments. Included by entry/addon.cc."
		for (k = 1; k <= n; k++) {
			if (!node[k]) continue
			printf "\nNapi::Value Import_%s(const Napi::CallbackInfo &info) {\n  return Napi::Number::New(info.Env(), ptd_ops_%s(Ops(info.Env())", names[k], names[k]
			for (i = 1; i <= np[k]; i++) printf ", %s", napi(pt[k, i], i - 1, pn[k, i])
			print "));\n}"
		}
		print "\nvoid SetImports(Napi::Env env, Napi::Object exports) {"
		for (k = 1; k <= n; k++) if (node[k]) printf "  exports.Set(\"%s\", Napi::Function::New(env, Import_%s));\n", names[k], names[k]
		print "}"
	} else {
		print "// Generated from assembly/imports.tbl by native/tools/gen-imports.sh: do not edit."
		print ""
		print "/** The imports the core calls. */"
		print "export interface HostImports {"
		for (k = 1; k <= n; k++) {
			comment(k, "  /** ", "   * ", " */")
			printf "  %s(", names[k]
			for (i = 1; i <= np[k]; i++) printf "%s%s: %s", (i > 1 ? ", " : ""), pn[k, i], pt[k, i] == "str" ? "string" : "number"
			print "): number;"
		}
		print "}"
		print ""
		print "/** The imports the Node addon has too; the others belong in slurmstepd or sshd. */"
		printf "export const NODE_IMPORTS = ["
		c = 0
		for (k = 1; k <= n; k++) if (node[k]) printf "%s\"%s\"", (c++ ? ", " : ""), names[k]
		print "] as const;"
		print "export type NodeImports = Pick<HostImports, (typeof NODE_IMPORTS)[number]>;"
		print ""
		print "/** The core'"'"'s \"env\" in Node: strings read from its memory by str, unsigned words as numbers >= 0. */"
		print "export function wasmEnv(use: () => HostImports, str: (ptr: number, len: number) => string): Record<keyof HostImports, (...words: number[]) => number> {"
		print "  return {"
		for (k = 1; k <= n; k++) {
			printf "    %s: (", names[k]
			args = ""
			for (i = 1; i <= np[k]; i++) {
				p = pn[k, i]
				printf "%s%s: number", (i > 1 ? ", " : ""), p
				if (pt[k, i] == "str") { printf ", %sLen: number", p; a = "str(" p ", " p "Len)" }
				else if (pt[k, i] == "uint") a = p " >>> 0"
				else a = p
				args = args (i > 1 ? ", " : "") a
			}
			printf ") => use().%s(%s),\n", names[k], args
		}
		print "  };"
		print "}"
		print ""
		print "/** Imports that trace each call as native/core/ops.c'"'"'s dry run does (one line, no newline) and return 0. */"
		print "export abstract class TracingImports implements HostImports {"
		print "  protected abstract trace(line: string): void;"
		for (k = 1; k <= n; k++) {
			printf "\n  %s(", names[k]
			line = "\"" names[k] "\""
			for (i = 1; i <= np[k]; i++) {
				printf "%s%s: %s", (i > 1 ? ", " : ""), pn[k, i], pt[k, i] == "str" ? "string" : "number"
				line = line ", " (pt[k, i] == "mode" ? pn[k, i] ".toString(8)" : pn[k, i])
			}
			printf "): number {\n    this.trace([%s].join(\"\\t\"));\n    return 0;\n  }\n", line
		}
		print "}"
	}
}
' "$3" "$2"
