/* This thread's own ids (threadids.h). glibc's wrappers of these calls
 * would apply them to every thread of slurmstepd: the raw calls only. */
#define _GNU_SOURCE
#include "util/threadids.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_ok(long r)
{
	return r < 0 ? -errno : 0;
}

/* "Groups:\t1 2 3" from a status file's line (after its name). */
static bool read_groups(const char *s, struct ptd_thread_ids *ids)
{
	char *end;

	ids->n_groups = 0;
	for (;;) {
		unsigned long g;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\n' || !*s)
			return true;
		if (ids->n_groups == PTD_THREAD_GROUPS_MAX)
			return false;
		errno = 0;
		g = strtoul(s, &end, 10);
		if (end == s || errno)
			return false;
		ids->groups[ids->n_groups++] = (gid_t) g;
		s = end;
	}
}

/* The ids of thread tid, from /proc (0), or -1. */
static int thread_ids(const char *tid, struct ptd_thread_ids *ids)
{
	char path[sizeof("/proc/self/task//status") + 256], line[4096];
	unsigned u[4], g[4];
	bool got_u = false, got_g = false, got_groups = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid:\t%u\t%u\t%u\t%u", &u[0], &u[1], &u[2],
			   &u[3]) == 4)
			got_u = true;
		else if (sscanf(line, "Gid:\t%u\t%u\t%u\t%u", &g[0], &g[1],
				&g[2], &g[3]) == 4)
			got_g = true;
		else if (!strncmp(line, "Groups:", 7))
			got_groups = read_groups(line + 7, ids);
	}
	fclose(f);
	if (!got_u || !got_g || !got_groups)
		return -1;
	ids->ruid = u[0], ids->euid = u[1], ids->suid = u[2];
	ids->rgid = g[0], ids->egid = g[1], ids->sgid = g[2];
	return 0;
}

/* The ids of another thread of this process: what glibc's last set*id
 * gave them all, so what the process runs with now. -1 if it has no
 * other thread, or none could be read. */
static int other_thread_ids(struct ptd_thread_ids *ids)
{
	char self[24];
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	int r = -1;

	if (!d)
		return -1;
	snprintf(self, sizeof(self), "%ld", (long) syscall(SYS_gettid));
	while (r < 0 && (e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, self))
			r = thread_ids(e->d_name, ids);
	closedir(d);
	return r;
}

/* Back to saved, in the order that keeps the privilege to do so: the
 * groups and gids while still root, the uids last. */
static void put_back(const struct ptd_thread_ids *saved)
{
	(void) syscall(SYS_setgroups, (size_t) saved->n_groups, saved->groups);
	(void) syscall(SYS_setresgid, saved->rgid, saved->egid, saved->sgid);
	(void) syscall(SYS_setresuid, saved->ruid, saved->euid, saved->suid);
}

int ptd_thread_become_root(struct ptd_thread_ids *saved)
{
	long n;
	int r;

	if (syscall(SYS_getresuid, &saved->ruid, &saved->euid,
		    &saved->suid) < 0 ||
	    syscall(SYS_getresgid, &saved->rgid, &saved->egid,
		    &saved->sgid) < 0)
		return -errno;
	n = syscall(SYS_getgroups, PTD_THREAD_GROUPS_MAX, saved->groups);
	if (n < 0)
		return errno == EINVAL ? -E2BIG : -errno;
	saved->n_groups = (int) n;
	/* The uid first: it gives back the capabilities the rest needs. */
	r = sys_ok(syscall(SYS_setresuid, 0, 0, 0));
	if (r == 0)
		r = sys_ok(syscall(SYS_setresgid, 0, 0, 0));
	if (r == 0)
		r = sys_ok(syscall(SYS_setgroups, 0, NULL));
	if (r < 0)
		put_back(saved);
	return r;
}

void ptd_thread_restore(const struct ptd_thread_ids *saved)
{
	struct ptd_thread_ids now;

	if (other_thread_ids(&now) == 0)
		put_back(&now);
	else
		put_back(saved);
}
