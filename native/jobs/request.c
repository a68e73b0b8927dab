/* A job's --tmp from Slurm's controller (request.h). */
#include "jobs/request.h"

#include <errno.h>
#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <string.h>

/* Weak: a host that loads the plugin without libslurm (its own tests' stub
 * host) still loads it; such a host has no controller to ask. */
#pragma weak slurm_load_job
#pragma weak slurm_free_job_info_msg
#pragma weak slurm_strerror

int ptd_slurm_load_job(uint32_t jobid, job_info_msg_t **ret_msg,
		       struct ptd_detail *d)
{
	job_info_msg_t *msg = NULL;
	int r;

	*ret_msg = NULL;
	if (!slurm_load_job || !slurm_free_job_info_msg || !slurm_strerror) {
		ptd_say(d->text, "this host has no libslurm to ask with");
		return -ENOSYS;
	}
	/* 26.05 names a job by its step id (and SLUID). */
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(26, 5, 0)
	slurm_step_id_t id = {
		.job_id = jobid,
		.step_id = NO_VAL,
		.step_het_comp = NO_VAL,
	};

	r = slurm_load_job(&msg, id, SHOW_DETAIL);
#else
	r = slurm_load_job(&msg, jobid, SHOW_DETAIL);
#endif
	if (r != SLURM_SUCCESS) {
		/* Slurm sets errno (24.11 dropped slurm_get_errno). */
		int e = errno;

		ptd_say(d->text, "slurm_load_job: %s", slurm_strerror(e));
		return -EIO;
	}
	if (!msg || msg->record_count < 1) {
		ptd_say(d->text, "slurm_load_job: no such job");
		if (msg)
			slurm_free_job_info_msg(msg);
		return -ENOENT;
	}
	*ret_msg = msg;
	return 0;
}

int ptd_slurm_job_request(uint32_t jobid, uint32_t *ret_mb,
			  struct ptd_detail *d)
{
	job_info_msg_t *msg;
	int r = ptd_slurm_load_job(jobid, &msg, d);

	*ret_mb = 0;
	if (r < 0)
		return r;
	*ret_mb = msg->job_array[0].pn_min_tmp_disk;
	slurm_free_job_info_msg(msg);
	return 0;
}
