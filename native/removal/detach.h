/* Running work after the caller has returned, outside its process group. */
#ifndef PTD_DETACH_H
#define PTD_DETACH_H

#include <stdbool.h>

/*
 * Runs fn(arg) in a grandchild that has left the caller's session and
 * process group (double fork + setsid), with stdin, stdout and stderr on
 * /dev/null and every other descriptor closed but keep_fd (-1: none) and
 * the log's (regular files open for writing), at idle CPU and I/O priority.
 * It leaves any Slurm job's cgroups it was started in (a step's
 * slurmstepd), for the top of each hierarchy.
 * The caller may be multi-threaded (slurmstepd): the child only uses
 * malloc (glibc resets its locks in a fork's child), Slurm's log (which
 * does too, pthread_atfork) and system calls. slurmd runs the epilog
 * with run_command(), which reads the child's stdout until EOF and then
 * kills its process group: anything less and slurmd would wait for the
 * work or kill it. Returns 0 once the grandchild is started, or -errno.
 */
int ptd_detach(void (*fn)(void *arg), void *arg, int keep_fd);

/* What ptd_detach_how does besides the double fork, the new session and
 * stdio on /dev/null. */
struct ptd_detach_how {
	const int *keep_fds;	/* descriptors the grandchild keeps open */
	int n_keep_fds;
	bool idle;		/* idle CPU and I/O priority (the remover) */
	bool leave_job_cgroups;	/* out of a Slurm job's cgroups (above) */
};

/* ptd_detach with a choice: a namespace holder (nsholder.h) keeps two
 * descriptors and must not run at idle priority, or every step's join would
 * wait behind the job's own busy tasks. */
int ptd_detach_how(void (*fn)(void *arg), void *arg,
		   const struct ptd_detach_how *how);

/* The same, but returns instead of calling a function: 1 in the
 * grandchild (which must end in _exit, never return into code that
 * belongs to the caller's process), 0 in the caller once the grandchild is
 * started, or -errno. A namespace holder (nsholder.h) carries on with the
 * very plan its starter was running. */
int ptd_detach_fork(const struct ptd_detach_how *how);

/* Where the cgroup hierarchies are mounted ("/sys/fs/cgroup"). */
extern const char *ptd_cgroup_root;

#endif
