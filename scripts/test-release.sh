#!/bin/bash
# test-release.sh SUITE: the end-to-end suites on another Debian release's
# Slurm (trixie: 24.11, sid: 26.05). Builds or refreshes that release's root
# (tests/slurm/release-root.sh, cached outside the clone), builds the plugin
# inside it from the source tarball as an admin of that release would, then
# runs every tests/e2e suite against munge + slurmctld + slurmd of that
# release started inside the root. Ends with one line
# "N passed, M failed[, K skipped]"; a root or build that cannot be made is
# one failure, never a skip. Run as root, after `npm run build`.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd -P)
SUITE=${1:?usage: test-release.sh trixie|sid}
RR=tests/slurm/release-root.sh

fail() {
	echo "test-release.sh $SUITE: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

bash "$RR" ensure "$SUITE" >/dev/null || fail "cannot set up the $SUITE root"
tarball=$(bash scripts/dist.sh) || fail "cannot make the source tarball"
so=$(bash "$RR" build "$SUITE" "$tarball") || fail "the plugin does not build from the tarball in $SUITE"
echo "== $SUITE: $(bash "$RR" versions "$SUITE" | grep -E '^(slurmd|wabt|gcc) ' | tr '\n' ' ')"
echo "== $SUITE: plugin $so"

# PTD_SPECS="running-job-kept offpath-cleanup": only those e2e files (a
# developer's loop); CI runs them all.
if [ -n "${PTD_SPECS:-}" ]; then
	specs=()
	for s in $PTD_SPECS; do specs+=("dist/ts/tests/e2e/$s.test.js"); done
else
	specs=(dist/ts/tests/e2e/*.test.js)
fi
# The tests run inside the root (its own mount and PID namespaces), with the
# host's Node.js and this repository bound in at the same paths. bash stays
# the PID namespace's init, as systemd is a node's: it reaps the orphans
# (namespace holders, removers) that exit; Node as PID 1 would not, and
# their zombies would pile up for the whole run.
bash "$RR" enter "$SUITE" env PTD_PLUGIN_SO="$so" PTD_SUITE="$SUITE" \
	PTD_PAM_SO="$(dirname "$(dirname "$so")")/security/pam_private_tmpdir.so" \
	${CI:+CI="$CI"} ${PTD_SHARED_ROOT:+PTD_SHARED_ROOT="$PTD_SHARED_ROOT"} \
	bash -c 'cd "$1" && shift && node node_modules/mocha/bin/mocha.js --no-config \
		--timeout 120000 --slow 5000 --reporter ./tests/summary-reporter.cjs "$@"; rc=$?; exit $rc' \
	_ "$REPO" "${specs[@]}"
