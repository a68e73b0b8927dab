/* A job's own tmpfs on a mount point (tmpfs.h). */
#define _GNU_SOURCE
#include "fs/tmpfs.h"
#include "util/clock.h"
#include "fs/walk.h"
#include "removal/remove.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* What mountinfo shows as the source: an admin (and the tests) can tell
 * our tmpfs from any other. */
#define PTD_TMPFS_SOURCE "private-tmpdir"

int ptd_mount_tmpfs(int target_fd, const char *target_path,
		    uint32_t size_mb, uint32_t inodes, unsigned mode, uid_t uid,
		    gid_t gid, bool noexec, int *ret_root_fd,
		    struct ptd_detail *d)
{
	char dst[64], opts[128];
	unsigned long flags = MS_NOSUID | MS_NODEV;
	struct stat before, st;
	struct statfs sf;
	int fd, r;

	/* 0 would be no limit at all, for either. */
	if (size_mb == 0 || inodes == 0 || mode > 07777)
		return -EINVAL;
	if (noexec)
		flags |= MS_NOEXEC;
	if (fstat(target_fd, &before) < 0)
		return -errno;
	/* The size in KiB: "m" would be as exact, but k states the unit the
	 * kernel reports (df, statfs) back. */
	snprintf(opts, sizeof(opts),
		 "size=%lluk,nr_inodes=%u,mode=%04o,uid=%u,gid=%u",
		 (unsigned long long) size_mb * 1024ULL, (unsigned) inodes,
		 mode, (unsigned) uid, (unsigned) gid);
	/* Through /proc/self/fd, as a bind: the very mount point opened
	 * (without following a symlink) before, whatever is at its path now. */
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d", target_fd);
	if (mount(PTD_TMPFS_SOURCE, dst, "tmpfs", flags, opts) < 0) {
		r = -errno;
		ptd_say(d->text, "mount -t tmpfs -o %s: %s", opts, strerror(-r));
		return r;
	}
	/* What a task finds at the path from now on must be this tmpfs's
	 * root (a new device, ours by owner and mode), not a mount someone
	 * stacked there meanwhile. */
	r = ptd_walk(target_path, &fd, d);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0) {
		r = -errno;
		goto out;
	}
	if ((unsigned long) sf.f_type != TMPFS_MAGIC || st.st_dev == before.st_dev ||
	    (uint64_t) sf.f_files != inodes ||
	    st.st_uid != uid || st.st_gid != gid || (st.st_mode & 07777) != mode) {
		ptd_say(d->text, "after the mount, it does not show the job's tmpfs");
		r = -EIO;
		goto out;
	}
	r = 0;
	if (ret_root_fd) {
		*ret_root_fd = fd;
		return 0;
	}
out:
	close(fd);
	return r;
}

/* Bounds on the holder's emptying at the job's end: nr_inodes keeps a
 * job's tree small, these keep a tree that is not from holding the holder
 * (and the job's end) for long or growing its memory with the depth. What
 * is left goes when the namespace's last process and descriptor are gone. */
#define EMPTY_BUDGET_NS (5LL * 1000000000LL)
#define EMPTY_MAX_DEPTH 64


void ptd_tmpfs_empty(int root_fd, uid_t uid, struct ptd_remove_stats *ret)
{
	struct ptd_remove_stats sum = { 0 };
	struct ptd_remove_how how = {
		.deadline = ptd_now_ns() + EMPTY_BUDGET_NS,
		.truncate = true,
		.max_depth = EMPTY_MAX_DEPTH,
	};
	struct ptd_remove_stats s;
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int fd;

	fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		goto out;
	}
	while ((de = readdir(dir)) && ptd_now_ns() < how.deadline) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(root_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_uid != uid)
			continue;
		if (S_ISDIR(st.st_mode)) {
			memset(&s, 0, sizeof(s));
			(void) ptd_remove_tree_how(root_fd, de->d_name, uid,
						   &how, &s, NULL, 0);
			sum.bytes += s.bytes;
			sum.files += s.files;
			sum.dirs += s.dirs;
			sum.skipped += s.skipped;
			continue;
		}
		if (S_ISREG(st.st_mode) && st.st_size > 0)
			ptd_truncate_at(root_fd, de->d_name, st.st_dev, st.st_ino);
		if (unlinkat(root_fd, de->d_name, 0) == 0) {
			sum.files++;
			sum.bytes += (uint64_t) st.st_size;
		}
	}
	/* Stopped by the budget: the counts are partial. */
	if (de)
		sum.skipped++;
	closedir(dir);
out:
	if (ret)
		*ret = sum;
}
