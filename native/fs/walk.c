/* Walking a path from "/" without following symlinks, and what makes a
 * directory trusted (walk.h). Every later operation is relative to a
 * descriptor opened here, so a path a user could change is never resolved
 * twice. */
#define _GNU_SOURCE
#include "fs/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Explains an openat(PTD_DIR_FLAGS) failure on dir_fd/name. The kernel says
 * ENOTDIR or ELOOP for a symlink, depending on the flags: report ELOOP. */
int ptd_open_failed(struct ptd_detail *d, int dir_fd, const char *name,
		       int e)
{
	struct stat st;

	if (e == ENOTDIR &&
	    fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		e = ELOOP;
	if (e == ELOOP)
		ptd_say(d->text, "\"%s\" is a symlink", name);
	else if (e == ENOTDIR)
		ptd_say(d->text, "\"%s\" is not a directory", name);
	return -e;
}

int ptd_check_trusted(const struct stat *st, const char *name,
			 struct ptd_detail *d)
{
	if (st->st_uid != 0) {
		ptd_say(d->text, "\"%s\" is owned by uid %u, not root", name,
		    (unsigned) st->st_uid);
		return -EPERM;
	}
	if (ptd_writable_by_non_owner(st->st_mode) &&
	    !(st->st_mode & S_ISVTX)) {
		ptd_say(d->text, "\"%s\" is writable by others and not sticky",
		    name);
		return -EPERM;
	}
	return 0;
}

static int trusted_fd(int fd, const char *name, struct ptd_detail *d)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	return ptd_check_trusted(&st, name, d);
}

/* Opens path from "/" one component at a time, never following a symlink.
 * trusted: every directory on the way, "/" included, must pass
 * check_trusted; whoever could rename one of them could put a tree of its
 * own below, and everything under the base is root's to create. */
static int walk(const char *path, bool trusted, int *ret_fd,
		struct ptd_detail *d)
{
	char buf[PATH_MAX];
	char *save = NULL, *comp;
	size_t n;
	int fd, r;

	n = strlen(path);
	if (path[0] != '/' || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, n + 1);

	fd = open("/", PTD_DIR_FLAGS);
	if (fd < 0)
		return -errno;
	r = trusted ? trusted_fd(fd, "/", d) : 0;
	for (comp = strtok_r(buf + 1, "/", &save); comp && r == 0;
	     comp = strtok_r(NULL, "/", &save)) {
		int next;

		/* The core never plans these; refuse rather than resolve. */
		if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
			r = -EINVAL;
			break;
		}
		next = openat(fd, comp, PTD_DIR_FLAGS);
		if (next < 0) {
			r = ptd_open_failed(d, fd, comp, errno);
			break;
		}
		close(fd);
		fd = next;
		if (trusted)
			r = trusted_fd(fd, comp, d);
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int ptd_walk(const char *path, int *ret_fd, struct ptd_detail *d)
{
	return walk(path, false, ret_fd, d);
}

int ptd_walk_trusted(const char *path, int *ret_fd, struct ptd_detail *d)
{
	return walk(path, true, ret_fd, d);
}
