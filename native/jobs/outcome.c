/* Whether a job failed (outcome.h). */
#include "jobs/outcome.h"
#include "jobs/request.h"

#include <errno.h>
#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <stdlib.h>
#include <string.h>

/* Weak, as in request.c: a host without libslurm still loads the plugin
 * (ptd_slurm_load_job then fails before this is ever called). */
#pragma weak slurm_free_job_info_msg


/* The epilog's word: the job's wait status, 0 for a job that succeeded. */
static int from_environment(void)
{
	const char *s = getenv("SLURM_JOB_EXIT_CODE");
	char *end;
	unsigned long v;

	if (!s || !*s)
		return -ENOENT;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return v != 0;
}

int ptd_slurm_job_failed(uint32_t jobid, struct ptd_detail *d)
{
	job_info_msg_t *msg;
	uint32_t state, base;
	int r = from_environment();

	if (r >= 0)
		return r;
	r = ptd_slurm_load_job(jobid, &msg, d);
	if (r < 0)
		return r;
	state = msg->job_array[0].job_state;
	r = msg->job_array[0].exit_code != 0;
	slurm_free_job_info_msg(msg);
	base = state & JOB_STATE_BASE;
	/* Ended: anything but COMPLETED is a failure (cancelled, timed out,
	 * out of memory, node failure...), as sacct counts it. */
	if (base > JOB_SUSPENDED)
		return base != JOB_COMPLETE || r;
	if (r)
		return 1;
	ptd_say(d->text, "Slurm's controller has the job still %s",
		base == JOB_RUNNING ? "running" : "pending or suspended");
	return -EAGAIN;
}
