/* Syscalls behind the plan operations. Everything is relative to a
 * directory descriptor that was itself opened without following symlinks,
 * so a path a user could have changed is never trusted twice. */
#define _GNU_SOURCE
#include "fsops.h"
#include "escape.h"
#include "remove.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static void say(char *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Every detail and notice is escaped whole (escape.h): the names in them
 * may come from a user, and the text goes to slurmd's log. */
static void say(char *buf, const char *fmt, ...)
{
	char raw[PTD_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	ptd_escape(buf, PTD_DETAIL_MAX, raw);
}

/* Notices accumulate: one call may move several entries aside. */
static void note(struct ptd_detail *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct ptd_detail *d, const char *fmt, ...)
{
	char raw[sizeof(d->notice)];
	size_t n = strlen(d->notice);
	va_list ap;

	if (n && n + 2 < sizeof(d->notice)) {
		memcpy(d->notice + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	ptd_escape(d->notice + n, sizeof(d->notice) - n, raw);
}

/* Explains an openat(DIR_FLAGS) failure on dir_fd/name. The kernel says
 * ENOTDIR or ELOOP for a symlink, depending on the flags: report ELOOP. */
static int open_failed(struct ptd_detail *d, int dir_fd, const char *name,
		       int e)
{
	struct stat st;

	if (e == ENOTDIR &&
	    fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		e = ELOOP;
	if (e == ELOOP)
		say(d->text, "\"%s\" is a symlink", name);
	else if (e == ENOTDIR)
		say(d->text, "\"%s\" is not a directory", name);
	return -e;
}

int ptd_walk(const char *path, int *ret_fd, struct ptd_detail *d)
{
	char buf[PATH_MAX];
	char *save = NULL, *comp;
	size_t n;
	int fd;

	n = strlen(path);
	if (path[0] != '/' || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, n + 1);

	fd = open("/", DIR_FLAGS);
	if (fd < 0)
		return -errno;
	for (comp = strtok_r(buf + 1, "/", &save); comp;
	     comp = strtok_r(NULL, "/", &save)) {
		int next;

		/* The core never plans these; refuse rather than resolve. */
		if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
			close(fd);
			return -EINVAL;
		}
		next = openat(fd, comp, DIR_FLAGS);
		if (next < 0) {
			int r = open_failed(d, fd, comp, errno);

			close(fd);
			return r;
		}
		close(fd);
		fd = next;
	}
	*ret_fd = fd;
	return 0;
}

/* A directory anyone may create entries in: /tmp, /var/tmp. Only there can
 * an entry have been planted by another user. */
static bool is_shared(int dir_fd)
{
	struct stat st;

	if (fstat(dir_fd, &st) < 0)
		return false;
	return (st.st_mode & S_IWOTH) != 0;
}

/* Renames parent_fd/name to a fresh unguessable name beside it. rename
 * never follows the entry, whatever it is. */
static int move_aside(int parent_fd, const char *name, struct ptd_detail *d)
{
	char aside[NAME_MAX + 1];
	unsigned long long rnd;
	struct stat st;

	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	snprintf(aside, sizeof(aside), "%.200s.aside.%016llx", name, rnd);
	if (renameat2(parent_fd, name, parent_fd, aside, RENAME_NOREPLACE) < 0)
		return -errno;
	note(d, "\"%s\" (owner uid %u, mode %04o) was not ours: moved aside to \"%s\"",
	    name, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777),
	    aside);
	return 0;
}

static int check_trusted(const struct stat *st, const char *name,
			 struct ptd_detail *d)
{
	if (st->st_uid != 0) {
		say(d->text, "\"%s\" is owned by uid %u, not root", name,
		    (unsigned) st->st_uid);
		return -EPERM;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX)) {
		say(d->text, "\"%s\" is writable by others and not sticky",
		    name);
		return -EPERM;
	}
	return 0;
}

int ptd_open_trusted(const char *path, mode_t mode, bool create, int *ret_fd,
		     struct ptd_detail *d)
{
	char parent[PATH_MAX];
	const char *last;
	struct stat st;
	int pfd = -1, fd = -1, r, attempt;

	last = strrchr(path, '/');
	if (!last || strlen(path) >= sizeof(parent))
		return -EINVAL;
	if (last == path && last[1] == '\0') {
		r = ptd_walk("/", &fd, d);
		if (r < 0)
			return r;
		*ret_fd = fd;
		return 0;
	}
	if (last == path) {
		strcpy(parent, "/");
	} else {
		memcpy(parent, path, last - path);
		parent[last - path] = '\0';
	}
	last++;

	r = ptd_walk(parent, &pfd, d);
	if (r < 0)
		return r;
	for (attempt = 0; attempt < 2; attempt++) {
		bool created = false;

		fd = openat(pfd, last, DIR_FLAGS);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(pfd, last, mode) == 0)
				created = true;
			else if (errno != EEXIST) {
				r = -errno;
				goto out;
			}
			fd = openat(pfd, last, DIR_FLAGS);
		}
		if (fd < 0) {
			r = open_failed(d, pfd, last, errno);
			if (create && (r == -ELOOP || r == -ENOTDIR) &&
			    is_shared(pfd)) {
				r = move_aside(pfd, last, d);
				if (r < 0)
					goto out;
				continue;
			}
			goto out;
		}
		if (created && fchmod(fd, mode) < 0) {
			r = -errno;
			goto out;
		}
		if (fstat(fd, &st) < 0) {
			r = -errno;
			goto out;
		}
		r = check_trusted(&st, last, d);
		if (r == 0) {
			*ret_fd = fd;
			fd = -1;
			goto out;
		}
		close(fd);
		fd = -1;
		if (!create || !is_shared(pfd))
			goto out;
		r = move_aside(pfd, last, d);
		if (r < 0)
			goto out;
	}
	if (attempt == 2)
		r = -EEXIST;
out:
	if (fd >= 0)
		close(fd);
	close(pfd);
	return r;
}

/* True if parent_fd/name is a directory holding PTD_ENDED_MARKER. */
static bool marked_ended(int parent_fd, const char *name)
{
	struct stat st;
	int fd, r;

	fd = openat(parent_fd, name, DIR_FLAGS);
	if (fd < 0)
		return false;
	r = fstatat(fd, PTD_ENDED_MARKER, &st, AT_SYMLINK_NOFOLLOW);
	close(fd);
	return r == 0;
}

/* Empties the way for a requeued run of the job: a directory of ours at name
 * that a previous run marked ended is removed before the directory is made.
 * One without the marker is this run's own (another step of the job may be
 * using it) and is left alone. */
static int wipe_ended_dir(int parent_fd, const char *name, uid_t uid,
			  struct ptd_detail *d)
{
	struct ptd_remove_stats stats = { 0 };
	char why[PTD_DETAIL_MAX];
	struct stat st;
	int r;

	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid)
		return 0; /* not ours: the aside rule deals with it */
	if (!marked_ended(parent_fd, name))
		return 0; /* this run's: made by another step of the job */
	r = ptd_remove_tree(parent_fd, name, uid, &stats, why, sizeof(why));
	if (r < 0) {
		say(d->text, "cannot remove a previous run's directory: %s",
		    why);
		return r;
	}
	note(d, "removed a previous run's \"%s\" (%llu files, %llu bytes)",
	    name, (unsigned long long) stats.files,
	    (unsigned long long) stats.bytes);
	return 0;
}

/* Makes parent_fd/name so that it never exists with the wrong owner: built
 * under a random name, handed over, then renamed into place. Concurrent steps
 * of one job on a node race here; the loser gets -EEXIST and uses the
 * winner's directory. */
static int make_dir_atomically(int parent_fd, const char *name, mode_t mode,
			       uid_t uid, gid_t gid, int *ret_fd)
{
	char tmp[NAME_MAX + 1];
	unsigned long long rnd;
	int fd, r;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	snprintf(tmp, sizeof(tmp), ".%.200s.new.%016llx", name, rnd);
	if (mkdirat(parent_fd, tmp, 0700) < 0)
		return -errno;
	fd = openat(parent_fd, tmp, DIR_FLAGS);
	if (fd < 0) {
		r = -errno;
		goto undo;
	}
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0 ||
	    renameat2(parent_fd, tmp, parent_fd, name, RENAME_NOREPLACE) < 0) {
		r = -errno;
		close(fd);
		goto undo;
	}
	*ret_fd = fd;
	return 0;
undo:
	(void) unlinkat(parent_fd, tmp, AT_REMOVEDIR);
	return r;
}

int ptd_mkdir_at(int parent_fd, const char *name, mode_t mode, uid_t uid,
		 gid_t gid, bool aside, bool wipe_ended, int *ret_fd,
		 struct ptd_detail *d)
{
	struct stat st;
	int fd, r, attempt;

	if (wipe_ended) {
		r = wipe_ended_dir(parent_fd, name, uid, d);
		if (r < 0)
			return r;
	}
	/* Each round either succeeds or removes an obstacle another user put
	 * there; a few rounds outlast anyone racing us. */
	for (attempt = 0; attempt < 8; attempt++) {
		fd = openat(parent_fd, name, DIR_FLAGS);
		if (fd < 0 && errno == ENOENT) {
			r = make_dir_atomically(parent_fd, name, mode, uid, gid,
						ret_fd);
			if (r != -EEXIST)
				return r;
			continue; /* another step of the job made it first */
		}
		if (fd < 0) {
			r = open_failed(d, parent_fd, name, errno);
			if (aside && (r == -ELOOP || r == -ENOTDIR)) {
				r = move_aside(parent_fd, name, d);
				if (r < 0)
					return r;
				continue;
			}
			return r;
		}
		if (fstat(fd, &st) < 0)
			goto fail_errno;
		if (st.st_uid != uid) {
			close(fd);
			if (!aside) {
				say(d->text, "\"%s\" is owned by uid %u, expected %u",
				    name, (unsigned) st.st_uid, (unsigned) uid);
				return -EPERM;
			}
			r = move_aside(parent_fd, name, d);
			if (r < 0)
				return r;
			continue;
		}
		/* Ours already (an earlier step): keep it private. */
		if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
			goto fail_errno;
		*ret_fd = fd;
		return 0;
	}
	say(d->text, "\"%s\" was replaced again after being moved aside",
	    name);
	return -EEXIST;

fail_errno:
	r = -errno;
	close(fd);
	return r;
}

int ptd_mark_ended(int parent_fd, const char *name, uid_t uid,
		   struct ptd_detail *d)
{
	struct stat st;
	int fd, m, r = 0;

	fd = openat(parent_fd, name, DIR_FLAGS);
	if (fd < 0)
		return errno == ENOENT ? 0 : open_failed(d, parent_fd, name, errno);
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_uid != uid) {
		say(d->text, "\"%s\" is owned by uid %u, expected %u", name,
		    (unsigned) st.st_uid, (unsigned) uid);
		r = -EPERM;
		goto out;
	}
	m = openat(fd, PTD_ENDED_MARKER,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (m >= 0)
		close(m);
	else if (errno != EEXIST)
		r = -errno;
out:
	close(fd);
	return r;
}

int ptd_unshare_mount_ns(struct ptd_detail *d)
{
	(void) d;
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	return 0;
}

int ptd_make_slave(struct ptd_detail *d)
{
	(void) d;
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return -errno;
	return 0;
}

int ptd_open_private(const char *path, uid_t uid, int *ret_fd,
		     struct ptd_detail *d)
{
	struct stat st;
	int fd, r;

	r = ptd_walk(path, &fd, d);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (st.st_uid != uid) {
		say(d->text, "owned by uid %u, expected %u",
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

int ptd_fsops_test_fail_bind;

int ptd_bind(int source_fd, int target_fd, const char *target_path,
	     struct ptd_detail *d)
{
	char src[64], dst[64];
	struct stat want, got;
	int fd = -1, r;

	if (ptd_fsops_test_fail_bind > 0 && --ptd_fsops_test_fail_bind == 0) {
		say(d->text, "injected failure (test)");
		return -EIO;
	}
	snprintf(src, sizeof(src), "/proc/self/fd/%d", source_fd);
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d", target_fd);
	if (fstat(source_fd, &want) < 0)
		return -errno;
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return -errno;
	/* Reopen by path: what a task will see there from now on. */
	r = ptd_walk(target_path, &fd, d);
	if (r < 0)
		return r;
	if (fstat(fd, &got) < 0) {
		r = -errno;
		goto out;
	}
	if (got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
		say(d->text, "after the bind, it does not show the private directory");
		r = -EIO;
		goto out;
	}
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d", fd);
	if (mount(NULL, dst, NULL,
		  MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | kept_flags(fd),
		  NULL) < 0) {
		r = -errno;
		say(d->text, "remount nosuid,nodev: %s", strerror(-r));
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}
