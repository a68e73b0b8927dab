#!/bin/bash
# The one test command: installs what is missing, builds, runs every test
# (unit, host, end-to-end on a real Slurm) on this machine's Slurm (Debian 12:
# 22.05), then the end-to-end suites on Slurm 24.11 (trixie) and 26.05 (sid)
# inside release roots (scripts/test-release.sh), then the .deb of each of
# bookworm, trixie and sid (scripts/test-packages.sh). Ends with one summary line
# "N passed, M failed[, K skipped]" over all of them. Run as root; CI runs
# exactly this. PTD_RELEASES="trixie sid" picks the other releases,
# PTD_PACKAGE_RELEASES="bookworm trixie sid" the packages'.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/deps.sh; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
# Daemons and jobs must not inherit a cwd under /tmp.
cd "$(pwd -P)"

LOGS=$(mktemp -d /var/tmp/ptd-test-all.XXXXXX)
trap 'rm -rf "$LOGS"' EXIT
# Runs "$@", showing its output, and keeps its last summary line in $LOGS/$1.
# Its wall time goes to $LOGS/$name.time: the 45-minute CI budget is
# spent per stage, and the log should say where.
summarised() {
	local name=$1 t0=$SECONDS
	shift
	"$@" 2>&1 | tee "$LOGS/$name.out"
	echo "$((SECONDS - t0))" >"$LOGS/$name.time"
	echo "=== $name: $((SECONDS - t0)) s"
	grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$LOGS/$name.out" |
		tail -n 1 >"$LOGS/$name.sum"
	[ -s "$LOGS/$name.sum" ] || echo "0 passed, 1 failed" >"$LOGS/$name.sum"
}

echo "=== Slurm $(slurmd -V | awk '{print $2}') (this machine)"
summarised bookworm npx mocha --reporter ./tests/summary-reporter.cjs "$@"
# The releases' daemons use the same ports: stop whatever a suite left running.
bash tests/slurm/cluster.sh stop >/dev/null 2>&1 || true
for suite in ${PTD_RELEASES-trixie sid}; do
	echo "=== $suite"
	summarised "$suite" bash scripts/test-release.sh "$suite"
done
# The .deb of each release: built in its root, installed in a fresh copy.
for suite in ${PTD_PACKAGE_RELEASES-bookworm trixie sid}; do
	echo "=== $suite .deb"
	summarised "deb-$suite" bash scripts/test-packages.sh "$suite"
done

# CI keeps only the tail of this output: repeat what failed (mocha's
# "N failing" report, at most 60 lines a suite) just above the counts.
for f in "$LOGS"/*.out; do
	grep -q -E '^  [0-9]+ failing$' "$f" || continue
	echo "=== what failed: $(basename "$f" .out)"
	sed -n -E '/^  [0-9]+ failing$/,/^(slowest files:|[0-9]+ passed, [0-9]+ failed)/p' "$f" |
		grep -v -E '^(slowest files:|[0-9]+ passed, [0-9]+ failed)' | head -n 60
done

echo "  (whole run, with the build: $SECONDS s)"
pass=0 failed=0 skipped=0
for f in "$LOGS"/*.sum; do
	read -r p _ q _ k _ <<<"$(tr -d ',' <"$f")"
	echo "  $(basename "$f" .sum): $(cat "$f") in $(cat "${f%.sum}.time" 2>/dev/null || echo '?') s"
	pass=$((pass + p)) failed=$((failed + q)) skipped=$((skipped + ${k:-0}))
done
if [ "$skipped" -gt 0 ]; then
	echo "$pass passed, $failed failed, $skipped skipped"
else
	echo "$pass passed, $failed failed"
fi
[ "$failed" = 0 ]
