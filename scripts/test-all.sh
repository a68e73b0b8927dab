#!/bin/bash
# The one test command: installs what is missing, builds, runs every test
# (unit, host, end-to-end on a real Slurm) and ends with one summary line
# "N passed, M failed[, K skipped]". Run as root; CI runs exactly this.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/deps.sh; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
# Daemons and jobs must not inherit a cwd under /tmp.
cd "$(pwd -P)"
npx mocha --reporter ./tests/summary-reporter.cjs "$@"
