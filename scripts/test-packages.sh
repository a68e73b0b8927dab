#!/bin/bash
# scripts/test-packages.sh SUITE: the .deb of that Debian release (bookworm,
# trixie, sid), built inside its root (tests/slurm/release-root.sh) from the
# source tarball with dpkg-buildpackage, lintian clean (packaging/build-deb.sh),
# twice (revisions 1 and 2, for the upgrade), then tests/packages/deb.test.ts
# inside a fresh copy of that root: install, enable, a job, an upgrade while
# a job runs, purge. Ends with the summary reporter's line.
set -uo pipefail
cd "$(dirname "$0")/.."
SUITE=${1:?suite}
RR=tests/slurm/release-root.sh
REPO=$(pwd -P)
fail() {
	echo "test-packages.sh: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

bash "$RR" ensure "$SUITE" >/dev/null || fail "cannot set up the $SUITE root"
tarball=$(bash scripts/dist.sh) || fail "cannot make the source tarball"
out=$REPO/dist/deb/$SUITE
rm -rf "$out"
mapfile -t debs < <(bash "$RR" enter "$SUITE" bash "$REPO/packaging/build-deb.sh" "$tarball" "$out" 1 2) ||
	fail "the .deb does not build (or lintian reports errors) in $SUITE"
[ ${#debs[@]} = 2 ] || fail "expected two .deb files, got: ${debs[*]}"
echo "== $SUITE: ${debs[*]##*/}"
PTD_FRESH=1 bash "$RR" enter "$SUITE" env PTD_DEB_1="${debs[0]}" PTD_DEB_2="${debs[1]}" \
	PTD_SUITE="$SUITE" ${CI:+CI="$CI"} \
	bash -c 'cd "$1" && node node_modules/mocha/bin/mocha.js --no-config --timeout 120000 \
		--slow 5000 --reporter ./tests/summary-reporter.cjs dist/ts/tests/packages/deb.test.js; rc=$?; exit $rc' \
	_ "$REPO"
