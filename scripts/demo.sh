#!/bin/bash
# The product, end to end, on a throwaway local Slurm: installs what is
# missing, builds the plugin, starts munge + slurmctld + slurmd with
#   required <repo>/dist/native/private-tmpdir.so base=/tmp/slurm mount=/var/tmp mount=/tmp
# runs a demo job as an unprivileged user, shows what the host saw, and stops
# exactly what it started. Run as root on a Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd -P)
bash scripts/deps.sh

export PTD_LAB=${PTD_LAB:-/var/spool/private-tmpdir-demo}
export CTLD_PORT=${CTLD_PORT:-6827} SLURMD_PORT=${SLURMD_PORT:-6828}
export SLURM_CONF=$PTD_LAB/etc/slurm.conf
install -d -m 0755 "$PTD_LAB/etc"
echo "required $REPO/dist/native/private-tmpdir.so base=/tmp/slurm mount=/var/tmp mount=/tmp" \
	> "$PTD_LAB/etc/plugstack.conf"
PLUGSTACK=$PTD_LAB/etc/plugstack.conf bash tests/slurm/cluster.sh start
trap 'bash "$REPO/tests/slurm/cluster.sh" stop >/dev/null' EXIT

cd "$PTD_LAB/out"
echo
echo "== a job of ptd-alice writes to /tmp and /var/tmp, and looks around"
runuser -u ptd-alice -- srun -N1 bash -c '
	echo "job $SLURM_JOB_ID on $(hostname -s) as $(id -un)"
	echo hello > /tmp/hello; echo world > /var/tmp/world
	findmnt -n -o TARGET,SOURCE --target /tmp
	findmnt -n -o TARGET,SOURCE --target /var/tmp
	ls -la /tmp /var/tmp
	echo "$SLURM_JOB_ID" > '"$PTD_LAB"'/out/demo.jobid'
job=$(cat "$PTD_LAB/out/demo.jobid")
echo
echo "== the host's /tmp holds no hello:"; ls /tmp | grep -x hello || echo "(none)"
echo
echo "== slurmd's log: the plugin loaded, made, and (after the job) removed /tmp/slurm.$job.0"
for i in $(seq 50); do grep -q "job $job uid" "$PTD_LAB/log/slurmd.log" && break; sleep 0.1; done
grep 'private-tmpdir' "$PTD_LAB/log/slurmd.log" | grep -E "loaded|job $job" | sed 's/^/  /'
[ -e "/tmp/slurm.$job.0" ] && echo "still there: /tmp/slurm.$job.0" || echo "/tmp/slurm.$job.0 is gone"
