/* The election lock <dir>/<name>.lock (nsholder.h): whoever holds it
 * decides whether a holder runs, and a holder holds it until it listens. */
#ifndef PTD_NS_LOCK_H
#define PTD_NS_LOCK_H

#include "fs/detail.h"

/* Every wait on another process is bounded (#21): a holder's setup (its
 * binds and mounts: a few system calls per mount point) ends within
 * PTD_NS_SETUP_MAX_MS or the holder is killed by its own alarm, wherever
 * it is blocked (a hung NFS or FUSE mount under a walk); the election
 * lock, which a holder (or a step making the namespace it hands off)
 * holds during its setup, is waited for at most timeout_ms. */
#define PTD_NS_SETUP_MAX_MS 10000
#define PTD_NS_LOCK_TIMEOUT_MS (PTD_NS_SETUP_MAX_MS + 2000)

/* Takes the election lock <dir>/<name>.lock (flock, exclusive), waiting
 * at most timeout_ms (-ETIMEDOUT, the reason in d): the file is made when
 * missing, and may be removed under the lock (ptd_ns_unlock_remove), so
 * the lock is only taken once the locked file still is the one of that
 * name. */
int ptd_ns_lock(int dir_fd, const char *name, int timeout_ms, int *ret_fd,
		struct ptd_detail *d);

/* Removes the lock file, then unlocks (closes lock_fd): once the job's
 * holder is gone, nothing of the job is left in dir. 0 or -errno. */
int ptd_ns_unlock_remove(int dir_fd, const char *name, int lock_fd);

#endif
