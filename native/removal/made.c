/* Which trees are the plugin's to remove (made.h). */
#define _GNU_SOURCE
#include "removal/made.h"
#include "fs/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

int ptd_mark_made(int fd, const char *name)
{
	if (fsetxattr(fd, PTD_MADE_XATTR, name, strlen(name), 0) == 0)
		return 0;
	return errno == ENOTSUP || errno == EOPNOTSUPP ? 0 : -errno;
}

/* Every entry below dir_fd owned by l->uid or root, on l->dev; recursion
 * bounded by depth (one descriptor per level). */
int ptd_look_through(int dir_fd, struct ptd_look *l, int depth)
{
	struct dirent *de;
	struct stat st;
	int fd, r = 0;
	DIR *dir;

	if (depth > PTD_MADE_MAX_DEPTH)
		return -E2BIG;
	fd = openat(dir_fd, ".", PTD_DIR_FLAGS);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	while (r == 0 && (errno = 0, de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (l->max_entries && ++l->entries > l->max_entries) {
			r = -E2BIG;
			break;
		}
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = errno == ENOENT ? 0 : -errno;
			continue;
		}
		if (st.st_uid != l->uid && st.st_uid != 0) {
			l->foreign = st.st_uid;
			r = -EPERM;
			break;
		}
		/* A mount on a file shows as another device too. */
		if (st.st_dev != l->dev) {
			r = -EXDEV;
			break;
		}
		l->bytes += (uint64_t) st.st_blocks * 512;
		if (!S_ISDIR(st.st_mode)) {
			l->files++;
			continue;
		}
		fd = openat(dirfd(dir), de->d_name, PTD_DIR_FLAGS);
		if (fd < 0) {
			r = errno == ENOENT ? 0 : -errno;
			continue;
		}
		r = ptd_look_through(fd, l, depth + 1);
		close(fd);
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(dir);
	return r;
}

int ptd_made_here(int dir_fd, const char *name, uid_t uid,
		  struct ptd_detail *d)
{
	char mark[NAME_MAX + 1];
	struct ptd_look l = { .uid = uid, .max_entries = PTD_MADE_MAX_ENTRIES };
	struct stat st;
	ssize_t n;
	int r;

	if (fstat(dir_fd, &st) < 0)
		return -errno;
	n = fgetxattr(dir_fd, PTD_MADE_XATTR, mark, sizeof(mark) - 1);
	if (n >= 0) {
		mark[n] = '\0';
		if (!strcmp(mark, name))
			return 0;
		/* Made for another name: a job directory renamed. */
		ptd_say(d->text, "\"%s\" was made as \"%s\"", name, mark);
		return -EPERM;
	}
	if (errno != ENODATA && errno != ENOTSUP && errno != EOPNOTSUPP)
		return -errno;
	l.dev = st.st_dev;
	r = ptd_look_through(dir_fd, &l, 0);
	if (r == -EPERM)
		ptd_say(d->text, "\"%s\" was not made by the plugin and holds files of uid %u",
			name, (unsigned) l.foreign);
	else if (r == -E2BIG)
		ptd_say(d->text, "\"%s\" was not made by the plugin and is too large to look through",
			name);
	else if (r == -EXDEV)
		ptd_say(d->text, "\"%s\" was not made by the plugin and has a mount inside",
			name);
	return r;
}
