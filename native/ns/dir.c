/* The holders' directory and the names in it (dir.h). */
#define _GNU_SOURCE
#include "ns/dir.h"
#include "fs/walk.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool ptd_ns_name_ok(const char *name)
{
	size_t n = strnlen(name, PTD_NS_NAME_MAX + 1);

	if (n == 0 || n > PTD_NS_NAME_MAX || name[0] == '.')
		return false;
	for (; *name; name++)
		if (*name == '/' || (unsigned char) *name < 0x20 ||
		    *name == 0x7f)
			return false;
	return true;
}

int ptd_ns_check_dir(int dir_fd, const char *what, struct ptd_detail *d)
{
	struct stat st;

	if (fstat(dir_fd, &st) < 0) {
		ptd_say(d->text, "fstat \"%s\"", what);
		return -errno;
	}
	/* Root-only: a user who can list or enter it could connect, and one
	 * who could write it could plant a socket of their own. */
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		ptd_say(d->text, "\"%s\" is uid %u mode %04o, not root's 0700",
			what, (unsigned) st.st_uid,
			(unsigned) (st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int ptd_ns_open_dir(const char *dir, const char *name, int *ret_fd,
		    struct ptd_detail *d)
{
	int fd, r;

	if (!ptd_ns_name_ok(name)) {
		ptd_say(d->text, "bad holder name \"%s\"", name);
		return -EINVAL;
	}
	/* Every directory from "/" root's (or sticky), no symlink: nobody
	 * but root can swap the socket or the lock under us. */
	r = ptd_walk_trusted(dir, &fd, d);
	if (r < 0)
		return r;
	r = ptd_ns_check_dir(fd, dir, d);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}
