#!/bin/bash
# bench/plugin-step-time.sh - the plugin's own time in a step, from
# slurmd's log: one allocation of STEPS steps (srun true) on the bench's
# cluster (its own lab and ports, as bench/job-latency.sh), and for each
# step the time from the plugin's load line to its "private directories
# mounted" line (SlurmdDebug=debug; the log stamps milliseconds). The first
# step starts the job's namespace holder, the others join it.
# Run as root after npm run build. Prints the first step's time and the
# later steps' median, in ms.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
export PTD_LAB=${PTD_LAB:-/var/spool/ptd-bench-lab}
export CTLD_PORT=${CTLD_PORT:-6917} SLURMD_PORT=${SLURMD_PORT:-6918}
export SLURM_CONF=$PTD_LAB/etc/slurm.conf
STEPS=${STEPS:-20}
FIRST_JOB_ID=${FIRST_JOB_ID:-800000}
ps=$PTD_LAB/etc/plugstack.step-time.conf
install -d -m 0755 "$PTD_LAB/etc" "$PTD_LAB/out"
echo "required $REPO/dist/native/private-tmpdir.so base=/tmp/slurm mount=/var/tmp mount=/tmp" >"$ps"
trap 'bash "$REPO/tests/slurm/cluster.sh" stop >/dev/null 2>&1 || true' EXIT
PLUGSTACK=$ps EXTRA_CONF="FirstJobId=$FIRST_JOB_ID" bash "$REPO/tests/slurm/cluster.sh" start >/dev/null 2>&1
job=$(cd "$PTD_LAB/out" && runuser -u ptd-alice -- env SLURM_CONF="$SLURM_CONF" \
	salloc -N1 bash -c "for i in \$(seq $STEPS); do srun true; done; echo \$SLURM_JOB_ID" 2>/dev/null | tail -n 1)
python3 - "$PTD_LAB/log/slurmd.log" "$job" <<'PY'
import re, statistics, sys
from datetime import datetime
loaded, mounted = {}, {}
for l in open(sys.argv[1]):
    m = re.match(r'\[(\S+)\] \[' + sys.argv[2] + r'\.(\d+)\] (.*)', l)
    if not m:
        continue
    t, step, text = datetime.fromisoformat(m.group(1)), int(m.group(2)), m.group(3)
    if 'private-tmpdir: loaded' in text:
        loaded[step] = t
    elif 'private directories mounted' in text:
        mounted[step] = t
ms = [(mounted[s] - loaded[s]).total_seconds() * 1000 for s in sorted(mounted) if s in loaded]
if len(ms) < 2:
    sys.exit(f"only {len(ms)} steps with both lines in the log")
print(f"job {sys.argv[2]}: {len(ms)} steps; first step (starts the holder) {ms[0]:.0f} ms; "
      f"later steps (join) median {statistics.median(ms[1:]):.0f} ms, max {max(ms[1:]):.0f} ms (log resolution 1 ms)")
PY
