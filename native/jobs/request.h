/* A job's own --tmp, asked of Slurm's controller (disk= with request):
 * slurmd and slurmstepd are never told it, in any release (22.05 to
 * 26.05: no launch message, credential or environment carries
 * pn_min_tmp_disk). The plugin only, in slurmstepd, never in a forked
 * child of it (a holder), where libslurm's locks may be held. */
#ifndef PTD_REQUEST_H
#define PTD_REQUEST_H

#include <stdint.h>
#include <slurm/slurm.h>

#include "fs/detail.h"

/* The controller's record of the job (*ret_msg, one job at least; the
 * caller frees it with slurm_free_job_info_msg). 0, or a negative errno
 * with the reason in d->text. Shared by jobs/outcome.c. */
int ptd_slurm_load_job(uint32_t jobid, job_info_msg_t **ret_msg,
		       struct ptd_detail *d);

/* *ret_mb: the job's --tmp per node in MiB (0: none asked). 0, or a
 * negative errno with the reason in d->text. */
int ptd_slurm_job_request(uint32_t jobid, uint32_t *ret_mb,
			  struct ptd_detail *d);

#endif
