#!/bin/bash
# bench/fuzz-long.sh - the long fuzz run of the planning core (issue 3):
# PTD_FUZZ_COUNT (default 1,000,000) random and adversarial argument vectors
# through the wasm core in Node, plus the C-host differential sample and
# (as root) the forced-trap loop, all from tests/unit/fuzz.test.ts. CI runs
# the same test with a small count; this is the run to do before a release
# or after touching assembly/.
#
#   bash bench/fuzz-long.sh                      # 1,000,000 vectors, fixed seed
#   PTD_FUZZ_SEED=$RANDOM bash bench/fuzz-long.sh   # another seed
#   PTD_FUZZ_COUNT=5000000 bash bench/fuzz-long.sh
#
# By default it keeps going after a failure and ends with a count per kind of
# failure (PTD_FUZZ_KEEP_GOING=0 stops at the first). A failure prints the
# seed and case number: PTD_FUZZ_SEED=<s> PTD_FUZZ_CASE=<i> npx mocha
# --no-config dist/ts/tests/unit/fuzz.test.js reruns that case alone.
# Needs a build (npm run build, or at least the wasm, the addon and tsc).
set -euo pipefail
cd "$(dirname "$0")/.."
export PTD_FUZZ_COUNT=${PTD_FUZZ_COUNT:-1000000}
export PTD_FUZZ_KEEP_GOING=${PTD_FUZZ_KEEP_GOING:-1}
[ -e dist/ts/tests/unit/fuzz.test.js ] || { echo "no dist/ts/tests/unit/fuzz.test.js: run npm run build" >&2; exit 1; }
t0=$EPOCHREALTIME
rc=0
# --no-config: .mocharc.json's spec would add every other test file
npx mocha --no-config --timeout 0 dist/ts/tests/unit/fuzz.test.js || rc=$?
awk -v a="$t0" -v b="$EPOCHREALTIME" -v n="$PTD_FUZZ_COUNT" -v rc="$rc" \
	'BEGIN { printf "fuzz-long: %d vectors, %.1f s in all, exit %d\n", n, b - a, rc }' >&2
exit "$rc"
