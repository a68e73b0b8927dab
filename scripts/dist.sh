#!/bin/bash
# Source tarball for compute nodes: dist/private-tmpdir-<version>-src.tar.gz
# holds the C host and the core (dist/core.wasm), so a node builds
# private-tmpdir.so with a C compiler, make, its Slurm headers and its own
# wabt (wasm2c and its runtime in /usr/src/wasm2c): no Node.js. It carries no
# generated C: what one wasm2c generates compiles only with that wasm2c's
# runtime, and wabt 1.0.32, 1.0.36 and 1.0.42 differ. The tarball itself is reproducible: sorted, owner 0, one mtime
# (the last commit's), gzip without a name or timestamp.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)

VERSION=$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' package.json)
[ -n "$VERSION" ] || { echo "dist.sh: no version in package.json" >&2; exit 1; }
NAME=private-tmpdir-$VERSION
OUT=$ROOT/dist/$NAME-src.tar.gz

[ -f dist/core.wasm ] || npm run -s build:wasm

STAGE=$(mktemp -d "${TMPDIR:-/var/tmp}/ptd-dist.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
D=$STAGE/$NAME
mkdir -p "$D/dist" "$D/assembly"
# The addon (entry/addon.cc) is Node's; the plugin needs only the C.
cp -R native "$D/"
rm "$D/native/entry/addon.cc"
cp dist/core.wasm "$D/dist/"
# The one definition of the ABI and of the imports: native/tools/gen-abi.sh
# and gen-imports.sh make the C of them.
cp assembly/abi.ts assembly/imports.tbl "$D/assembly/"
# make install's man page and snippet, the licence, the packaging: debian/
# for dpkg-buildpackage (packaging/build-deb.sh), packaging/rpm/ for rpmbuild.
cp LICENSE "$D/"
cp -R man "$D/"
cp -R packaging debian "$D/"
# The docs the packages install (debian/docs, the spec's %doc).
mkdir -p "$D/docs"
cp docs/deploying.md "$D/docs/"
SHA=$(sha256sum dist/core.wasm | cut -d' ' -f1)
cat >"$D/README" <<EOF
private-tmpdir $VERSION: Slurm SPANK plugin giving every job a private /tmp
and /var/tmp. Source for building the plugin on a node without Node.js.

Needs: a C compiler, make, the Slurm headers of the Slurm that will load
the plugin (slurm/spank.h; Debian: libslurm-dev) and wabt: wasm2c and its
runtime sources in /usr/src/wasm2c (Debian: wabt; elsewhere:
make WASM2C=/path/to/wasm2c WASM_RT=/path/to/wasm2c-runtime). Tested with
wabt 1.0.32 (Debian 12), 1.0.36 (Debian 13) and 1.0.42 (sid).

Build:  make -C native
Result: dist/native/private-tmpdir.so (and private-tmpdir-contain.so: the
same without a job epilog, for slurm.conf with PrologFlags=Contain)
Install it in Slurm's PluginDir and add to plugstack.conf, for example:
    required private-tmpdir.so base=/tmp/slurm mount=/var/tmp mount=/tmp

The planning core is dist/core.wasm, sha256 $SHA;
the build translates it with the node's wasm2c. slurmd logs that sha256 when it
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
