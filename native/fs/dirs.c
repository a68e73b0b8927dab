/* Making the job's directories (dirs.h): atomically, never with the wrong
 * owner, never leaving a name free for a squatter, never following or
 * chowning what someone else put there. */
#define _GNU_SOURCE
#include "fs/dirs.h"
#include "util/clock.h"
#include "removal/made.h"
#include "removal/remove.h"
#include "fs/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/mount.h>
#include <unistd.h>

/* Whether an entry of dir_fd may have been planted by another user: the
 * directory is writable by others than its owner (walk.h), as /tmp and
 * /var/tmp are, or a group's sticky scratch directory. */
static bool others_may_plant_in(int dir_fd)
{
	struct stat st;

	if (fstat(dir_fd, &st) < 0)
		return false;
	return ptd_writable_by_non_owner(st.st_mode);
}

/*
 * A mount on parent_fd/name in this (the host's) mount namespace, in a
 * directory others may write: someone mounted a filesystem (FUSE, bindfs:
 * root may get EACCES inside it, and EBUSY renaming it) on a name the
 * plugin needs, to make it fail other users' jobs. Detached (lazily: its
 * users keep what they hold open) without following anything: statx with
 * an empty mask asks the filesystem nothing, and the unmount takes the
 * name relative to the parent's descriptor, never a symlink. 1 if one was
 * detached, 0 if there is none, or -errno.
 */
static int detach_foreign_mount(int parent_fd, const char *name,
				struct ptd_detail *d)
{
	struct statx stx;
	char path[PATH_MAX];

	if (!others_may_plant_in(parent_fd))
		return 0;
	if (statx(parent_fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT |
		  AT_STATX_DONT_SYNC, 0, &stx) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) ||
	    !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) ||
	    S_ISLNK(stx.stx_mode))
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", parent_fd, name);
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		return errno == EINVAL || errno == ENOENT ? 0 : -errno;
	ptd_note(d, "detached a mount someone made on \"%s\"", name);
	return 1;
}

/* Each placement loop gives up after this long: a squatter can make a round
 * fail, never the step, and no count of rounds is enough against a loop. */
#define SETTLE_NSEC (2LL * 1000000000LL)


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
	bool mark;	/* a job directory: marked as the plugin's (made.h) */
};

/* 0 if st (an entry at name) is one we may use as it is: a directory of
 * w->uid, or for a trusted one a directory check_trusted accepts. */
static int judge(const struct want *w, const struct stat *st,
		 const char *name, struct ptd_detail *d)
{
	if (!S_ISDIR(st->st_mode)) {
		ptd_say(d->text, "\"%s\" is not a directory", name);
		return -ENOTDIR;
	}
	if (w->trusted)
		return ptd_check_trusted(st, name, d);
	if (st->st_uid != w->uid) {
		ptd_say(d->text, "\"%s\" is owned by uid %u, expected %u", name,
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

	dfd = openat(fd, ".", PTD_DIR_FLAGS);
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
	p->fd = openat(parent_fd, p->tmp, PTD_DIR_FLAGS);
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
		ptd_say(d->text, "\"%s\" was replaced while it was being made",
		    p->tmp);
		r = -EPERM;
		goto fail;
	}
	/* Marked while still root's 0700: the mark names the very directory
	 * root made, before anyone else can reach it. */
	r = w->mark ? ptd_mark_made(p->fd, name) : 0;
	if (r < 0) {
		ptd_say(d->text, "marking \"%s\" as the plugin's", p->tmp);
		(void) unlinkat(parent_fd, p->tmp, AT_REMOVEDIR);
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
		ptd_note(d, "\"%s\" was not ours: moved aside (then removed by its owner)",
		     name);
		return;
	}
	if (random_name(aside, name, "aside") < 0 ||
	    renameat2(parent_fd, p->tmp, parent_fd, aside,
		      RENAME_NOREPLACE) < 0)
		snprintf(aside, sizeof(aside), "%s", p->tmp);
	ptd_note(d, "\"%s\" (owner uid %u, mode %04o) was not ours: moved aside to \"%s\"",
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
	long long deadline = ptd_now_ns() + SETTLE_NSEC;
	struct stat st;
	int fd, r;

	do {
		unsigned flags = RENAME_NOREPLACE;

		fd = openat(parent_fd, name, PTD_DIR_FLAGS);
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
			r = ptd_open_failed(d, parent_fd, name, errno);
			/* EACCES: root refused inside a user's FUSE mount. */
			if (w->aside && r == -EACCES &&
			    detach_foreign_mount(parent_fd, name, d) > 0)
				continue;
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
			/* EBUSY: a mount point in the way of the exchange. */
			if (r == -EBUSY && w->aside &&
			    detach_foreign_mount(parent_fd, name, d) > 0)
				continue;
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
	} while (ptd_now_ns() < deadline);
	ptd_say(d->text, "\"%s\" was replaced again and again for %lld s",
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
		r = ptd_walk_trusted("/", &fd, d);
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

	r = ptd_walk_trusted(parent, &pfd, d);
	if (r < 0)
		return r;
	if (create) {
		struct want w = {
			.uid = 0, .gid = 0, .mode = mode, .trusted = true,
			.aside = others_may_plant_in(pfd),
		};

		r = settle_dir(pfd, last, &w, ret_fd, d);
		goto out;
	}
	fd = openat(pfd, last, PTD_DIR_FLAGS);
	if (fd < 0) {
		r = ptd_open_failed(d, pfd, last, errno);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = ptd_check_trusted(&st, last, d);
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

	fd = openat(parent_fd, name, PTD_DIR_FLAGS);
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

	/* EACCES: someone's FUSE mount, which the aside rule detaches. */
	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT || errno == EACCES ? 0 : -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid)
		return 0; /* not ours: the aside rule deals with it */
	if (!marked_ended(parent_fd, name))
		return 0; /* this run's: made by another step of the job */
	r = ptd_remove_tree(parent_fd, name, uid, &stats, why, sizeof(why));
	if (r < 0) {
		ptd_say(d->text, "cannot remove a previous run's directory: %s",
		    why);
		return r;
	}
	ptd_note(d, "removed a previous run's \"%s\" (%llu files, %llu bytes)",
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
		.aside = aside, .mark = wipe_ended,
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

	fd = openat(parent_fd, name, PTD_DIR_FLAGS);
	if (fd < 0)
		return errno == ENOENT ? 0 : ptd_open_failed(d, parent_fd, name, errno);
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_uid != uid) {
		ptd_say(d->text, "\"%s\" is owned by uid %u, expected %u", name,
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
