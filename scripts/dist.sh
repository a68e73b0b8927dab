#!/bin/bash
# Source tarball for compute nodes: dist/private-tmpdir-<version>-src.tar.gz
# holds the C host, the core (dist/core.wasm) and the C wasm2c made from it
# (dist/gen), so a node builds private-tmpdir.so with a C compiler, make,
# the Slurm headers and wabt's runtime (/usr/src/wasm2c) only: no Node.js,
# no wasm2c. The tarball itself is reproducible: sorted, owner 0, one mtime
# (the last commit's), gzip without a name or timestamp.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)

VERSION=$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' package.json)
[ -n "$VERSION" ] || { echo "dist.sh: no version in package.json" >&2; exit 1; }
NAME=private-tmpdir-$VERSION
OUT=$ROOT/dist/$NAME-src.tar.gz

# The generated C must come from this tree's core: build what is missing.
[ -f dist/core.wasm ] || npm run -s build:wasm
make -s -C native

STAGE=$(mktemp -d "${TMPDIR:-/var/tmp}/ptd-dist.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
D=$STAGE/$NAME
mkdir -p "$D/native" "$D/dist/gen"
# The addon (addon.cc) is Node's; the plugin needs only the C.
cp native/*.c native/*.h native/Makefile "$D/native/"
cp dist/core.wasm "$D/dist/"
cp dist/gen/core_wasm.c dist/gen/core_wasm.h dist/gen/core_sha256.h "$D/dist/gen/"
SHA=$(sha256sum dist/core.wasm | cut -d' ' -f1)
cat >"$D/README" <<EOF
private-tmpdir $VERSION: Slurm SPANK plugin giving every job a private /tmp
and /var/tmp. Source for building the plugin on a node without Node.js.

Needs: a C compiler, make, the Slurm headers (slurm/spank.h; Debian:
libslurm-dev) and wabt's wasm2c runtime sources in /usr/src/wasm2c (Debian:
wabt; another location: make WASM_RT=/path).

Build:  make -C native PREBUILT=1
Result: dist/native/private-tmpdir.so
Install it in Slurm's PluginDir and add to plugstack.conf, for example:
    required private-tmpdir.so base=/tmp/slurm mount=/var/tmp mount=/tmp

The planning core is dist/core.wasm, sha256 $SHA;
dist/gen/ is the C wasm2c made from it. slurmd logs that sha256 when it
loads the plugin, and "private-tmpdir --version" prints it, so every node
can be checked to run the same core.
EOF

# One timestamp for every entry: the last commit's, else the epoch.
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
mkdir -p "$(dirname "$OUT")"
tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
	--mode='u=rwX,go=rX' --mtime="@$EPOCH" -C "$STAGE" -c "$NAME" |
	gzip -n -9 >"$OUT.part"
mv "$OUT.part" "$OUT"
echo "$OUT"
