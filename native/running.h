/* Whether a job still runs on this node: the orphan sweep's one question. */
#ifndef PTD_RUNNING_H
#define PTD_RUNNING_H

#include <stdbool.h>
#include <stdint.h>

/*
 * True if a step of jobid may run on this host: this slurmd's spool holds a
 * step socket of it, or any root process is a slurmstepd of it (another
 * slurmd on the same host, a spool this process cannot read). Any doubt
 * answers true: a wrong "no" would remove a running job's /tmp, a wrong
 * "yes" only leaves a directory for a later sweep.
 */
bool ptd_job_runs_here(uint32_t jobid);

#endif
