/* This thread's own ids: root for a while, then back. */
#ifndef PTD_THREADIDS_H
#define PTD_THREADIDS_H

#include <sys/types.h>

#define PTD_THREAD_GROUPS_MAX 256

struct ptd_thread_ids {
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	int n_groups;
	gid_t groups[PTD_THREAD_GROUPS_MAX];
};

/*
 * Makes the calling thread, and only it, root (uid, gids, no supplementary
 * groups), saving what it had. slurmstepd's other threads switch the
 * process's effective ids to the job's user for work of their own, and
 * glibc's set*id applies a change to every thread; the raw system calls
 * used here change the caller's alone. Needs a saved or real uid of 0.
 * Returns 0, or -errno with the thread's ids as they were.
 */
int ptd_thread_become_root(struct ptd_thread_ids *saved);

/*
 * Gives the calling thread the ids the process's other threads have (read
 * from /proc): what glibc's last set*id gave every thread, which may have
 * changed while this one was root. A process with no other thread gets
 * the ids saved.
 */
void ptd_thread_restore(const struct ptd_thread_ids *saved);

#endif
