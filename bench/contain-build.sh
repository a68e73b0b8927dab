#!/bin/bash
# bench/contain-build.sh - below the floor (#22): what private-tmpdir-contain.so
# (the plugin without a job epilog, for PrologFlags=Contain) saves a new job,
# against the same cluster with no plugin, in one run with the
# configurations alternating ROUNDS times:
#   none       no plugin, no Contain
#   contain    no plugin, PrologFlags=Contain (the baseline of the rest)
#   plugin     private-tmpdir.so, Contain (slurmd runs its SPANK epilog)
#   containso  private-tmpdir-contain.so, Contain (no epilog process)
# Two measures as ptd-alice, on the bench's cluster (its own lab and ports,
# as bench/job-latency.sh):
#   new job    `srun -N1 true` back to back, srun's start to its return
#   node done  a job at a time: from srun's return to slurmd's "sent epilog
#              complete msg" for it (its log's millisecond stamp): how long
#              the node still works on the job; slurmctld marks it
#              COMPLETED on that message. Not for none: with no extern step
#              and no SPANK epilog slurmd answers the job's end at once,
#              with no line to time it by
# Run as root after npm run build; in a release root (tests/slurm/
# release-root.sh enter) with PTD_PLUGIN_SO naming that root's plugin (the
# contain build beside it). Prints a markdown table.
#   JOBS=30 DONE_JOBS=15 ROUNDS=2 CONFIGS="none contain plugin containso" KEEP=
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/bench-lab.sh"
JOBS=${JOBS:-30}
DONE_JOBS=${DONE_JOBS:-15}
ROUNDS=${ROUNDS:-2}
CONFIGS=${CONFIGS:-none contain plugin containso}
SO=${PTD_PLUGIN_SO:-$REPO/dist/native/private-tmpdir.so}
CONTAIN_SO=$(dirname "$SO")/private-tmpdir-contain.so
ARGS="base=/tmp/slurm mount=/var/tmp mount=/tmp"
OUT=$(mktemp -d /var/tmp/ptd-contain-build.XXXXXX)
# KEEP=dir: the raw samples and slurmd's logs are copied there.
trap 'bash "$REPO/tests/slurm/cluster.sh" stop >/dev/null 2>&1 || true
	[ -z "${KEEP:-}" ] || cp -r "$OUT/." "$KEEP/"; rm -rf "$OUT"' EXIT
[ -r "$SO" ] && [ -r "$CONTAIN_SO" ] || { echo "no $SO or $CONTAIN_SO: npm run build" >&2; exit 2; }
install -d -m 0755 "$PTD_LAB/etc" "$PTD_LAB/out"

for round in $(seq "$ROUNDS"); do
	for c in $CONFIGS; do
		ps=$PTD_LAB/etc/plugstack.contain-build.conf
		extra="PrologFlags=Contain"
		case $c in
		none) : >"$ps"; extra="" ;;
		contain) : >"$ps" ;;
		plugin) echo "required $SO $ARGS" >"$ps" ;;
		containso) echo "required $CONTAIN_SO $ARGS" >"$ps" ;;
		*) echo "unknown configuration $c" >&2; exit 2 ;;
		esac
		echo "bench/contain-build.sh: round $round, $c" >&2
		PLUGSTACK=$ps EXTRA_CONF=$extra bash "$REPO/tests/slurm/cluster.sh" start >/dev/null 2>&1
		log=$PTD_LAB/log/slurmd.log
		# One job first: the plugin must really be loaded (and warm).
		as_alice srun -N1 true
		case $c in plugin | containso)
			grep -q 'private-tmpdir: loaded' "$log" || { echo "$c: the plugin was not loaded" >&2; exit 1; } ;;
		esac
		as_alice bash -c 'for ((i = 0; i < $1; i++)); do
				t0=${EPOCHREALTIME/./}; srun -N1 true || exit 1; t1=${EPOCHREALTIME/./}
				echo $((t1 - t0))
			done' _ "$JOBS" >>"$OUT/$c.new"
		# A job at a time, each waited for in slurmd's log (root's to read).
		# Not without Contain and a plugin: slurmd answers the job's end at
		# once there (nothing to wait for, no epilog) and logs no line.
		[ "$c" = none ] && : >"$OUT/$c.$round.ids" && : >"$OUT/$c.$round.log"
		[ "$c" = none ] || for ((i = 0; i < DONE_JOBS; i++)); do
			as_alice bash -c 'id=$(srun -N1 printenv SLURM_JOB_ID) || exit 1; echo "$id ${EPOCHREALTIME/./}"' >>"$OUT/$c.$round.ids"
			id=$(tail -n 1 "$OUT/$c.$round.ids" | cut -d' ' -f1)
			for ((k = 0; k < 2000; k++)); do
				grep -q -E "JobId=$id( SLUID=[^:]*)?: sent epilog complete msg" "$log" && break
				sleep 0.005
			done
		done
		[ "$c" = none ] || cp "$log" "$OUT/$c.$round.log"
		bash "$REPO/tests/slurm/cluster.sh" stop >/dev/null 2>&1
	done
done

python3 - "$OUT" $CONFIGS <<'PY'
import glob, re, statistics, sys, time
from datetime import datetime
out, configs = sys.argv[1], sys.argv[2:]
def med(v):
    return statistics.median(v) if v else float("nan")
new, done = {}, {}
for c in configs:
    new[c] = [int(x) / 1000 for x in open(f"{out}/{c}.new").read().split()]
    done[c] = []
    for ids in sorted(glob.glob(f"{out}/{c}.*.ids")):
        sent = {}
        for l in open(ids[:-4] + ".log"):
            m = re.match(r"\[(\S+)\] .*JobId=(\d+)( SLUID=[^:]*)?: sent epilog complete msg", l)
            if m:
                sent[m.group(2)] = datetime.fromisoformat(m.group(1)).timestamp() * 1000
        for l in open(ids):
            job, t1 = l.split()
            if job in sent:
                done[c].append(sent[job] - int(t1) / 1000)
base = "contain" if "contain" in configs else configs[0]
print(f"| measure | " + " | ".join(configs) + " |")
print("|---|" + "---|" * len(configs))
for name, d in (("new job (`srun -N1 true`), ms", new), ("node done after srun returns, ms", done)):
    b = med(d[base])
    cells = []
    for c in configs:
        m = med(d[c])
        cells.append("-" if m != m else f"{m:.1f}" if c == base else f"{m:.1f} (×{m / b:.2f})")
    print(f"| {name} | " + " | ".join(cells) + " |")
print(f"\nn: new job {', '.join(f'{c} {len(new[c])}' for c in configs)}; node done {', '.join(f'{c} {len(done[c])}' for c in configs)}; ratios against `{base}`")
PY
