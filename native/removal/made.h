/* Which trees are the plugin's to remove: the ones it made for a job, and
 * nothing a user renamed into a job directory's name. */
#ifndef PTD_MADE_H
#define PTD_MADE_H

#include <stdint.h>
#include <sys/types.h>

#include "fs/detail.h"

/* On a job directory the plugin made, its name: a trusted.* attribute,
 * which only root can set, change or remove. A user can rename the
 * directory, never forge or move the mark onto another. */
#define PTD_MADE_XATTR "trusted.private-tmpdir.made"

/* Bounds on looking through a directory without the mark. */
#define PTD_MADE_MAX_ENTRIES 100000
#define PTD_MADE_MAX_DEPTH 256

/* Marks fd as made under name. 0, or -errno; a filesystem without xattrs
 * is 0 (the check below then looks inside instead). */
int ptd_mark_made(int fd, const char *name);

/*
 * 0 if dir_fd (a directory owned by uid, known as name) is ours to remove
 * as uid's job directory: it carries the mark for name, or it carries none
 * (made by 0.2.0, by the job's user before the job, or on a filesystem
 * without xattrs) and nothing in it belongs to anyone but uid and root.
 * Otherwise -EPERM (an entry of a third user: another user's files in a
 * directory renamed to this name), -E2BIG (too large or deep to look
 * through, at most PTD_MADE_MAX_ENTRIES and PTD_MADE_MAX_DEPTH), -EXDEV (a
 * mount inside), with the reason in d; nothing is removed then. Never
 * follows a symlink.
 */
int ptd_made_here(int dir_fd, const char *name, uid_t uid,
		  struct ptd_detail *d);

/* A look through a tree by the rules of removal (made_here's, and a kept
 * tree's, kept.h): every entry owned by uid or root and on dev; its size
 * on disk and files counted on the way. */
struct ptd_look {
	uid_t uid;
	dev_t dev;
	unsigned long max_entries;	/* 0: no bound */
	unsigned long entries;
	uint64_t bytes, files;
	uid_t foreign;			/* -EPERM: the other owner */
};

/* 0, or -EPERM (an entry of a third user), -EXDEV (a mount inside), -E2BIG
 * (more than max_entries, or deeper than PTD_MADE_MAX_DEPTH), -errno.
 * Never follows a symlink. */
int ptd_look_through(int dir_fd, struct ptd_look *l, int depth);

#endif
