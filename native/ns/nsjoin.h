/* Joining a job's kept namespace, and releasing it (nsholder.h). */
#ifndef PTD_NSJOIN_H
#define PTD_NSJOIN_H

#include <stdbool.h>
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "fs/detail.h"

/*
 * Asks the holder of <dir>/<name>.sock (nsholder.h: dir's rules, both ends
 * root) for its mount namespace: *ret_fd, close-on-exec, checked to be a
 * mount namespace. -ENOENT: no holder; -ECONNREFUSED: a stale socket;
 * -EPERM: not served by root; -ECONNRESET: the holder answered nothing (it
 * refused us, or its setup failed); -ETIMEDOUT after timeout_ms (> 0; a
 * holder still in its setup makes joiners wait for it).
 */
int ptd_ns_fetch(const char *dir, const char *name, int timeout_ms,
		 int *ret_fd, struct ptd_detail *d);

/* ptd_ns_fetch in a directory already opened (ptd_ns_check_dir), with the
 * holder's tag in *ret_tag if not NULL (0 from a holder that sends none). */
int ptd_ns_fetch_at(int dir_fd, const char *name, int timeout_ms,
		    int *ret_fd, uint64_t *ret_tag, struct ptd_detail *d);

/*
 * Moves the calling thread into the mount namespace ns_fd (not closed).
 * The kernel refuses setns(CLONE_NEWNS) to a thread that shares its
 * filesystem attributes with another (slurmstepd has several threads), so
 * the thread first gets its own (unshare(CLONE_FS)): from then on its cwd,
 * root and umask are its own, the other threads stay where they were, and
 * the children it forks are in the namespace. setns also sets cwd to the
 * namespace's "/": the thread returns to the directory it was in, by its
 * path when that names the same directory in the new namespace (so
 * getcwd() keeps working), else by a descriptor of it (the path is then
 * covered by a bind or gone). Returns 0 or -errno; after a failure of that
 * return the thread is already in the namespace.
 */
int ptd_ns_enter(int ns_fd, struct ptd_detail *d);

/* ptd_ns_fetch, ptd_ns_enter, close. */
int ptd_ns_join(const char *dir, const char *name, int timeout_ms,
		struct ptd_detail *d);

/*
 * Stops the holder of <dir>/<name>.sock ('Q') and waits up to timeout_ms
 * (> 0) for its 'q': it has removed its socket, and exits (its exit takes
 * the namespace's mounts down, off the caller's path). A holder that dies
 * instead of answering is waited for by a pidfd of the socket's listener
 * (SO_PEERPIDFD, 6.5+; else pidfd_open of its SO_PEERCRED pid). 0 also when there is nothing to stop; a
 * stale socket is removed. The namespace lives on while any process of the
 * job is in it, and goes with the last one.
 */
int ptd_ns_release(const char *dir, const char *name, int timeout_ms,
		   struct ptd_detail *d);

/* ptd_ns_release in a directory already opened (ptd_ns_check_dir). */
int ptd_ns_release_at(int dir_fd, const char *name, int timeout_ms,
		      struct ptd_detail *d);

/* Releases every holder in dir_fd whose name is prefix + a job id that
 * ended() says has ended (given when the job's newest entry there was
 * made): the remover's sweep at slurmd's start and after each job. ended
 * NULL: none (every job may still run). 0 or the first -errno (the others
 * are still tried). */
int ptd_ns_sweep(int dir_fd, const char *prefix,
		 bool (*ended)(uint32_t, const struct timespec *),
		 int timeout_ms, struct ptd_detail *d);

/* A listing of dir_fd (a descriptor of its own: dir_fd stays open), or
 * NULL with *ret_err and the reason in d. */
DIR *ptd_ns_list(int dir_fd, int *ret_err, struct ptd_detail *d);

/*
 * The job an ssh session of uid joins: the one whose holder's socket
 * "<prefix><id>.sock" in dir_fd is uid's (the holder makes it its job's
 * user's). Several: the one the cgroup file at cgroup_path (the session's
 * /proc/self/cgroup) names as "job_<id>", as pam_slurm_adopt adopts into
 * with proctrack/cgroup; else -ENOTUNIQ, never a guess. None: -ENOENT.
 * 0 with *ret_job and its holder's name (ret_name, name_size); the reason
 * in d otherwise.
 */
int ptd_ns_find_user_job(int dir_fd, const char *prefix, uid_t uid,
			 const char *cgroup_path, uint32_t *ret_job,
			 char *ret_name, size_t name_size,
			 struct ptd_detail *d);

#endif
