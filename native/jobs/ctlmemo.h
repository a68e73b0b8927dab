/* slurmctld's last answer, kept for a minute: a node with an idle
 * allocation would otherwise ask at every other job's end there. */
#ifndef PTD_CTLMEMO_H
#define PTD_CTLMEMO_H

#include <time.h>

#include "jobs/jobset.h"

/* Kept in /run/private-tmpdir (root's, 0700; only root creates names in
 * /run), for at most this long. */
#define PTD_MEMO_MAX_AGE_S 60

/* The answer asked at *ret_at (CLOCK_REALTIME), if one of at most
 * PTD_MEMO_MAX_AGE_S is kept: 0 with the set filled, else -errno (none, too
 * old, not root's, unreadable: ask again). A job absent from it had ended
 * by *ret_at, if anything of it existed before then. */
int ptd_memo_load(const char *cluster, struct ptd_jobset *ret_held,
		  struct timespec *ret_at);

/* Keeps an answer asked at at; best effort. cluster names whose answer it
 * is (the configuration it was asked with): two clusters on one host, as
 * in a lab, never share one. */
void ptd_memo_save(const char *cluster, const struct ptd_jobset *held,
		   const struct timespec *at);

#endif
