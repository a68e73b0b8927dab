/* This thread's own ids (threadids.h). glibc's wrappers of these calls
 * would apply them to every thread of slurmstepd: the raw calls only. */
#define _GNU_SOURCE
#include "util/threadids.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's signal set, not glibc's 128-byte one: _NSIG counts 0. */
#define KERNEL_SIGSET_SIZE (_NSIG / 8)

static int sys_ok(long r)
{
	return r < 0 ? -errno : 0;
}

/* Back to saved, in the order that keeps the privilege to do so: the
 * groups and gids while still root, the uids last. */
static void put_back(const struct ptd_thread_ids *saved)
{
	(void) syscall(SYS_setgroups, (size_t) saved->n_groups, saved->groups);
	(void) syscall(SYS_setresgid, saved->rgid, saved->egid, saved->sgid);
	(void) syscall(SYS_setresuid, saved->ruid, saved->euid, saved->suid);
}

static void unblock(const struct ptd_thread_ids *saved)
{
	(void) syscall(SYS_rt_sigprocmask, SIG_SETMASK, &saved->mask, NULL,
		       KERNEL_SIGSET_SIZE);
}

int ptd_thread_become_root(struct ptd_thread_ids *saved)
{
	sigset_t all;
	long n;
	int r;

	/* Every signal, glibc's set*id one included: its sigfillset and
	 * sigprocmask leave that one out, hence memset and the raw call. */
	memset(&all, 0xff, sizeof(all));
	memset(&saved->mask, 0, sizeof(saved->mask));
	r = sys_ok(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &saved->mask,
			   KERNEL_SIGSET_SIZE));
	if (r < 0)
		return r;
	if (syscall(SYS_getresuid, &saved->ruid, &saved->euid,
		    &saved->suid) < 0 ||
	    syscall(SYS_getresgid, &saved->rgid, &saved->egid,
		    &saved->sgid) < 0) {
		r = -errno;
		unblock(saved);
		return r;
	}
	n = syscall(SYS_getgroups, PTD_THREAD_GROUPS_MAX, saved->groups);
	if (n < 0) {
		r = errno == EINVAL ? -E2BIG : -errno;
		unblock(saved);
		return r;
	}
	saved->n_groups = (int) n;
	/* The uid first: it gives back the capabilities the rest needs. */
	r = sys_ok(syscall(SYS_setresuid, 0, 0, 0));
	if (r == 0)
		r = sys_ok(syscall(SYS_setresgid, 0, 0, 0));
	if (r == 0)
		r = sys_ok(syscall(SYS_setgroups, 0, NULL));
	if (r < 0)
		ptd_thread_restore(saved);
	return r;
}

void ptd_thread_restore(const struct ptd_thread_ids *saved)
{
	/* Still the process's ids: no other thread's set*id has landed
	 * here meanwhile. One that is waiting lands once unblocked. */
	put_back(saved);
	unblock(saved);
}
