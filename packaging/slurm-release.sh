#!/bin/sh
# Prints the major.minor of the Slurm whose headers are installed ("24.11"),
# or with "next" the one after it ("24.12"), for a package's dependency on
# that release: the plugin is built against one release's headers and
# slurmd refuses a plugin built for another major.minor.
set -eu
h=${SLURM_VERSION_H:-/usr/include/slurm/slurm_version.h}
hex=$(sed -n 's/^#define SLURM_VERSION_NUMBER 0x\([0-9a-fA-F]*\).*/\1/p' "$h")
[ -n "$hex" ] || { echo "slurm-release.sh: no SLURM_VERSION_NUMBER in $h" >&2; exit 1; }
n=$((0x$hex))
major=$(((n >> 16) & 255))
minor=$(((n >> 8) & 255))
[ "${1:-}" = next ] && minor=$((minor + 1))
printf '%d.%02d\n' "$major" "$minor"
