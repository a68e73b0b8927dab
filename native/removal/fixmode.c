/* A caller without CAP_DAC_OVERRIDE removing its own tree (tree.h): a
 * directory of its own that it may not list or write is made u+rwx, and
 * only one that is still the directory looked at. */
#define _GNU_SOURCE
#include "removal/tree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int ptd_rm_fix_level(struct ptd_rm *c, struct ptd_rm_level *l)
{
	mode_t m = (l->mode & 07777) | S_IRWXU;

	if (l->fixed_mode || l->uid != c->euid || l->fd < 0)
		return -EACCES;
	if (fchmod(l->fd, m) < 0)
		return -errno;
	l->fixed_mode = true;
	l->mode = m;
	return 0;
}

/* An O_PATH descriptor pins the inode checked, so a swap cannot redirect
 * the chmod. */
int ptd_rm_fix_entry(struct ptd_rm *c, int dirfd, const char *name,
		     struct ptd_rm_info *in)
{
	char proc[64];
	struct stat st;
	mode_t m = (in->mode & 07777) | S_IRWXU;
	int fd, r = 0;

	if (in->uid != c->euid)
		return -EACCES;
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_dev != in->dev || st.st_ino != in->ino ||
	    !S_ISDIR(st.st_mode)) {
		r = -EACCES;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, m) < 0) {
		r = -errno;
		goto out;
	}
	in->mode = m;
out:
	close(fd);
	return r;
}

int ptd_rm_unlink_in(struct ptd_rm *c, struct ptd_rm_level *l,
		     const char *name, int flags)
{
	if (unlinkat(l->fd, name, flags) == 0)
		return 0;
	if ((errno == EACCES || errno == EPERM) &&
	    ptd_rm_fix_level(c, l) == 0 && unlinkat(l->fd, name, flags) == 0)
		return 0;
	return -errno;
}
