// Where the lab lives: the layout of the real Slurm that
// tests/slurm/cluster.sh runs for the end-to-end tests (it documents the
// layout), and the users it creates.
//
// Everything jobs or slurmstepd touch lives under PTD_LAB
// (/var/spool/private-tmpdir-lab by default), never under /tmp: the plugin
// gives jobs a private /tmp. Client commands get SLURM_CONF explicitly.
import { join } from "node:path";

export const LAB = process.env["PTD_LAB"] ?? "/var/spool/private-tmpdir-lab";
export const SLURM_CONF = join(LAB, "etc", "slurm.conf");
export const PLUGSTACK_CONF = join(LAB, "etc", "plugstack.conf");
/** Job output and the working directory of every command: mode 1777. */
export const OUT_DIR = join(LAB, "out");
export const SLURMD_LOG = join(LAB, "log", "slurmd.log");
export const SLURMCTLD_LOG = join(LAB, "log", "slurmctld.log");
/** What cluster.sh records of the running cluster (see clusterInfo()). */
export const CLUSTER_ENV = join(LAB, "run", "cluster.env");

/** Unprivileged users cluster.sh creates (normal users, homes in /home). */
export const ALICE = "ptd-alice";
export const MALLORY = "ptd-mallory";
