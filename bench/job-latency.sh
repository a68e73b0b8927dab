#!/bin/bash
# bench/job-latency.sh - what the plugin costs a job and a step, on a real
# single-node Slurm (tests/slurm/cluster.sh), against the same cluster with
# an empty plugstack, measured in one run with the configurations alternating
# (ROUNDS blocks each) so that drift hits both alike:
#
#   1. new job:     `srun -N1 true` as ptd-alice, a new job each time
#                   (the plugin has no SPANK prolog; its epilog runs after
#                   srun returns), and "turnaround": from srun's start until
#                   slurmctld reports the job COMPLETED (epilog done), i.e.
#                   how long the job holds the node
#   2. steps:       `srun true` inside one salloc allocation
#   3. mount count: step latency as in 2, and new-job latency as in 1,
#                   with 10 / 1000 / 5000 mounts in slurmd's mount namespace
#                   (unshare copies them all), for each of CONFIGS
#
# Run as root, from the repository, after `npm run build`. This script
# measures: it writes the raw results to $PTD_LAB/bench/<date>/ (below), then
# hands that directory to bench/job-latency-report.sh, which prints markdown
# tables on stdout (progress is on stderr) and, unless WRITE_DOC=0, replaces
# the sections "## New job latency", "## Steps in one allocation" and
# "## Step setup vs host mount count" of docs/benchmarks.md (other sections
# are left alone). The report can be made again from the directory alone:
# `bash bench/job-latency-report.sh $PTD_LAB/bench/<date>`.
#
# The raw results, one directory per run:
#   <config>.tsv     the samples of one configuration, in microseconds, one
#                    a line: "measure<TAB>mounts<TAB>us" ("...<TAB>us<TAB>us"
#                    for turn); measure is new, turn (srun returned, job
#                    COMPLETED), steps (parts 1, 2; mounts "-"), msteps or
#                    mjobs (part 3; mounts as in MOUNT_COUNTS)
#   run.env          this run's settings and machine (sourced by the report)
#   new.<config>.err, msteps.<mounts>.<config>.err,
#   mjobs.<mounts>.<config>.err   srun's stderr ("queued and waiting",
#                    "srun failed" and "allocation failed" are counted)
#   slurmd.<config>.log  slurmd's logs of part 1 (where the time goes)
#   mcount.<mounts>  the mounts slurmd's namespace really had
#   cluster.log      cluster.sh's stderr
#
# Environment (defaults):
#   REPS=40          new jobs per configuration (part 1)
#   TURN_REPS=20     turnaround jobs per configuration (part 1)
#   STEP_REPS=40     steps per configuration (part 2)
#   MOUNT_COUNTS="10 1000 5000"  total mounts in slurmd's namespace (part 3;
#                    counts below what the host already has mean "as is";
#                    "host": slurmd in the host's own namespace, as is)
#   MOUNT_STEP_REPS=30  steps per configuration and mount count (part 3)
#   MOUNT_JOB_REPS=20   new jobs per configuration and mount count (part 3)
#   CONFIGS="none plugin"  what part 3 compares, each against "none":
#                    none     an empty plugstack
#                    plugin   the seed's line with PTD_PLUGIN_SO (this tree)
#                    pluginc  the same with PrologFlags=Contain
#                    noop     a SPANK plugin that does nothing
#                             (bench/noop_spank.c): what loading any plugin
#                             costs, the floor under this one's
#                    tmpfs    the seed's line plus TMPFS_ARGS (default
#                             "tmpfs=/dev/shm size=50% tmpdir=/tmp"): a
#                             tmpfs per job, made by its first step
#                    before   the seed's line with BEFORE_SO (another build,
#                             such as the release before this one)
#                    jctmpfs  Slurm's job_container/tmpfs (namespace/tmpfs
#                             from 25.11) with PrologFlags=Contain, BasePath
#                             under $PTD_LAB, no plugin
#   ROUNDS=2         alternations of (no plugin, plugin) per part
#   PARTS="1 2 3"    which parts to run
#   PTD_LAB=/var/spool/ptd-bench-lab CTLD_PORT=6917 SLURMD_PORT=6918
#                    a lab of its own, so it can run beside the e2e tests'
#                    cluster (default lab, ports 6817/6818)
#   FIRST_JOB_ID=700000  job ids far from the e2e tests' (both clusters use
#                    base=/tmp/slurm: same ids would share directories)
#   WRITE_DOC=1
#
# Part 3 keeps its mounts out of the host: it makes a persistent mount
# namespace ($PTD_LAB/ns/mnt), mounts tmpfs there and starts the cluster
# inside it; everything is unmounted on exit (trap), and the namespace dies
# with its last process.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/bench-lab.sh"
PLUGIN_SO=${PTD_PLUGIN_SO:-$REPO/dist/native/private-tmpdir.so}
SEED_ARGS="base=/tmp/slurm mount=/var/tmp mount=/tmp"
TMPFS_ARGS=${TMPFS_ARGS:-"tmpfs=/dev/shm size=50% tmpdir=/tmp"}

REPS=${REPS:-40}
TURN_REPS=${TURN_REPS:-20}
STEP_REPS=${STEP_REPS:-40}
MOUNT_COUNTS=${MOUNT_COUNTS:-"10 1000 5000"}
MOUNT_STEP_REPS=${MOUNT_STEP_REPS:-30}
MOUNT_JOB_REPS=${MOUNT_JOB_REPS:-20}
CONFIGS=${CONFIGS:-"none plugin"}
BEFORE_SO=${BEFORE_SO:-}
ROUNDS=${ROUNDS:-2}
PARTS=${PARTS:-"1 2 3"}
FIRST_JOB_ID=${FIRST_JOB_ID:-700000}
export WRITE_DOC=${WRITE_DOC:-1}

NSDIR=$PTD_LAB/ns
NSFILE=$NSDIR/mnt
MOUNTS_DIR=/var/spool/ptd-bench-mounts
DATA=$PTD_LAB/bench/$(date +%Y%m%d-%H%M%S)
DEFAULT_LAB=/var/spool/private-tmpdir-lab

say() { printf '[job-latency %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root"
[ -r "$PLUGIN_SO" ] || die "$PLUGIN_SO missing: run npm run build"
case "$PTD_LAB/" in /tmp/* | /var/tmp/*) die "PTD_LAB must not be under /tmp" ;; esac

# ------------------------------------------------------------ the cluster
ns_made=0
cleanup_all() {
	local rc=$?
	trap - EXIT INT TERM
	say "cleaning up"
	stop_cluster final || true
	if [ "$ns_made" = 1 ]; then
		umount "$NSFILE" 2>/dev/null || true
		umount "$NSDIR" 2>/dev/null || true
	fi
	rmdir "$MOUNTS_DIR" 2>/dev/null || true
	# cluster.sh copied our slurm.conf to /etc/slurm: give it back to the
	# default lab's cluster when that one is running
	if [ -r "$DEFAULT_LAB/run/cluster.env" ] && [ -r "$DEFAULT_LAB/etc/slurm.conf" ] &&
		head -n 1 /etc/slurm/slurm.conf 2>/dev/null | grep -q 'generated by private-tmpdir'; then
		install -m 0644 "$DEFAULT_LAB/etc/slurm.conf" /etc/slurm/slurm.conf
	fi
	exit "$rc"
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

stop_cluster() { # [final]: a final stop leaves munged to a running default-lab cluster
	local keep=1
	if [ "${1:-}" = final ] && ! PTD_LAB=$DEFAULT_LAB bash "$CLUSTER_SH" status >/dev/null 2>&1; then
		keep=0
	fi
	KEEP_MUNGE=$keep bash "$CLUSTER_SH" stop 2>>"$DATA/cluster.log"
}

# start_cluster CONFIG [ns]: (re)start our cluster in that configuration
# (CONFIGS above); with "ns", inside the benchmark's mount namespace
start_cluster() {
	local cfg=$1 where=${2:-host} ps=$PTD_LAB/etc/plugstack.$1.conf
	local extra="FirstJobId=$FIRST_JOB_ID"
	stop_cluster
	install -d -m 0755 "$PTD_LAB/etc"
	rm -f "$PTD_LAB/etc/job_container.conf"
	case $cfg in
	plugin) echo "required $PLUGIN_SO $SEED_ARGS" >"$ps" ;;
	pluginc)
		echo "required $PLUGIN_SO $SEED_ARGS" >"$ps"
		extra+=$'\nPrologFlags=Contain'
		;;
	tmpfs) echo "required $PLUGIN_SO $SEED_ARGS $TMPFS_ARGS" >"$ps" ;;
	noop)
		local noop=$PTD_LAB/bench/noop_spank.so
		install -d -m 0755 "$PTD_LAB/bench"
		gcc -shared -fPIC -O2 -Wall -Werror -o "$noop" "$REPO/bench/noop_spank.c" ||
			die "cannot build bench/noop_spank.c"
		echo "required $noop" >"$ps"
		;;
	before)
		[ -r "$BEFORE_SO" ] || die "CONFIGS has before: set BEFORE_SO to a built private-tmpdir.so"
		echo "required $BEFORE_SO $SEED_ARGS" >"$ps"
		;;
	jctmpfs)
		: >"$ps"
		# Debian builds Slurm with MULTIPLE_SLURMD: BasePath/<node>, which
		# the plugin does not make itself
		install -d -m 0755 "$PTD_LAB/jc/$(hostname -s)"
		echo "BasePath=$PTD_LAB/jc" >"$PTD_LAB/etc/job_container.conf"
		if [ "$(slurmd -V | awk '{split($2, v, "."); print (v[1] * 100 + v[2] >= 2511)}')" = 1 ]; then
			extra+=$'\nNamespaceType=namespace/tmpfs\nPrologFlags=Contain'
		else
			extra+=$'\nJobContainerType=job_container/tmpfs\nPrologFlags=Contain'
		fi
		;;
	none) : >"$ps" ;;
	*) die "unknown configuration $cfg" ;;
	esac
	local vars=(PLUGSTACK="$ps" SHARED_ROOT=0 KEEP_MUNGE=1 EXTRA_CONF="$extra")
	if [ "$where" = ns ]; then
		env "${vars[@]}" nsenter --mount="$NSFILE" -- bash "$CLUSTER_SH" start 2>>"$DATA/cluster.log" ||
			die "cluster start failed (see $DATA/cluster.log)"
	else
		env "${vars[@]}" bash "$CLUSTER_SH" start 2>>"$DATA/cluster.log" ||
			die "cluster start failed (see $DATA/cluster.log)"
	fi
	# the plugin must really be loaded (Trap 3): one job, then its log line
	as_alice srun -N1 true >/dev/null 2>&1 || true
	case $cfg in plugin | pluginc | before | tmpfs)
		grep -q 'private-tmpdir: loaded' "$PTD_LAB/log/slurmd.log" ||
			die "plugin not loaded (no 'private-tmpdir: loaded' in slurmd.log)"
		;;
	jctmpfs)
		grep -q -E '(job_container|namespace)/tmpfs' "$PTD_LAB/log/slurmd.log" ||
			die "job_container/tmpfs not loaded (slurmd.log does not name it)"
		;;
	esac
}

# ---------------------------------------------------------- measurements
# Each prints one sample per line, in microseconds; a failed srun is fatal.

# new_jobs N [tolerate]: N times `srun -N1 true`, each a new job; with
# tolerate, a failed job is said ("srun failed") and not timed
new_jobs() {
	as_alice bash -c '
		for ((i = 0; i < $1; i++)); do
			t0=${EPOCHREALTIME/./}
			if ! srun -N1 true; then
				echo "srun failed" >&2
				[ -n "$2" ] && continue
				exit 1
			fi
			t1=${EPOCHREALTIME/./}
			echo $((t1 - t0))
		done' _ "$1" "${2:-}"
}

# turnaround N: srun, then poll until slurmctld has the job COMPLETED (the
# epilog has reported); prints "srun_us total_us". The poll pauses 10 ms
# between looks so that it takes neither a CPU nor slurmctld from the epilog
# it waits for (the total is late by up to one pause).
turnaround() {
	as_alice bash -c '
		for ((i = 0; i < $1; i++)); do
			t0=${EPOCHREALTIME/./}
			id=$(srun -N1 printenv SLURM_JOB_ID) || { echo "srun failed" >&2; exit 1; }
			t1=${EPOCHREALTIME/./}
			# bounded as before (then the time is taken as it is), in time
			# now: 20 s, well past the jobs that 24.11 reports COMPLETED
			# only 5 s late
			deadline=$((t1 + 20000000))
			while :; do
				st=$(scontrol -o show job "$id" 2>/dev/null) || true
				case "$st" in *"JobState=COMPLETED "*) break ;; esac
				((${EPOCHREALTIME/./} < deadline)) || break
				sleep 0.01
			done
			t2=${EPOCHREALTIME/./}
			echo $((t1 - t0)) $((t2 - t0))
		done' _ "$1"
}

# steps N [tolerate]: one allocation, one warm-up step (the prolog runs at
# the first step), then N times `srun true`; with tolerate, an allocation
# whose first step fails is tried again (at most 5 times)
steps() {
	local try
	for ((try = 0; try < 5; try++)); do
		as_alice salloc -Q -N1 bash -c '
			srun true || exit 3
			for ((i = 0; i < $1; i++)); do
				t0=${EPOCHREALTIME/./}
				srun true || { echo "srun failed" >&2; exit 1; }
				t1=${EPOCHREALTIME/./}
				echo $((t1 - t0))
			done' _ "$1" && return 0
		[ -n "${2:-}" ] || return 1
		echo "allocation failed" >&2
	done
	return 1
}

mounts_of_slurmd() {
	local pid
	pid=$(sed -n 's/^SLURMD_PID=//p' "$PTD_LAB/run/cluster.env")
	wc -l <"/proc/$pid/mountinfo"
}

# tsv MEASURE MOUNTS: each line on stdin (one sample, or two for turn)
# as a line of the configuration's .tsv
tsv() {
	awk -v m="$1" -v w="$2" 'BEGIN { OFS = "\t" } { $1 = $1; print m, w, $0 }'
}

# ------------------------------------------------------------------ run
mkdir -p "$DATA"
say "data in $DATA; lab $PTD_LAB ports $CTLD_PORT/$SLURMD_PORT"
KERNEL=$(uname -r)
NPROC=$(nproc)
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
SLURM_V=$(slurmd -V | awk '{print $2}')
WHEN=$(date -u +%Y-%m-%dT%H:%MZ)
MACHINE="$WHEN; $NPROC vCPU ($CPU), kernel $KERNEL, Slurm $SLURM_V, $(. /etc/os-release && echo "$PRETTY_NAME"); load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
T_START=$EPOCHREALTIME
declare -p PARTS REPS TURN_REPS STEP_REPS ROUNDS MOUNT_COUNTS MOUNT_STEP_REPS MOUNT_JOB_REPS CONFIGS BEFORE_SO \
	SEED_ARGS MACHINE >"$DATA/run.env"

has_part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

if has_part 1 || has_part 2; then
	for ((r = 1; r <= ROUNDS; r++)); do
		for cfg in none plugin; do
			say "round $r/$ROUNDS: $cfg"
			start_cluster "$cfg"
			if has_part 1; then
				new_jobs $(((REPS + ROUNDS - 1) / ROUNDS)) 2>>"$DATA/new.$cfg.err" | tsv new - >>"$DATA/$cfg.tsv"
				turnaround $(((TURN_REPS + ROUNDS - 1) / ROUNDS)) | tsv turn - >>"$DATA/$cfg.tsv"
				cat "$PTD_LAB/log/slurmd.log" >>"$DATA/slurmd.$cfg.log"
			fi
			if has_part 2; then
				steps $(((STEP_REPS + ROUNDS - 1) / ROUNDS)) | tsv steps - >>"$DATA/$cfg.tsv"
			fi
		done
	done
fi

if has_part 3; then
	say "part 3: mount namespace $NSFILE"
	install -d -m 0755 "$NSDIR" "$MOUNTS_DIR"
	mount --bind "$NSDIR" "$NSDIR"
	mount --make-private "$NSDIR"
	ns_made=1
	: >"$NSFILE"
	unshare --mount="$NSFILE" --propagation private true
	nsenter --mount="$NSFILE" -- mount -t tmpfs -o size=4m,nr_inodes=20000,mode=0755 ptd-bench "$MOUNTS_DIR"
	have=0
	for want in $MOUNT_COUNTS; do
		# "host": the machine's own namespace and mounts as they are (no
		# namespace of the benchmark's), where job_container/tmpfs works
		where=ns
		[ "$want" = host ] && where=host
		cur=$(nsenter --mount="$NSFILE" -- cat /proc/self/mountinfo | wc -l)
		if [ "$where" = ns ] && [ "$want" -gt "$cur" ]; then
			say "adding $((want - cur)) tmpfs mounts (now $cur)"
			nsenter --mount="$NSFILE" -- bash -c '
				for ((i = $2; i < $2 + $3; i++)); do
					mkdir "$1/m$i" && mount -t tmpfs -o size=16k ptd-bench-m "$1/m$i" || exit 1
				done' _ "$MOUNTS_DIR" "$have" "$((want - cur))"
			have=$((have + want - cur))
		fi
		for ((r = 1; r <= ROUNDS; r++)); do
			for cfg in $CONFIGS; do
				say "mounts $want, round $r/$ROUNDS: $cfg"
				start_cluster "$cfg" "$where"
				echo "$(mounts_of_slurmd)$([ "$where" = host ] && echo " (the host's namespace)")" >"$DATA/mcount.$want"
				# job_container/tmpfs fails about half its jobs when slurmd
				# runs in a mount namespace of its own, as here (its nsfs
				# bind: EINVAL): those are counted, not timed
				tol=""
				[ "$cfg" = jctmpfs ] && tol=1
				steps $(((MOUNT_STEP_REPS + ROUNDS - 1) / ROUNDS)) $tol 2>>"$DATA/msteps.$want.$cfg.err" |
					tsv msteps "$want" >>"$DATA/$cfg.tsv"
				if [ "$MOUNT_JOB_REPS" -gt 0 ]; then
					new_jobs $(((MOUNT_JOB_REPS + ROUNDS - 1) / ROUNDS)) $tol 2>>"$DATA/mjobs.$want.$cfg.err" |
						tsv mjobs "$want" >>"$DATA/$cfg.tsv"
				fi
			done
		done
	done
	stop_cluster
	say "unmounting the namespace"
	umount "$NSFILE"
	umount "$NSDIR"
	ns_made=0
fi

ELAPSED=$(awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
say "done in ${ELAPSED}s"
bash "$REPO/bench/job-latency-report.sh" "$DATA"
