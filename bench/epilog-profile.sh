#!/bin/bash
# bench/epilog-profile.sh - where a job's epilog time goes, from slurmd's
# debug log (millisecond stamps), for JOBS back to back `srun -N1 true`
# jobs as ptd-alice on the bench's cluster (its own lab and ports, as
# bench/job-latency.sh), per build, the builds alternating ROUNDS times:
#   exec   slurmd's "calling ... spank epilog" to "Running spank/epilog"
#          (fork and exec of slurmstepd, its plugins loaded): any plugin
#          with a SPANK job epilog pays it
#   ours   from there to the plugin's "taken out of reach" line (its init,
#          the holder's release, the renames)
#   after  from there to "completed epilog" (the remover's start when the
#          epilog starts one, the process's exit, slurmd's reaping poll)
#   total  "calling" to "completed epilog": the node stays COMPLETING
# and how many epilogs started no remover (one was at work already).
# "floor" is bench/noop_spank.c with a job epilog that does nothing: what
# any SPANK plugin with a job epilog costs (it has no "ours" line; its
# "after" runs from "Running spank/epilog").
# BUILDS="name=/path/to/private-tmpdir.so ..." (default: this tree's).
# Run as root after npm run build; in a release root (tests/slurm/
# release-root.sh enter) with BUILDS naming that root's plugin. Prints a
# markdown table.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/bench-lab.sh"
JOBS=${JOBS:-30}
ROUNDS=${ROUNDS:-2}
BUILDS=${BUILDS:-this=$REPO/dist/native/private-tmpdir.so}
OUT=$(mktemp -d /var/tmp/ptd-epilog-profile.XXXXXX)
trap 'bash "$REPO/tests/slurm/cluster.sh" stop >/dev/null 2>&1 || true; rm -rf "$OUT"' EXIT
install -d -m 0755 "$PTD_LAB/etc" "$PTD_LAB/out" "$PTD_LAB/bench"
FLOOR=$PTD_LAB/bench/noop_epilog_spank.so
gcc -shared -fPIC -O2 -Wall -Werror -DNOOP_JOB_EPILOG -o "$FLOOR" "$REPO/bench/noop_spank.c"
BUILDS="floor=$FLOOR $BUILDS"

for round in $(seq "$ROUNDS"); do
	for b in $BUILDS; do
		name=${b%%=*} so=${b#*=}
		ps=$PTD_LAB/etc/plugstack.epilog-profile.conf
		if [ "$name" = floor ]; then
			echo "required $so" >"$ps"
		else
			echo "required $so base=/tmp/slurm mount=/var/tmp mount=/tmp" >"$ps"
		fi
		echo "bench/epilog-profile.sh: round $round, $name" >&2
		PLUGSTACK=$ps bash "$REPO/tests/slurm/cluster.sh" start >/dev/null 2>&1
		ids=()
		for _ in $(seq "$JOBS"); do
			ids+=("$(cd "$PTD_LAB/out" && runuser -u ptd-alice -- env SLURM_CONF="$SLURM_CONF" \
				srun -N1 bash -c 'echo $SLURM_JOB_ID')")
		done
		# The last epilog's lines, then the cluster goes (and its log
		# with the next start's rotation).
		for _ in $(seq 100); do
			grep -q -E "completed epilog for (jobid ${ids[-1]}\$|JobId=${ids[-1]} )" "$PTD_LAB/log/slurmd.log" && break
			sleep 0.1
		done
		cp "$PTD_LAB/log/slurmd.log" "$OUT/$name.$round.log"
		echo "${ids[*]}" >"$OUT/$name.$round.ids"
		bash "$REPO/tests/slurm/cluster.sh" stop >/dev/null 2>&1
	done
done

python3 - "$OUT" $BUILDS <<'PY'
import glob, re, statistics, sys
from datetime import datetime
out, builds = sys.argv[1], [b.split("=", 1)[0] for b in sys.argv[2:]]
def t(line):
    return datetime.fromisoformat(line[1:24])
print("| build | epilogs | exec | ours | after | total | started no remover |")
print("|---|---|---|---|---|---|---|")
for name in builds:
    cols = {"exec": [], "ours": [], "after": [], "total": []}
    n = covered = 0
    for log in sorted(glob.glob(f"{out}/{name}.*.log")):
        ids = open(log[:-4] + ".ids").read().split()
        lines = open(log).read().split("\n")
        for job in ids:
            call = run = ours = done = None
            for i, l in enumerate(lines):
                # 26.05: "completed epilog for JobId=N SLUID=..."
                if l.endswith("completed epilog for jobid " + job) or f"completed epilog for JobId={job} " in l:
                    done = i
                    break
            if done is None:
                continue
            for i in range(done, -1, -1):
                l = lines[i]
                if ours is None and f"private-tmpdir: job {job}: " in l and "taken out of reach" in l:
                    ours = i
                elif run is None and f"Running spank/epilog for jobid [{job}]" in l:
                    run = i
                elif "calling /usr/sbin/slurmstepd spank epilog" in l:
                    call = i
                    break
            if None in (call, run) or (ours is None and name != "floor"):
                continue
            n += 1
            if ours is None:
                ours = run
            covered += "by the remover already at work" in lines[ours]
            c, r, o, d = (t(lines[k]) for k in (call, run, ours, done))
            ms = lambda a, b: (b - a).total_seconds() * 1000
            cols["exec"].append(ms(c, r)); cols["ours"].append(ms(r, o))
            cols["after"].append(ms(o, d)); cols["total"].append(ms(c, d))
    if not n:
        sys.exit(f"{name}: no epilog with every line in the log")
    med = {k: statistics.median(v) for k, v in cols.items()}
    if name == "floor":
        print(f"| floor (a plugin whose job epilog does nothing) | {n} | {med['exec']:.0f} ms | - | {med['after']:.0f} ms | {med['total']:.0f} ms | - |")
    else:
        print(f"| {name} | {n} | {med['exec']:.0f} ms | {med['ours']:.0f} ms | {med['after']:.0f} ms | {med['total']:.0f} ms | {covered} of {n} |")
PY
