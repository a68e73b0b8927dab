#!/bin/bash
# bench/job-latency-report.sh - the figures of one bench/job-latency.sh run,
# from its raw results alone (that script's header says what they are):
# medians and interquartile ranges of the samples, where a job's time goes
# (slurmd's logs), markdown tables on stdout and, unless WRITE_DOC=0, the
# sections "## New job latency", "## Steps in one allocation" and
# "## Step setup vs host mount count" of docs/benchmarks.md replaced, those
# of the parts the run had (other sections are left alone).
#
# bench/job-latency.sh runs it when it has measured; run it again to remake
# the report of a run without measuring (no root, no Slurm needed):
#   bash bench/job-latency-report.sh /var/spool/ptd-bench-lab/bench/<date>
# Environment (defaults):
#   WRITE_DOC=1
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DOC=$REPO/docs/benchmarks.md
say() { printf '[job-latency %s] %s\n' "$(date +%T)" "$*" >&2; }
WRITE_DOC=${WRITE_DOC:-1}
if [ $# != 1 ] || [ ! -r "$1/run.env" ]; then
	echo "usage: $0 DIR (a bench/job-latency.sh run's raw results, with run.env)" >&2
	exit 2
fi
DATA=$1
# PARTS, REPS, TURN_REPS, STEP_REPS, ROUNDS, MOUNT_COUNTS, MOUNT_STEP_REPS,
# MOUNT_JOB_REPS, CONFIGS, BEFORE_SO, SEED_ARGS and MACHINE, as measured
# shellcheck source=/dev/null
. "$DATA/run.env"
# each measure's samples, a file each (stats reads files)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# --------------------------------------------------------------- figures
. "$REPO/bench/stats.sh"

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

# samples CONFIG MEASURE [MOUNTS]: those samples of CONFIG's .tsv, one a
# line (two columns for turn), in microseconds; none when it has none
samples() {
	[ -e "$DATA/$1.tsv" ] || return 0
	awk -F'\t' -v m="$2" -v w="${3:--}" '$1 == m && $2 == w {
		s = $3; for (i = 4; i <= NF; i++) s = s " " $i; print s
	}' "$DATA/$1.tsv"
}

has_part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# ------------------------------------------------------------- the tables
md_new="" md_steps="" md_mounts=""

if has_part 1; then
	for c in none plugin; do
		samples "$c" new >"$W/new.$c"
		samples "$c" turn >"$W/turn.$c"
	done
	n0=$(med "$W/new.none") n1=$(med "$W/new.plugin")
	s0=$(med "$W/turn.none" 1) s1=$(med "$W/turn.plugin" 1)
	t0=$(med "$W/turn.none" 2) t1=$(med "$W/turn.plugin" 2)
	# per job: COMPLETED less srun's return (the node held after srun)
	for c in none plugin; do awk '{ print $2 - $1 }' "$W/turn.$c" >"$W/after.$c"; done
	a0=$(med "$W/after.none") a1=$(med "$W/after.plugin")
	read -r b0_stepd _ _ <<<"$(breakdown "$DATA/slurmd.none.log")"
	read -r b1_stepd b1_epi b1_work <<<"$(breakdown "$DATA/slurmd.plugin.log")"
	q0=$(grep -c 'queued and waiting' "$DATA/new.none.err" || true)
	q1=$(grep -c 'queued and waiting' "$DATA/new.plugin.err" || true)
	md_new="$(
		cat <<-EOF
			| measure | no plugin: median (IQR) ms | plugin: median (IQR) ms | n each | plugin / no plugin |
			|---|---|---|---|---|
			| \`srun -N1 true\`, new job | $n0 ($(iqr "$W/new.none")) | $n1 ($(iqr "$W/new.plugin")) | $(cnt "$W/new.none") | ×$(ratio "$n1" "$n0") |
			| turnaround: srun returns | $s0 ($(iqr "$W/turn.none" 1)) | $s1 ($(iqr "$W/turn.plugin" 1)) | $(cnt "$W/turn.none") | ×$(ratio "$s1" "$s0") |
			| turnaround: job COMPLETED (epilog done) | $t0 ($(iqr "$W/turn.none" 2)) | $t1 ($(iqr "$W/turn.plugin" 2)) | $(cnt "$W/turn.none") | ×$(ratio "$t1" "$t0") |
			| turnaround: COMPLETED after srun returns | $a0 ($(iqr "$W/after.none")) | $a1 ($(iqr "$W/after.plugin")) | $(cnt "$W/after.none") | ×$(ratio "$a1" "$a0") |

			Where the time goes (slurmd.log, SlurmdDebug=debug, ms timestamps; medians over all jobs of the run):

			| from slurmd.log | no plugin | plugin |
			|---|---|---|
			| launch request → the step's slurmstepd starts | $b0_stepd ms | $b1_stepd ms |
			| spank epilog process: spawned → "epilog complete" sent (after srun has returned) | — | $b1_epi ms |
			| … of which the plugin's own epilog work (start → its "removed" line) | — | $b1_work ms |
			| back-to-back \`srun -N1 true\` that waited for the node ("queued and waiting for resources") | $q0 of $(cnt "$W/new.none") | $q1 of $(cnt "$W/new.plugin") |
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
	for c in none plugin; do samples "$c" steps >"$W/steps.$c"; done
	p0=$(med "$W/steps.none") p1=$(med "$W/steps.plugin")
	md_steps="$(
		cat <<-EOF
			| measure | no plugin: median (IQR) ms | plugin: median (IQR) ms | n each | plugin / no plugin |
			|---|---|---|---|---|
			| \`srun true\` in one allocation | $p0 ($(iqr "$W/steps.none")) | $p1 ($(iqr "$W/steps.plugin")) | $(cnt "$W/steps.none") | ×$(ratio "$p1" "$p0") ($(diffms "$p1" "$p0") ms) |
		EOF
	)"
	ANALYSIS_STEPS=$(paste -d' ' <(stats "$W/steps.none") <(stats "$W/steps.plugin") | awk '{
		d = $6 - $2; w = $4 - $3
		printf "This run: %+.2f ms per step (×%.3f) against an interquartile range of %.1f ms without the plugin — %s.", d, $6 / $2, w, (d < 0 ? -d : d) <= w / 2 ? "within noise" : "above noise"
	}')
	printf '\n## Steps in one allocation\n\n%s\n\n%s\n' "$md_steps" "$ANALYSIS_STEPS"
fi

if has_part 3; then
	FAILED_NOTE=""
	md_mounts="| mounts in slurmd's namespace | configuration | step in an allocation: median (IQR) ms | n | step / none | new job: median (IQR) ms | n | new job / none |
|---|---|---|---|---|---|---|---|"
	for want in $MOUNT_COUNTS; do
		for cfg in $CONFIGS; do
			samples "$cfg" msteps "$want" >"$W/msteps.$want.$cfg"
			samples "$cfg" mjobs "$want" >"$W/mjobs.$want.$cfg"
		done
		m0=$(med "$W/msteps.$want.none") j0=$(med "$W/mjobs.$want.none")
		for cfg in $CONFIGS; do
			m1=$(med "$W/msteps.$want.$cfg") j1=$(med "$W/mjobs.$want.$cfg")
			nf=$(cat "$DATA/mjobs.$want.$cfg.err" "$DATA/msteps.$want.$cfg.err" 2>/dev/null | grep -c -E '^(srun|allocation) failed' || true)
			[ "$nf" -gt 0 ] && FAILED_NOTE+="$cfg at $(cat "$DATA/mcount.$want") mounts: $nf failed jobs or allocations (not timed). "
			md_mounts+="
| $(cat "$DATA/mcount.$want") | $cfg | $m1 ($(iqr "$W/msteps.$want.$cfg")) | $(cnt "$W/msteps.$want.$cfg") | ×$(ratio "$m1" "$m0") | $j1 ($(iqr "$W/mjobs.$want.$cfg")) | $(cnt "$W/mjobs.$want.$cfg") | ×$(ratio "$j1" "$j0") |"
		done
	done
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
new_doc=$(mktemp "$W/doc.XXXXXX")
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

Target (issue \"One namespace per job\"): steps within ×1.05 of none at 10, 1,000 and 5,000 mounts, new jobs no worse than before. Seed anchor: unshare+binds 0.3 / 1.8 / 7.0 ms at 10 / 1,000 / 5,000 host mounts. ${ANALYSIS_MOUNTS:-} ${FAILED_NOTE:-}"
	fi
} >>"$DOC"
say "wrote $DOC"
