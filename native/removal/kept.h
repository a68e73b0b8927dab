/* Kept trees (#26): a job's directories kept for its user after the job
 * (--keep-tmpdir), in "<base>.kept" (root's, KEPT_MODE) under their own
 * names, each 0700 and its user's; beside each, the root-owned ".<name>"
 * (a user can touch their tree, never this): its mtime is when it was
 * kept, its content when it goes, "<expires>" in seconds since the epoch
 * (keep= at the time of the keep), then " <uid> <bytes> <files>" once the
 * sweep has measured the tree. Removed by the sweep when their time is up,
 * or to stay within the admin's budget, through the holding place. */
#ifndef PTD_KEPT_H
#define PTD_KEPT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "fs/detail.h"

/* KEEP_ASK: leaves mode (PTD_U_KEEP_FAILED or PTD_U_KEEP_ALWAYS) in the
 * root-only file dir_fd/name, made or replaced. */
int ptd_keep_ask(int dir_fd, const char *name, int mode, struct ptd_detail *d);

/* KEEP_ASKED: the mode dir_fd/name holds (0: none), then removes it. */
int ptd_keep_asked(int dir_fd, const char *name, struct ptd_detail *d);

/*
 * KEEP_AT: every directory "<prefix><decimal>" of parent_fd owned by uid is
 * renamed into kept_fd under its own name (never replacing one), made
 * 0700, its ".<name>" record made first. A notice names each, with
 * kept_path and the time it goes (ttl seconds from now). What is not a
 * directory of uid's stays for the removal. Returns the number kept or
 * the first -errno.
 */
int ptd_keep_at(int kept_fd, int parent_fd, const char *prefix,
		const char *kept_path, uid_t uid, int ttl,
		struct ptd_detail *d);

/*
 * KEPT_SWEEP, under kept_fd's flock: each tree of kept_fd past the time its
 * record says (ttl: the keep= of the plan, only checked) or without one, not a directory, or (looked through once, when
 * first measured) with a mount or a file of another user than its own and
 * root inside, is moved into hold_fd; then the oldest, until the rest take
 * at most max MiB (share: max percent of kept_fd's filesystem). Records
 * without a tree are removed. Sets ptd_kept_wake to the next expiry left
 * (if earlier than it is), and takes the place's waiter lock for this
 * process when it can (ptd_kept_timer_fd). A notice for each tree moved.
 */
int ptd_kept_sweep(int kept_fd, int hold_fd, const char *path, int ttl,
		   uint32_t max, bool share, struct ptd_detail *d);

/* The earliest time (CLOCK_REALTIME seconds) a tree the sweeps of this
 * process left is due; 0: none. */
extern time_t ptd_kept_wake;

/* The waiter lock this process holds (the root-only ".waiter" in a kept
 * place, flocked), or -1: the process that holds it sleeps until
 * ptd_kept_wake and sweeps again, so no tree outlives its time on an idle
 * node; every other remover leaves that to it. */
extern int ptd_kept_timer_fd;

#endif
