/* Host directories kept visible inside the job (share.h). */
#define _GNU_SOURCE
#include "fs/share.h"
#include "fs/bind.h"
#include "fs/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

int ptd_open_shared(const char *path, int *ret_fd, struct ptd_detail *d)
{
	int r;

	*ret_fd = -1;
	r = ptd_walk_trusted(path, ret_fd, d);
	if (r == 0)
		return 0;
	*ret_fd = -1;
	ptd_note(d, "share=%s: not shared (%s%s%s)", path,
		 d->text[0] ? d->text : strerror(-r), d->text[0] ? ": " : "",
		 d->text[0] ? strerror(-r) : "");
	d->text[0] = '\0';
	return 0;
}

/* The mount point: made by root in the private directory the job's user
 * owns, so the user may already have a name there (an earlier step, a
 * session): a directory is used as it is, anything else fails the step
 * (only this user's own job). */
static int open_mount_point(int parent_fd, const char *name, uid_t uid,
			    gid_t gid, int *ret_fd, struct ptd_detail *d)
{
	bool made = false;
	int fd;

	if (mkdirat(parent_fd, name, 0755) == 0)
		made = true;
	else if (errno != EEXIST)
		return -errno;
	fd = openat(parent_fd, name, PTD_DIR_FLAGS);
	if (fd < 0)
		return ptd_open_failed(d, parent_fd, name, errno);
	if (made && fchown(fd, uid, gid) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	*ret_fd = fd;
	return 0;
}

int ptd_bind_shared(int source_fd, const char *path, uid_t uid, gid_t gid,
		    bool readonly, struct ptd_detail *d)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int pfd = -1, tfd = -1, r;

	if (source_fd < 0)
		return 0;
	if (!slash || slash == path || !slash[1])
		return -EINVAL;
	n = (size_t) (slash - path);
	if (n >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, path, n);
	parent[n] = '\0';
	r = ptd_walk(parent, &pfd, d);
	if (r < 0)
		return r;
	r = open_mount_point(pfd, slash + 1, uid, gid, &tfd, d);
	if (r == 0)
		r = ptd_bind_flags(source_fd, tfd, path,
				   readonly ? MS_RDONLY : 0, d);
	if (tfd >= 0)
		close(tfd);
	close(pfd);
	return r;
}
