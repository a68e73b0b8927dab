#!/bin/bash
# bench/anchor-releases.sh - ../shared/bench/anchor-bench.sh, as is, on each
# supported Slurm release: this machine's (Debian 12: 22.05) and inside the
# trixie (24.11) and sid (26.05) release roots (tests/slurm/release-root.sh),
# with this tree's plugin built for that release and the older hpc2n plugin
# built from HPC2N_SRC (its private-tmpdir.c, kept outside the repository)
# against the same release's headers, and "floor": bench/noop_spank.c with
# a job epilog that does nothing (what Slurm costs any plugin with a job
# epilog, whatever it does). Each release's summary goes to stdout;
# the raw samples stay under each root's /var/spool/slurmlab/anchor-bench.
# Run as root after npm run build and scripts/test-release.sh (which builds
# each root's plugin), with nothing else using Slurm's default ports. The
# bench needs python3's ctypes, which a minbase root lacks: the script
# installs python3 there.
#   RELEASES="bookworm trixie sid" HPC2N_SRC=/var/lib/ptd-hpc2n/private-tmpdir.c
#   ANCHOR_ARGS='-r 3 --metrics "a b c d" --mounts "10 5000" --no-jc' FILES=1000
#   BENCH_USER=ptd-alice (and N_JOBS, N_STEPS, D_JOBS, D_STEPS: anchor-bench's)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd -P)
RR=$REPO/tests/slurm/release-root.sh
ANCHOR=$REPO/../shared/bench/anchor-bench.sh
RELEASES=${RELEASES:-bookworm trixie sid}
HPC2N_SRC=${HPC2N_SRC:?the private-tmpdir.c of the older plugin (github.com/hpc2n/spank-private-tmp), built here per release}
ANCHOR_ARGS=${ANCHOR_ARGS:-'-r 3 --metrics "a b c d" --mounts "10 5000" --no-jc'}
# Metric c: one job leaving FILES files per round and configuration.
export FILES=${FILES:-1000}
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
	install -m 0644 "$REPO/bench/noop_spank.c" "$r$W/noop_spank.c"
	# Against the release's own spank.h: the plugin must match its major.minor.
	if [ -n "$r" ]; then
		bash "$RR" enter "$rel" bash -c 'python3 -c "import ctypes" 2>/dev/null ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 >/dev/null'
		chroot "$r" gcc -shared -fPIC -O2 -o "$W/hpc2n.so" "$W/hpc2n.c"
		chroot "$r" gcc -shared -fPIC -O2 -DNOOP_JOB_EPILOG -o "$W/floor.so" "$W/noop_spank.c"
	else
		gcc -shared -fPIC -O2 -o "$W/hpc2n.so" "$W/hpc2n.c"
		gcc -shared -fPIC -O2 -DNOOP_JOB_EPILOG -o "$W/floor.so" "$W/noop_spank.c"
	fi
	echo "## $ver ($rel)"
	echo
	# ANCHOR_ARGS is shell words (quoted lists): bash -c parses them.
	cmd=(env BENCH_USER="$BENCH_USER" OUT="$W/results-$rel"
		${N_JOBS:+N_JOBS=$N_JOBS} ${N_STEPS:+N_STEPS=$N_STEPS}
		${D_JOBS:+D_JOBS=$D_JOBS} ${D_STEPS:+D_STEPS=$D_STEPS} FILES="$FILES"
		bash -c "rm -rf $W/results-$rel; exec bash $W/anchor-bench.sh $ANCHOR_ARGS \"\$@\"" _
		--spank floor "$W/floor.so" "" --spank hpc2n "$W/hpc2n.so" "$ARGS" --spank this "$this" "$ARGS")
	if [ -n "$r" ]; then
		# The bench checks that a job without a plugin has no mount on
		# /tmp: the root's own directories, not the tmpfs its enter
		# mounts there. The root's / is shared (as on systemd hosts),
		# so the bench's extra mounts would come back into it and pile
		# up round after round: private, as this machine's own / is.
		bash "$RR" enter "$rel" bash -c 'umount /tmp /var/tmp && mount --make-rprivate / && exec "$@"' _ "${cmd[@]}" >/dev/null
	else
		"${cmd[@]}" >/dev/null
	fi
	cat "$r$W/results-$rel/summary.md"
	echo
done
