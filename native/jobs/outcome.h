/* Whether a job failed, as Slurm says it at the job's end (--keep-tmpdir
 * =failed, #26). The epilog is told in its environment (every release,
 * 22.05 to 26.05: SLURM_JOB_EXIT_CODE, the job's wait status, set by
 * slurmd's prep/script for every epilog it runs, the SPANK one included);
 * the extern step's end (PrologFlags=Contain, and RunInJob, where no SPANK
 * epilog runs) is not, and asks Slurm's controller, which has the job's
 * final state by then. Plugin only, never in a forked child of slurmstepd
 * (libslurm's locks). */
#ifndef PTD_OUTCOME_H
#define PTD_OUTCOME_H

#include <stdint.h>

#include "fs/detail.h"

/* 1 failed, 0 succeeded, or a negative errno with the reason in d->text. */
int ptd_slurm_job_failed(uint32_t jobid, struct ptd_detail *d);

#endif
