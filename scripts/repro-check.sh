#!/bin/bash
# Reproducible-build check: copies this tree (tracked files plus untracked
# ones not ignored, so it works before a commit) into two directories under
# /var/tmp, builds the core and the plugin in each (the second as another
# user when run as root), and compares core.wasm, the generated C and
# private-tmpdir.so byte for byte. Then it makes the source tarball in both,
# compares those, and builds the plugin from the tarball with make and a
# PATH without node, npm or npx (a compute node's: C compiler, make, wabt):
# that .so must match too.
#
# Prints one line per artifact: "<name> <sha256 A> <sha256 B> same|DIFFERENT"
# (the tarball-built .so as "tarball:private-tmpdir.so"), and exits 0 only
# if every pair matches. KEEP=1 leaves the build directories in place.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd -P)
BUILDER=${PTD_REPRO_USER:-ptd-builder}

WORK=$(mktemp -d /var/tmp/ptd-repro.XXXXXX)
chmod 755 "$WORK"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
log() { echo "repro: $*" >&2; }

# The second build runs as another user when we can make one: a build that
# depended on $USER, $HOME or file ownership would show up here.
as_builder=()
if [ "$(id -u)" = 0 ]; then
	if ! id "$BUILDER" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$BUILDER"
	fi
	as_builder=(runuser -u "$BUILDER" --)
else
	log "not root: both builds run as $(id -un)"
fi

copy_tree() {
	local dst=$1
	mkdir -p "$dst"
	(cd "$REPO" && git ls-files -z -co --exclude-standard |
		tar --null -T - --ignore-failed-read -c 2>/dev/null) | tar -x -C "$dst"
	# The lockfile's packages, as installed: saves an `npm ci` per build.
	cp -a "$REPO/node_modules" "$dst/"
	rm -rf "$dst/dist" "$dst/build"
}

# Only what the comparison needs: the wasm core, wasm2c's C, the .so and the
# tarball (the addon and the TypeScript are not shipped to nodes).
build_in() {
	local dir=$1
	shift
	"$@" env -i PATH="$PATH" HOME="$dir/.home" LANG=C.UTF-8 \
		npm_config_cache="$dir/.home/npm" npm_config_update_notifier=false \
		bash -c 'cd "$1" && npm run -s build:wasm && make -s -C native && bash scripts/dist.sh >/dev/null' \
		_ "$dir"
}

A=$WORK/a-build
B=$WORK/second/b-elsewhere
log "copying the tree to $A and $B"
copy_tree "$A"
copy_tree "$B"
if [ ${#as_builder[@]} -gt 0 ]; then
	chown -R "$BUILDER" "$WORK/second"
	chmod 755 "$WORK/second"
fi

log "building in $A as $(id -un)"
build_in "$A"
log "building in $B${as_builder:+ as $BUILDER}"
build_in "$B" "${as_builder[@]}"

# A PATH with everything but Node.js: what a compute node has.
NOBIN=$WORK/bin-no-node
mkdir -p "$NOBIN"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
	[ -d "$d" ] || continue
	for f in "$d"/*; do
		n=${f##*/}
		case $n in node | nodejs | npm | npx | corepack) continue ;; esac
		[ -x "$f" ] && [ ! -e "$NOBIN/$n" ] && ln -s "$f" "$NOBIN/$n"
	done
done

VERSION=$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$REPO/package.json")
TARBALL=dist/private-tmpdir-$VERSION-src.tar.gz
C=$WORK/c-tarball
mkdir -p "$C"
tar -xzf "$A/$TARBALL" -C "$C"
log "building from the tarball in $C with PATH lacking node"
env -i PATH="$NOBIN" HOME="$C" LANG=C.UTF-8 \
	make -s -C "$C/private-tmpdir-$VERSION/native"

status=0
compare() {
	local name=$1 fa=$2 fb=$3 ha hb verdict
	ha=$(sha256sum "$fa" 2>/dev/null | cut -d' ' -f1) || ha=missing
	hb=$(sha256sum "$fb" 2>/dev/null | cut -d' ' -f1) || hb=missing
	[ -n "$ha" ] || ha=missing
	[ -n "$hb" ] || hb=missing
	if [ "$ha" = "$hb" ] && [ "$ha" != missing ]; then verdict=same; else verdict=DIFFERENT status=1; fi
	echo "$name $ha $hb $verdict"
}
for f in dist/core.wasm dist/gen/core_wasm.c dist/gen/core_wasm.h dist/gen/core_sha256.h \
	dist/gen/w2c_config.h \
	dist/native/private-tmpdir.so "$TARBALL"; do
	compare "${f##*/}" "$A/$f" "$B/$f"
done
compare tarball:private-tmpdir.so "$A/dist/native/private-tmpdir.so" \
	"$C/private-tmpdir-$VERSION/dist/native/private-tmpdir.so"
[ "${KEEP:-0}" = 1 ] && log "kept $WORK"
exit $status
