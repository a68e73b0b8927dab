#!/bin/bash
# bench/anchor-releases.sh - ../shared/bench/anchor-bench.sh, as is, on each
# supported Slurm release: this machine's (Debian 12: 22.05) and inside the
# trixie (24.11) and sid (26.05) release roots (tests/slurm/release-root.sh),
# with this tree's plugin built for that release and the older hpc2n plugin
# built from HPC2N_SRC (its private-tmpdir.c, kept outside the repository)
# against the same release's headers. Each release's summary goes to stdout;
# the raw samples stay under each root's /var/spool/slurmlab/anchor-bench.
# Run as root after npm run build and scripts/test-release.sh (which builds
# each root's plugin), with nothing else using Slurm's default ports.
#   RELEASES="bookworm trixie sid" HPC2N_SRC=/var/lib/ptd-hpc2n/private-tmpdir.c
#   ANCHOR_ARGS='-r 3 --metrics "a b d" --mounts "10 5000" --no-jc'
#   BENCH_USER=ptd-alice (and N_JOBS, N_STEPS, D_JOBS, D_STEPS: anchor-bench's)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd -P)
RR=$REPO/tests/slurm/release-root.sh
ANCHOR=$REPO/../shared/bench/anchor-bench.sh
RELEASES=${RELEASES:-bookworm trixie sid}
HPC2N_SRC=${HPC2N_SRC:?the older plugin's private-tmpdir.c (github.com/hpc2n/spank-private-tmp), built here per release}
ANCHOR_ARGS=${ANCHOR_ARGS:--r 3 --metrics "a b d" --mounts "10 5000" --no-jc}
ARGS='base=/tmp/slurm mount=/var/tmp mount=/tmp'
ROOTS=${PTD_ROOTS:-/var/cache/private-tmpdir/roots}
SO=/usr/lib/x86_64-linux-gnu/slurm-wlm/private-tmpdir.so
# What the bench needs inside a root (not under /tmp, which the root's
# enter replaces with a tmpfs).
W=/var/lib/ptd-anchor
[ -r "$ANCHOR" ] || { echo "no $ANCHOR" >&2; exit 2; }
export BENCH_USER=${BENCH_USER:-ptd-alice}

for rel in $RELEASES; do
	if [ "$rel" = bookworm ]; then
		r=
		this=$REPO/dist/native/private-tmpdir.so
		ver=$(slurmd -V | awk '{print $2}')
	else
		r=$ROOTS/$rel
		this=$SO
		ver=$(bash "$RR" versions "$rel" | awk '$1 == "slurmd" {print $2}')
	fi
	[ -r "$r$this" ] || { echo "no plugin built for $rel at $r$this" >&2; exit 2; }
	install -d -m 0755 "$r$W"
	install -m 0644 "$ANCHOR" "$r$W/anchor-bench.sh"
	install -m 0644 "$HPC2N_SRC" "$r$W/hpc2n.c"
	# Against the release's own spank.h: the plugin must match its major.minor.
	if [ -n "$r" ]; then
		chroot "$r" gcc -shared -fPIC -O2 -o "$W/hpc2n.so" "$W/hpc2n.c"
	else
		gcc -shared -fPIC -O2 -o "$W/hpc2n.so" "$W/hpc2n.c"
	fi
	echo "## $ver ($rel)"
	echo
	# ANCHOR_ARGS is shell words (quoted lists): bash -c parses them.
	cmd=(env BENCH_USER="$BENCH_USER" OUT="$W/results-$rel"
		${N_JOBS:+N_JOBS=$N_JOBS} ${N_STEPS:+N_STEPS=$N_STEPS}
		${D_JOBS:+D_JOBS=$D_JOBS} ${D_STEPS:+D_STEPS=$D_STEPS}
		bash -c "rm -rf $W/results-$rel; exec bash $W/anchor-bench.sh $ANCHOR_ARGS \"\$@\"" _
		--spank hpc2n "$W/hpc2n.so" "$ARGS" --spank this "$this" "$ARGS")
	if [ -n "$r" ]; then
		bash "$RR" enter "$rel" "${cmd[@]}" >/dev/null
	else
		"${cmd[@]}" >/dev/null
	fi
	cat "$r$W/results-$rel/summary.md"
	echo
done
