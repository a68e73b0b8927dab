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
# Run as root, from the repository, after `npm run build`. Prints markdown
# tables on stdout (progress on stderr) and, unless WRITE_DOC=0, replaces the
# sections "## New job latency", "## Steps in one allocation" and
# "## Step setup vs host mount count" of docs/benchmarks.md (other sections
# are left alone). Raw samples (microseconds) stay in $PTD_LAB/bench/.
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
CLUSTER_SH=$REPO/tests/slurm/cluster.sh
PLUGIN_SO=${PTD_PLUGIN_SO:-$REPO/dist/native/private-tmpdir.so}
SEED_ARGS="base=/tmp/slurm mount=/var/tmp mount=/tmp"
TMPFS_ARGS=${TMPFS_ARGS:-"tmpfs=/dev/shm size=50% tmpdir=/tmp"}

export PTD_LAB=${PTD_LAB:-/var/spool/ptd-bench-lab}
export CTLD_PORT=${CTLD_PORT:-6917}
export SLURMD_PORT=${SLURMD_PORT:-6918}
export SLURM_CONF=$PTD_LAB/etc/slurm.conf
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
WRITE_DOC=${WRITE_DOC:-1}
DOC=$REPO/docs/benchmarks.md

OUT=$PTD_LAB/out
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

as_alice() { # run a command as ptd-alice with a small, fixed environment
	(cd "$OUT" && runuser -u ptd-alice -- env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
		SLURM_CONF="$SLURM_CONF" HOME=/home/ptd-alice "$@")
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
# epilog has reported); prints "srun_us total_us"
turnaround() {
	as_alice bash -c '
		for ((i = 0; i < $1; i++)); do
			t0=${EPOCHREALTIME/./}
			id=$(srun -N1 printenv SLURM_JOB_ID) || { echo "srun failed" >&2; exit 1; }
			t1=${EPOCHREALTIME/./}
			for ((k = 0; k < 2000; k++)); do
				st=$(scontrol -o show job "$id" 2>/dev/null) || true
				case "$st" in *"JobState=COMPLETED "*) break ;; esac
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

# --------------------------------------------------------------- figures
# stats <file> -> "n median p25 p75" in ms (samples in us, column $2 or 1)
stats() {
	awk -v c="${2:-1}" '{print $c}' "$1" | sort -n | awk '
		{ a[NR] = $1 }
		END {
			if (NR == 0) { print "0 nan nan nan"; exit }
			m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			p25 = a[int((NR - 1) * 0.25) + 1]; p75 = a[int((NR - 1) * 0.75) + 1]
			printf "%d %.1f %.1f %.1f\n", NR, m / 1000, p25 / 1000, p75 / 1000
		}'
}
med() { stats "$@" | awk '{print $2}'; }
iqr() { stats "$@" | awk '{printf "%s-%s", $3, $4}'; }
cnt() { stats "$@" | awk '{print $1}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
diffms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", a - b }'; }

# breakdown <slurmd.log...>: per job, from slurmd's log (ms timestamps):
# "stepd" = launch request -> the step's slurmstepd logs (the spank prolog
# process runs in between), "epilog" = spank epilog spawned -> epilog
# complete sent, "work" = the plugin's own part of the epilog; prints
# "stepd epilog work" medians (ms; "-" when absent)
breakdown() {
	awk '
		function ms() { split(substr($1, 13, 12), a, ":"); return (a[1] * 3600 + a[2] * 60 + a[3]) * 1000 }
		function id(re, off,  m) { match($0, re); return substr($0, RSTART + off, RLENGTH - off) }
		/launch task StepId=[0-9]+\.0 request/ { L[id("StepId=[0-9]+", 7)] = ms() }
		/^\[[^]]*\] \[[0-9]+\.0\]/ { j = id("\\] \\[[0-9]+", 3); if (!(j in S)) S[j] = ms() }
		/_rpc_terminate_job: .*JobId=/ { cur = id("JobId=[0-9]+", 6) }
		/calling .* spank epilog/ { EC[cur] = ms() }
		/Running spank\/epilog for jobid/ { ER[id("jobid \\[[0-9]+", 7)] = ms() }
		/private-tmpdir: job [0-9]+ uid [0-9]+: removed/ { EP[id("job [0-9]+", 4)] = ms() }
		/JobId=[0-9]+: sent epilog complete msg/ { E[id("JobId=[0-9]+", 6)] = ms() }
		END {
			for (j in L) if (j in S) print "stepd", S[j] - L[j]
			for (j in EC) if (j in E) print "epilog", E[j] - EC[j]
			for (j in ER) if (j in EP) print "work", EP[j] - ER[j]
		}' "$@" | sort -k1,1 -k2,2n | awk '
		{ v[$1] = v[$1] " " $2 }
		END {
			split("stepd epilog work", keys, " ")
			for (k = 1; k <= 3; k++) {
				n = split(v[keys[k]], a, " ")
				printf "%s ", n ? a[int((n + 1) / 2)] : "-"
			}
			print ""
		}'
}

mounts_of_slurmd() {
	local pid
	pid=$(sed -n 's/^SLURMD_PID=//p' "$PTD_LAB/run/cluster.env")
	wc -l <"/proc/$pid/mountinfo"
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
md_new="" md_steps="" md_mounts=""

has_part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

if has_part 1 || has_part 2; then
	for ((r = 1; r <= ROUNDS; r++)); do
		for cfg in none plugin; do
			say "round $r/$ROUNDS: $cfg"
			start_cluster "$cfg"
			if has_part 1; then
				new_jobs $(((REPS + ROUNDS - 1) / ROUNDS)) >>"$DATA/new.$cfg" 2>>"$DATA/new.$cfg.err"
				turnaround $(((TURN_REPS + ROUNDS - 1) / ROUNDS)) >>"$DATA/turn.$cfg"
				cat "$PTD_LAB/log/slurmd.log" >>"$DATA/slurmd.$cfg.log"
			fi
			if has_part 2; then
				steps $(((STEP_REPS + ROUNDS - 1) / ROUNDS)) >>"$DATA/steps.$cfg"
			fi
		done
	done
fi

if has_part 1; then
	n0=$(med "$DATA/new.none") n1=$(med "$DATA/new.plugin")
	s0=$(med "$DATA/turn.none" 1) s1=$(med "$DATA/turn.plugin" 1)
	t0=$(med "$DATA/turn.none" 2) t1=$(med "$DATA/turn.plugin" 2)
	# per job: COMPLETED less srun's return (the node held after srun)
	for c in none plugin; do awk '{ print $2 - $1 }' "$DATA/turn.$c" >"$DATA/after.$c"; done
	a0=$(med "$DATA/after.none") a1=$(med "$DATA/after.plugin")
	read -r b0_stepd _ _ <<<"$(breakdown "$DATA/slurmd.none.log")"
	read -r b1_stepd b1_epi b1_work <<<"$(breakdown "$DATA/slurmd.plugin.log")"
	q0=$(grep -c 'queued and waiting' "$DATA/new.none.err" || true)
	q1=$(grep -c 'queued and waiting' "$DATA/new.plugin.err" || true)
	md_new="$(
		cat <<-EOF
			| measure | no plugin: median (IQR) ms | plugin: median (IQR) ms | n each | plugin / no plugin |
			|---|---|---|---|---|
			| \`srun -N1 true\`, new job | $n0 ($(iqr "$DATA/new.none")) | $n1 ($(iqr "$DATA/new.plugin")) | $(cnt "$DATA/new.none") | ×$(ratio "$n1" "$n0") |
			| turnaround: srun returns | $s0 ($(iqr "$DATA/turn.none" 1)) | $s1 ($(iqr "$DATA/turn.plugin" 1)) | $(cnt "$DATA/turn.none") | ×$(ratio "$s1" "$s0") |
			| turnaround: job COMPLETED (epilog done) | $t0 ($(iqr "$DATA/turn.none" 2)) | $t1 ($(iqr "$DATA/turn.plugin" 2)) | $(cnt "$DATA/turn.none") | ×$(ratio "$t1" "$t0") |
			| turnaround: COMPLETED after srun returns | $a0 ($(iqr "$DATA/after.none")) | $a1 ($(iqr "$DATA/after.plugin")) | $(cnt "$DATA/after.none") | ×$(ratio "$a1" "$a0") |

			Where the time goes (slurmd.log, SlurmdDebug=debug, ms timestamps; medians over all jobs of the run):

			| from slurmd.log | no plugin | plugin |
			|---|---|---|
			| launch request → the step's slurmstepd starts | $b0_stepd ms | $b1_stepd ms |
			| spank epilog process: spawned → "epilog complete" sent (after srun has returned) | — | $b1_epi ms |
			| … of which the plugin's own epilog work (start → its "removed" line) | — | $b1_work ms |
			| back-to-back \`srun -N1 true\` that waited for the node ("queued and waiting for resources") | $q0 of $(cnt "$DATA/new.none") | $q1 of $(cnt "$DATA/new.plugin") |
		EOF
	)"
	ANALYSIS_NEW=$(awk -v n0="$n0" -v n1="$n1" -v t0="$t0" -v t1="$t1" 'BEGIN {
		r = n1 / n0
		printf "This run: ×%.3f (%+.1f ms per job) — target %s. ", r, n1 - n0, r <= 1.05 ? "met" : "missed"
		printf "Turnaround (node held until the epilog is done): ×%.3f (%+.1f ms).", t1 / t0, t1 - t0
	}')
	printf '\n## New job latency\n\n%s\n\n%s\n' "$md_new" "$ANALYSIS_NEW"
fi

if has_part 2; then
	p0=$(med "$DATA/steps.none") p1=$(med "$DATA/steps.plugin")
	md_steps="$(
		cat <<-EOF
			| measure | no plugin: median (IQR) ms | plugin: median (IQR) ms | n each | plugin / no plugin |
			|---|---|---|---|---|
			| \`srun true\` in one allocation | $p0 ($(iqr "$DATA/steps.none")) | $p1 ($(iqr "$DATA/steps.plugin")) | $(cnt "$DATA/steps.none") | ×$(ratio "$p1" "$p0") ($(diffms "$p1" "$p0") ms) |
		EOF
	)"
	ANALYSIS_STEPS=$(paste -d' ' <(stats "$DATA/steps.none") <(stats "$DATA/steps.plugin") | awk '{
		d = $6 - $2; w = $4 - $3
		printf "This run: %+.2f ms per step (×%.3f) against an interquartile range of %.1f ms without the plugin — %s.", d, $6 / $2, w, (d < 0 ? -d : d) <= w / 2 ? "within noise" : "above noise"
	}')
	printf '\n## Steps in one allocation\n\n%s\n\n%s\n' "$md_steps" "$ANALYSIS_STEPS"
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
	FAILED_NOTE=""
	md_mounts="| mounts in slurmd's namespace | configuration | step in an allocation: median (IQR) ms | n | step / none | new job: median (IQR) ms | n | new job / none |
|---|---|---|---|---|---|---|---|"
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
				steps $(((MOUNT_STEP_REPS + ROUNDS - 1) / ROUNDS)) $tol >>"$DATA/msteps.$want.$cfg" 2>>"$DATA/msteps.$want.$cfg.err"
				if [ "$MOUNT_JOB_REPS" -gt 0 ]; then
					new_jobs $(((MOUNT_JOB_REPS + ROUNDS - 1) / ROUNDS)) $tol >>"$DATA/mjobs.$want.$cfg" 2>>"$DATA/mjobs.$want.$cfg.err"
				else
					: >>"$DATA/mjobs.$want.$cfg"
				fi
			done
		done
		m0=$(med "$DATA/msteps.$want.none") j0=$(med "$DATA/mjobs.$want.none")
		for cfg in $CONFIGS; do
			m1=$(med "$DATA/msteps.$want.$cfg") j1=$(med "$DATA/mjobs.$want.$cfg")
			nf=$(cat "$DATA/mjobs.$want.$cfg.err" "$DATA/msteps.$want.$cfg.err" 2>/dev/null | grep -c -E '^(srun|allocation) failed' || true)
			[ "$nf" -gt 0 ] && FAILED_NOTE+="$cfg at $(cat "$DATA/mcount.$want") mounts: $nf failed jobs or allocations (not timed). "
			md_mounts+="
| $(cat "$DATA/mcount.$want") | $cfg | $m1 ($(iqr "$DATA/msteps.$want.$cfg")) | $(cnt "$DATA/msteps.$want.$cfg") | ×$(ratio "$m1" "$m0") | $j1 ($(iqr "$DATA/mjobs.$want.$cfg")) | $(cnt "$DATA/mjobs.$want.$cfg") | ×$(ratio "$j1" "$j0") |"
		done
	done
	stop_cluster
	say "unmounting the namespace"
	umount "$NSFILE"
	umount "$NSDIR"
	ns_made=0
	# per configuration: its step ratio at each mount count, against the
	# target (one namespace per job: within x1.05 of none at every count)
	ANALYSIS_MOUNTS=$(printf '%s\n' "$md_mounts" | awk -F'|' 'NR > 2 {
		gsub(/ /, "", $3); gsub(/[ x×]/, "", $6); gsub(/[ x×]/, "", $9); gsub(/ /, "", $2)
		if ($3 == "none") next
		if (!($3 in r)) order[++n] = $3
		r[$3] = r[$3] sprintf("%s×%.3f (new job ×%.3f) at %s", (r[$3] == "" ? "" : ", "), $6, $9, $2)
		if ($6 + 0 > 1.05) bad[$3] = 1
	} END {
		for (i = 1; i <= n; i++)
			printf "%s: steps %s — %s. ", order[i], r[order[i]], (order[i] in bad) ? "above ×1.05 at some count" : "within ×1.05 at every count"
	}')
	printf '\n## Step setup vs host mount count\n\n%s\n\n%s\n' "$md_mounts" "$ANALYSIS_MOUNTS $FAILED_NOTE"
fi

ELAPSED=$(awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
say "done in ${ELAPSED}s"
printf '\nMachine: %s. Raw samples: %s\n' "$MACHINE" "$DATA"

[ "$WRITE_DOC" = 1 ] || exit 0

# ------------------------------------------------------------- the doc
# Replaces this script's sections (if present) and appends the new ones;
# every other section stays as it is.
mkdir -p "$(dirname "$DOC")"
[ -e "$DOC" ] || printf '# Benchmarks\n\nMeasured figures for private-tmpdir against the targets in the design (section 4).\n' >"$DOC"
re=""
has_part 1 && re+="|New job latency"
has_part 2 && re+="|Steps in one allocation"
has_part 3 && re+="|Step setup vs host mount count"
new_doc=$(mktemp "$PTD_LAB/doc.XXXXXX")
awk -v re="^## (${re#|})$" '
	/^## / { skip = ($0 ~ re) }
	!skip' "$DOC" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$new_doc"
cat "$new_doc" >"$DOC"
rm -f "$new_doc"
sect() { printf '\n## %s\n\n%s\n' "$1" "$2"; }
READ_NEW='How to read it: the plugin'\''s own work is 1–2 ms per phase. It defines no `slurm_spank_job_prolog` (an earlier version did: its `slurmstepd spank prolog` process cost 13–15 ms before every job), so the step starts as fast as without it and makes the directories itself. It does define `slurm_spank_job_epilog` (cleanup), so slurmd forks and execs `slurmstepd spank epilog` after every job and reaps it with a polling wait whose first poll comes 10 ms after the fork (Slurm'\''s `waitpid_timeout()`), so that process costs at least 10 ms however little it does. The epilog runs after srun returns, but the job stays COMPLETING until it is done, and a job submitted meanwhile may wait for it ("queued and waiting for resources"): back-to-back new jobs pay for the epilog.'
READ_MOUNTS='How to read it: every ratio compares with "none" (an empty plugstack) at the same mount count, measured in the same rounds. The machine may be shared with other runs (see the load average), so compare within a row group. `plugin` and `pluginc` are this tree: one mount namespace per job on a node, made by its first step (with Contain: the extern step) and joined by every later step with `setns`; `before` is the plugin of the previous release, which unshares in every step (its copy of the mount table grows with the count); `jctmpfs` is Slurm'\''s job_container/tmpfs. At 5,000 mounts even the no-plugin step slows down a little (slurmstepd walks the mount table too).'

REPRO="sudo REPS=$REPS TURN_REPS=$TURN_REPS STEP_REPS=$STEP_REPS ROUNDS=$ROUNDS MOUNT_COUNTS=\"$MOUNT_COUNTS\" MOUNT_STEP_REPS=$MOUNT_STEP_REPS MOUNT_JOB_REPS=$MOUNT_JOB_REPS CONFIGS=\"$CONFIGS\"${BEFORE_SO:+ BEFORE_SO=<the previous build>} bash bench/job-latency.sh"
{
	if has_part 1; then
		sect "New job latency" "What it measures: the wall time of \`srun -N1 true\` run by an ordinary user (ptd-alice), a new job each time, with no plugin (empty plugstack) and with the seed's line \`required <repo>/dist/native/private-tmpdir.so $SEED_ARGS\` (cleanup on, the default). Slurm runs the plugin's job epilog (\`slurmstepd spank epilog\`) after srun has returned, so \"turnaround\" also times each job from srun's start until slurmctld reports it COMPLETED (epilog done: how long the job holds the node), polling \`scontrol show job\` (a few ms granularity). Configurations alternate in $ROUNDS blocks on the same cluster (restarted per block), one warm-up job per block not counted.

Reproduce: \`$REPRO\` (part 1; \`PARTS=1\` runs it alone).

Machine: $MACHINE.

$md_new

$READ_NEW

Target (design §4): new job ≤ ×1.05 with cleanup on. ${ANALYSIS_NEW:-}"
	fi
	if has_part 2; then
		sect "Steps in one allocation" "What it measures: \`srun true\` inside one \`salloc -N1\` allocation (after one warm-up step), with and without the plugin; each step runs the plugin's directory checks, \`unshare(CLONE_NEWNS)\`, \`MS_SLAVE|MS_REC\` and two binds in slurmstepd.

Reproduce: \`$REPRO\` (part 2; \`PARTS=2\` alone).

Machine: $MACHINE.

$md_steps

Target (design §4): within noise of no plugin. ${ANALYSIS_STEPS:-}"
	fi
	if has_part 3; then
		sect "Step setup vs host mount count" "What it measures: step latency as in \"Steps in one allocation\", with slurmd (and so every slurmstepd) in a mount namespace holding the given number of mounts (extra tmpfs mounts made in a persistent namespace of the benchmark's, so the host is not touched). \`unshare(CLONE_NEWNS)\` copies the whole mount table, so a plugin that unshares in every step pays for it on every step; one that keeps a namespace per job pays once per job. New jobs (\`srun -N1 true\`, a job each) are timed at each count too. The first row group is the machine as it is (no mounts added). Configurations: $CONFIGS.

Reproduce: \`$REPRO\` (part 3; \`PARTS=3\` alone).

Machine: $MACHINE.

$md_mounts

$READ_MOUNTS

Target (issue "One namespace per job"): steps within ×1.05 of none at 10, 1,000 and 5,000 mounts, new jobs no worse than before. Seed anchor: unshare+binds 0.3 / 1.8 / 7.0 ms at 10 / 1,000 / 5,000 host mounts. ${ANALYSIS_MOUNTS:-} ${FAILED_NOTE:-}"
	fi
} >>"$DOC"
say "wrote $DOC"
