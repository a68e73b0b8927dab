/* Which jobs slurmctld still holds: the sweep's authority on what ended. */
#ifndef PTD_CONTROLLER_H
#define PTD_CONTROLLER_H

#include <stddef.h>

#include "jobs/jobset.h"

/* A bound on the whole question: squeue's own retries to a controller that
 * is down take longer, and a remover must not hang on them. */
#define PTD_CTL_TIMEOUT_MS 30000

/*
 * The ids of every job slurmctld holds in a state that is not final
 * (pending, running, suspended, completing, requeued, anything it may add),
 * in every partition, hidden ones included: squeue run as root with the
 * configuration slurmd uses (conf, NULL for squeue's default), within
 * timeout_ms. A job absent from the answer, or in a final state, has ended
 * everywhere. 0 with the set filled; any doubt (no squeue, an exit status
 * other than 0, a line it cannot read, the time spent) is -errno with the
 * reason in why, and the set must not be used: the caller then keeps
 * everything.
 */
int ptd_ctl_jobs(const char *squeue, const char *conf, int timeout_ms,
		 struct ptd_jobset *ret, char *why, size_t why_size);

/* The squeue root can trust beside the running daemon (its installation's
 * bin/, then /usr/bin, /usr/local/bin): a regular file of root's that only
 * root can write. NULL if none. */
const char *ptd_ctl_squeue(char *buf, size_t size);

#endif
