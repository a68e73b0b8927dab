/* Syscalls behind the plan operations. Everything is relative to a
 * directory descriptor that was itself opened without following symlinks,
 * so a path a user could have changed is never trusted twice. */
#define _GNU_SOURCE
#include "fsops.h"
#include "escape.h"
#include "remove.h"

#include <dirent.h>
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
#include <time.h>
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

static int trusted_fd(int fd, const char *name, struct ptd_detail *d)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	return check_trusted(&st, name, d);
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

	fd = open("/", DIR_FLAGS);
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
		next = openat(fd, comp, DIR_FLAGS);
		if (next < 0) {
			r = open_failed(d, fd, comp, errno);
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

/* A directory anyone may create entries in: /tmp, /var/tmp. Only there can
 * an entry have been planted by another user. */
static bool is_shared(int dir_fd)
{
	struct stat st;

	if (fstat(dir_fd, &st) < 0)
		return false;
	return (st.st_mode & S_IWOTH) != 0;
}

/* Each placement loop gives up after this long: a squatter can make a round
 * fail, never the step, and no count of rounds is enough against a loop. */
#define SETTLE_NSEC (2LL * 1000000000LL)

static long long now_nsec(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int random_name(char *buf, const char *name, const char *what)
{
	unsigned long long rnd;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	if (what[0] == 'n')
		snprintf(buf, NAME_MAX + 1, ".%.200s.new.%016llx", name, rnd);
	else
		snprintf(buf, NAME_MAX + 1, "%.200s.aside.%016llx", name, rnd);
	return 0;
}

/* What settle_dir must end up with at parent_fd/name. */
struct want {
	uid_t uid;
	gid_t gid;
	mode_t mode;
	bool trusted;	/* an admin's directory: root's, checked, never chmod */
	bool aside;	/* an entry that is not ours is moved aside */
};

/* 0 if st (an entry at name) is one we may use as it is: a directory of
 * w->uid, or for a trusted one a directory check_trusted accepts. */
static int judge(const struct want *w, const struct stat *st,
		 const char *name, struct ptd_detail *d)
{
	if (!S_ISDIR(st->st_mode)) {
		say(d->text, "\"%s\" is not a directory", name);
		return -ENOTDIR;
	}
	if (w->trusted)
		return check_trusted(st, name, d);
	if (st->st_uid != w->uid) {
		say(d->text, "\"%s\" is owned by uid %u, expected %u", name,
		    (unsigned) st->st_uid, (unsigned) w->uid);
		return -EPERM;
	}
	return 0;
}

/* True if the directory fd has no entry but "." and "..". Reads a new open
 * file description, so fd's own offset is left alone. */
static bool dir_is_empty(int fd)
{
	struct dirent *de;
	bool empty = true;
	DIR *dir;
	int dfd;

	dfd = openat(fd, ".", DIR_FLAGS);
	if (dfd < 0)
		return false;
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return false;
	}
	errno = 0;
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	}
	if (errno)
		empty = false;
	closedir(dir);
	return empty;
}

/* A directory root made under a temporary name, handed to its owner, ready
 * to be put in place. */
struct prepared {
	char tmp[NAME_MAX + 1];
	int fd;			/* -1: none */
	dev_t dev;
	ino_t ino;
};

static bool same(const struct stat *st, const struct prepared *p)
{
	return st->st_dev == p->dev && st->st_ino == p->ino;
}

/* True if parent_fd/name is the prepared directory itself. */
static bool is_prepared_at(int parent_fd, const char *name,
			   const struct prepared *p)
{
	struct stat st;

	return fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode) && same(&st, p);
}

/* Makes the directory under a random name: root's and 0700 until checked,
 * so that nobody else can have put anything there or swapped it. Whoever
 * owns parent_fd (the job's user, for a mount directory) can still rename
 * another directory to that name between mkdirat and fchown: root then
 * gives away only what it has just made, an empty directory of its own, and
 * refuses anything else. */
static int prepare(int parent_fd, const char *name, const struct want *w,
		   struct prepared *p, struct ptd_detail *d)
{
	struct stat made, st;
	int r;

	r = random_name(p->tmp, name, "new");
	if (r < 0)
		return r;
	if (mkdirat(parent_fd, p->tmp, 0700) < 0)
		return -errno;
	if (fstatat(parent_fd, p->tmp, &made, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	p->fd = openat(parent_fd, p->tmp, DIR_FLAGS);
	if (p->fd < 0)
		return -errno;
	if (fstat(p->fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	p->dev = made.st_dev;
	p->ino = made.st_ino;
	if (!S_ISDIR(st.st_mode) || !same(&st, p) || st.st_uid != 0 ||
	    (st.st_mode & 077) || !dir_is_empty(p->fd)) {
		/* Not what mkdirat made: not ours to remove either. */
		say(d->text, "\"%s\" was replaced while it was being made",
		    p->tmp);
		r = -EPERM;
		goto fail;
	}
	if (fchown(p->fd, w->uid, w->gid) < 0 || fchmod(p->fd, w->mode) < 0) {
		r = -errno;
		(void) unlinkat(parent_fd, p->tmp, AT_REMOVEDIR);
		goto fail;
	}
	return 0;
fail:
	close(p->fd);
	p->fd = -1;
	return r;
}

/* Removes a prepared directory that was not needed, if it is still ours and
 * empty where we left it. */
static void unprepare(int parent_fd, struct prepared *p)
{
	if (p->fd < 0)
		return;
	if (is_prepared_at(parent_fd, p->tmp, p) && dir_is_empty(p->fd))
		(void) unlinkat(parent_fd, p->tmp, AT_REMOVEDIR);
	close(p->fd);
	p->fd = -1;
}

/* After an exchange, p->tmp holds what was at name. Another step of the job
 * may have put its directory there in the meantime: give it back rather
 * than move it aside under that step. Returns true if it was given back. */
static bool gave_back(int parent_fd, const char *name, const struct want *w,
		      struct prepared *p)
{
	struct ptd_detail scratch = { { 0 }, { 0 } };
	struct stat st;

	if (fstatat(parent_fd, p->tmp, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    judge(w, &st, p->tmp, &scratch) < 0)
		return false;
	if (renameat2(parent_fd, p->tmp, parent_fd, name, RENAME_EXCHANGE) < 0)
		return false;
	if (!is_prepared_at(parent_fd, p->tmp, p)) {
		close(p->fd);
		p->fd = -1;
	}
	return true;
}

/* p->tmp holds the squatter we swapped out: move it aside, never opening,
 * following or chowning it. Its owner may have removed it already. */
static void set_aside(int parent_fd, const char *name, struct prepared *p,
		      struct ptd_detail *d)
{
	char aside[NAME_MAX + 1];
	struct stat st;

	if (fstatat(parent_fd, p->tmp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		note(d, "\"%s\" was not ours: moved aside (then removed by its owner)",
		     name);
		return;
	}
	if (random_name(aside, name, "aside") < 0 ||
	    renameat2(parent_fd, p->tmp, parent_fd, aside,
		      RENAME_NOREPLACE) < 0)
		snprintf(aside, sizeof(aside), "%s", p->tmp);
	note(d, "\"%s\" (owner uid %u, mode %04o) was not ours: moved aside to \"%s\"",
	     name, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777),
	     aside);
}

/* Makes or verifies parent_fd/name as w describes, and opens it. The name
 * is never left free: a missing one gets the prepared directory with
 * RENAME_NOREPLACE, one that is not ours is atomically exchanged with it
 * (RENAME_EXCHANGE) and only then moved aside. Concurrent steps of one job
 * race here too: the loser uses the winner's directory. Every round either
 * ends or removes an obstacle; the loop is bounded by time, not rounds. */
static int settle_dir(int parent_fd, const char *name, const struct want *w,
		      int *ret_fd, struct ptd_detail *d)
{
	struct prepared p = { .fd = -1 };
	long long deadline = now_nsec() + SETTLE_NSEC;
	struct stat st;
	int fd, r;

	do {
		unsigned flags = RENAME_NOREPLACE;

		fd = openat(parent_fd, name, DIR_FLAGS);
		if (fd >= 0) {
			if (fstat(fd, &st) < 0) {
				r = -errno;
				close(fd);
				goto out;
			}
			r = judge(w, &st, name, d);
			if (r == 0) {
				/* Ours already (an earlier step): keep it
				 * private. */
				if (!w->trusted &&
				    (st.st_mode & 07777) != w->mode &&
				    fchmod(fd, w->mode) < 0) {
					r = -errno;
					close(fd);
					goto out;
				}
				*ret_fd = fd;
				goto out;
			}
			close(fd);
			if (!w->aside)
				goto out;
			flags = RENAME_EXCHANGE;
		} else if (errno != ENOENT) {
			r = open_failed(d, parent_fd, name, errno);
			if (!w->aside || (r != -ELOOP && r != -ENOTDIR))
				goto out;
			flags = RENAME_EXCHANGE;
		}
		if (p.fd < 0) {
			r = prepare(parent_fd, name, w, &p, d);
			if (r < 0)
				goto out;
		}
		if (renameat2(parent_fd, p.tmp, parent_fd, name, flags) < 0) {
			/* EEXIST: made meanwhile; ENOENT: it went away
			 * before the exchange. Look again. */
			if (errno == EEXIST || errno == ENOENT)
				continue;
			r = -errno;
			goto out;
		}
		if (flags == RENAME_EXCHANGE) {
			if (gave_back(parent_fd, name, w, &p))
				continue;
			set_aside(parent_fd, name, &p, d);
		}
		/* Only the job's user (now its owner) can have changed it
		 * since; look again rather than use what is there now. */
		if (!is_prepared_at(parent_fd, name, &p)) {
			close(p.fd);
			p.fd = -1;
			continue;
		}
		*ret_fd = p.fd;
		return 0;
	} while (now_nsec() < deadline);
	say(d->text, "\"%s\" was replaced again and again for %lld s",
	    name, SETTLE_NSEC / 1000000000LL);
	r = -EEXIST;
out:
	unprepare(parent_fd, &p);
	return r;
}

int ptd_open_trusted(const char *path, mode_t mode, bool create, int *ret_fd,
		     struct ptd_detail *d)
{
	char parent[PATH_MAX];
	const char *last;
	struct stat st;
	int pfd = -1, fd = -1, r;

	last = strrchr(path, '/');
	if (!last || strlen(path) >= sizeof(parent))
		return -EINVAL;
	if (last == path && last[1] == '\0') {
		r = walk("/", true, &fd, d);
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

	r = walk(parent, true, &pfd, d);
	if (r < 0)
		return r;
	if (create) {
		struct want w = {
			.uid = 0, .gid = 0, .mode = mode, .trusted = true,
			.aside = is_shared(pfd),
		};

		r = settle_dir(pfd, last, &w, ret_fd, d);
		goto out;
	}
	fd = openat(pfd, last, DIR_FLAGS);
	if (fd < 0) {
		r = open_failed(d, pfd, last, errno);
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
	}
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

int ptd_mkdir_at(int parent_fd, const char *name, mode_t mode, uid_t uid,
		 gid_t gid, bool aside, bool wipe_ended, int *ret_fd,
		 struct ptd_detail *d)
{
	struct want w = {
		.uid = uid, .gid = gid, .mode = mode, .trusted = false,
		.aside = aside,
	};
	int r;

	if (wipe_ended) {
		r = wipe_ended_dir(parent_fd, name, uid, d);
		if (r < 0)
			return r;
	}
	return settle_dir(parent_fd, name, &w, ret_fd, d);
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

int ptd_open_private(const char *path, uid_t uid, int expect_fd, int *ret_fd,
		     struct ptd_detail *d)
{
	struct stat st, want;
	int fd, r;

	if (fstat(expect_fd, &want) < 0)
		return -errno;
	r = ptd_walk(path, &fd, d);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	/* The job's user owns the job directory and could have renamed
	 * another of its directories here since it was made: only the one
	 * made (and checked) before unshare may be bound. */
	if (st.st_dev != want.st_dev || st.st_ino != want.st_ino) {
		say(d->text, "not the directory made for this step (replaced since)");
		close(fd);
		return -EPERM;
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
