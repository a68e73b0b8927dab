/* This thread's own ids: root for a while, then back. */
#ifndef PTD_THREADIDS_H
#define PTD_THREADIDS_H

#include <signal.h>
#include <sys/types.h>

#define PTD_THREAD_GROUPS_MAX 256

struct ptd_thread_ids {
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	int n_groups;
	gid_t groups[PTD_THREAD_GROUPS_MAX];
	sigset_t mask;		/* the thread's signal mask before */
};

/*
 * Makes the calling thread, and only it, root (uid, gids, no supplementary
 * groups), saving what it had. slurmstepd's other threads switch the
 * process's effective ids to the job's user for work of their own (24.11:
 * the extern step's X11 shutdown, beside slurm_spank_exit), and glibc's
 * set*id applies a change to every thread, each in a signal handler (its
 * SIGSETXID), the caller waiting for them all; the raw system calls used
 * here change the caller's alone. Until ptd_thread_restore the thread
 * blocks every signal, that one too: another thread's set*id then waits
 * for it instead of making it the user in the middle of its work, and it
 * can give back exactly what it saved. Whatever the thread waits for
 * meanwhile must never wait for a set*id. Needs a saved or real uid of 0.
 * Returns 0, or -errno with the thread's ids and signal mask as they were.
 */
int ptd_thread_become_root(struct ptd_thread_ids *saved);

/*
 * Gives the calling thread back the ids and signal mask saved: the
 * process's ids, since no set*id has landed on the thread in between. One
 * that waited then applies to this thread too, as to every other: the
 * thread never keeps ids of its own. (Putting back what the other threads
 * had, read from /proc, raced such a set*id: traced on 24.11, the thread
 * took ids the process was leaving. glibc aborts a process whose set*id
 * fails in some threads only, as a setgroups does in a thread left the
 * user's: the likely end of an extern slurmstepd seen gone without a word
 * right after the X11 shutdown, its job left COMPLETING.)
 */
void ptd_thread_restore(const struct ptd_thread_ids *saved);

#endif
