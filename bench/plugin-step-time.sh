#!/bin/bash
# bench/plugin-step-time.sh - the plugin's own time in a step, from
# slurmd's log: one allocation of STEPS steps (srun true) on the bench's
# cluster (its own lab and ports, as bench/job-latency.sh), and for each
# step the time from the plugin's load line to its "private directories
# mounted" line (SlurmdDebug=debug; the log stamps milliseconds). The first
# step makes the job's namespace (and hands it to a holder), the others
# join it. ALLOCS (default 5) allocations, one after the other.
# PTD_PLUGIN_SO: the build to measure (default this tree's). ARGS: the
# plugstack line's options (default the seed's; for example with tmpdir=,
# tmpdir_var= and runtime= to see what the job's environment costs a step).
# Run as root after npm run build. Prints the first steps' median and mean,
# the later steps' median and mean, in ms, and for later steps the mean
# from the load line to slurmstepd's "Sending launch resp" (every task
# forked): what the plugin adds anywhere in the step's start, Slurm's work
# after init_post_opt and the plugin's task_post_fork included.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/bench-lab.sh"
STEPS=${STEPS:-20}
ALLOCS=${ALLOCS:-5}
SO=${PTD_PLUGIN_SO:-$REPO/dist/native/private-tmpdir.so}
FIRST_JOB_ID=${FIRST_JOB_ID:-800000}
ps=$PTD_LAB/etc/plugstack.step-time.conf
install -d -m 0755 "$PTD_LAB/etc" "$PTD_LAB/out"
ARGS=${ARGS:-base=/tmp/slurm mount=/var/tmp mount=/tmp}
echo "required $SO $ARGS" >"$ps"
trap 'bash "$REPO/tests/slurm/cluster.sh" stop >/dev/null 2>&1 || true' EXIT
PLUGSTACK=$ps EXTRA_CONF="FirstJobId=$FIRST_JOB_ID" bash "$REPO/tests/slurm/cluster.sh" start >/dev/null 2>&1
jobs=()
for _ in $(seq "$ALLOCS"); do
	jobs+=("$(cd "$PTD_LAB/out" && runuser -u ptd-alice -- env SLURM_CONF="$SLURM_CONF" \
		salloc -N1 bash -c "for i in \$(seq $STEPS); do srun true; done; echo \$SLURM_JOB_ID" 2>/dev/null | tail -n 1)")
done
python3 - "$PTD_LAB/log/slurmd.log" "$SO" "${jobs[@]}" <<'PY'
import re, statistics, sys
from datetime import datetime
first, later, launch = [], [], []
for job in sys.argv[3:]:
    loaded, mounted, started = {}, {}, {}
    for l in open(sys.argv[1]):
        m = re.match(r'\[(\S+)\] \[' + job + r'\.(\d+)\] (.*)', l)
        if not m:
            continue
        t, step, text = datetime.fromisoformat(m.group(1)), int(m.group(2)), m.group(3)
        if 'private-tmpdir: loaded' in text:
            loaded[step] = t
        elif 'private directories mounted' in text:
            mounted[step] = t
        elif 'Sending launch resp' in text and step not in started:
            started[step] = t
    ms = [(mounted[s] - loaded[s]).total_seconds() * 1000 for s in sorted(mounted) if s in loaded]
    if len(ms) < 2:
        sys.exit(f"job {job}: only {len(ms)} steps with both lines in the log")
    first.append(ms[0])
    later += ms[1:]
    launch += [(started[s] - loaded[s]).total_seconds() * 1000 for s in sorted(started) if s in loaded][1:]
# The log stamps whole milliseconds: a median of 1 and one of 2 can be a
# tenth of a millisecond apart. The means (the rounding averages out over
# many steps, as their start is not tied to the clock's millisecond) are
# what to compare between builds.
print(f"{sys.argv[2]}: {len(first)} jobs; first step (makes the namespace) median {statistics.median(first):.0f} ms, "
      f"mean {statistics.mean(first):.2f} ms (each: {' '.join(f'{x:.0f}' for x in first)}); later steps (join) "
      f"median {statistics.median(later):.0f} ms, mean {statistics.mean(later):.2f} ms over {len(later)}, "
      f"max {max(later):.0f} ms (log resolution 1 ms); later steps from the plugin's load to the launch "
      f"response, every task forked (the plugin's task_post_fork included, and Slurm's share) mean "
      f"{statistics.mean(launch):.2f} ms")
PY
