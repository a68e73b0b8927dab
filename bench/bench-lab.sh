# Sourced by the bench scripts (after REPO is set): the bench's own Slurm
# lab, tests/slurm/cluster.sh with a directory and ports of its own so it
# can run beside the e2e tests' cluster, and a way to run jobs as the
# unprivileged user ptd-alice from a working directory outside /tmp.
export PTD_LAB=${PTD_LAB:-/var/spool/ptd-bench-lab}
export CTLD_PORT=${CTLD_PORT:-6917} SLURMD_PORT=${SLURMD_PORT:-6918}
export SLURM_CONF=$PTD_LAB/etc/slurm.conf
CLUSTER_SH=$REPO/tests/slurm/cluster.sh

as_alice() {
	(cd "$PTD_LAB/out" && runuser -u ptd-alice -- env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
		SLURM_CONF="$SLURM_CONF" HOME=/home/ptd-alice "$@")
}
