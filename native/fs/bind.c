/* The step's own mount namespace and the binds in it (bind.h). */
#define _GNU_SOURCE
#include "fs/bind.h"
#include "fs/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* A copy of the host's mount table, for this step's tasks only. The copy
 * keeps the host's propagation: on a systemd host "/" is shared, so a bind
 * made now would appear in the host's table too, until make_slave. */
int ptd_unshare_mount_ns(struct ptd_detail *d)
{
	(void) d;
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	return 0;
}

/* MS_SLAVE, recursively on "/": the host's later mounts (a new NFS mount,
 * an unmount) still reach the step, the step's binds never reach the
 * host. Not MS_PRIVATE, which would cut the step off from the host's
 * changes; and only in this namespace: the host's own propagation is never
 * changed. Must come before the first bind (the plan orders it so). */
int ptd_make_slave(struct ptd_detail *d)
{
	(void) d;
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return -errno;
	return 0;
}

/* Opens path (ptd_walk) and stats what it opened. */
static int walk_stat(const char *path, int *ret_fd, struct stat *st,
		     struct ptd_detail *d)
{
	int fd, r;

	r = ptd_walk(path, &fd, d);
	if (r < 0)
		return r;
	if (fstat(fd, st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int ptd_open_private(const char *path, uid_t uid, int expect_fd, int *ret_fd,
		     struct ptd_detail *d)
{
	struct stat st, want;
	int fd, r;

	if (fstat(expect_fd, &want) < 0)
		return -errno;
	r = walk_stat(path, &fd, &st, d);
	if (r < 0)
		return r;
	/* The job's user owns the job directory and could have renamed
	 * another of its directories here since it was made: only the one
	 * made (and checked) before unshare may be bound. */
	if (st.st_dev != want.st_dev || st.st_ino != want.st_ino) {
		ptd_say(d->text, "not the directory made for this step (replaced since)");
		close(fd);
		return -EPERM;
	}
	if (st.st_uid != uid) {
		ptd_say(d->text, "owned by uid %u, expected %u",
		    (unsigned) st.st_uid, (unsigned) uid);
		close(fd);
		return -EPERM;
	}
	*ret_fd = fd;
	return 0;
}

int ptd_open_target(const char *path, int *ret_fd, struct ptd_detail *d)
{
	return ptd_walk(path, ret_fd, d);
}

/* The per-mount flags of the filesystem being bound, which a bind remount
 * would otherwise drop. */
static unsigned long kept_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (fstatvfs(fd, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

int ptd_bind_test_fail;

int ptd_bind(int source_fd, int target_fd, const char *target_path,
	     struct ptd_detail *d)
{
	return ptd_bind_flags(source_fd, target_fd, target_path, 0, d);
}

int ptd_bind_flags(int source_fd, int target_fd, const char *target_path,
		   unsigned long extra, struct ptd_detail *d)
{
	char src[64], dst[64];
	struct stat want, got;
	int fd = -1, r;

	if (ptd_bind_test_fail > 0 && --ptd_bind_test_fail == 0) {
		ptd_say(d->text, "injected failure (test)");
		return -EIO;
	}
	/* Through /proc/self/fd: mount(2) takes paths, and these name the
	 * very directories opened (and checked) before, whatever has been
	 * renamed or swapped at their paths since. Both were opened in this
	 * namespace: a bind source on a mount of another namespace is
	 * refused. */
	snprintf(src, sizeof(src), "/proc/self/fd/%d", source_fd);
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d", target_fd);
	if (fstat(source_fd, &want) < 0)
		return -errno;
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return -errno;
	/* Reopen by path: what a task will see there from now on must be the
	 * private directory itself (dev, ino), not whatever was at the
	 * target's path, nor a mount someone stacked on it meanwhile. */
	r = walk_stat(target_path, &fd, &got, d);
	if (r < 0)
		return r;
	if (got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
		ptd_say(d->text, "after the bind, it does not show the private directory");
		r = -EIO;
		goto out;
	}
	/* A bind keeps the source mount's flags, but MS_REMOUNT replaces
	 * them all: add nosuid,nodev (a job's /tmp must never run a setuid
	 * file or open a device node) to those the source already had. */
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d", fd);
	if (mount(NULL, dst, NULL,
		  MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | extra |
		  kept_flags(fd),
		  NULL) < 0) {
		r = -errno;
		ptd_say(d->text, "remount nosuid,nodev: %s", strerror(-r));
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}
