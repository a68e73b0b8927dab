/* Opening absolute paths component by component, never following a
 * symlink, and the trust rule for directories an admin configured. */
#ifndef PTD_WALK_H
#define PTD_WALK_H

#include <stdbool.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fs/detail.h"

/* Every open of a directory: O_NOFOLLOW makes a symlink an error, never a
 * path to somewhere else. */
#define PTD_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Explains an openat(PTD_DIR_FLAGS) failure on dir_fd/name (errno e) in
 * d->text; returns -errno (ELOOP for a symlink). */
int ptd_open_failed(struct ptd_detail *d, int dir_fd, const char *name,
		    int e);

/* Whether anyone but the owner may write a file or directory of this mode
 * (a directory: create, rename and remove entries in it): group- or
 * world-writable. The one rule for "others may write": a directory others
 * may write is trusted only if sticky (ptd_check_trusted), an entry in it
 * may have been planted by another user (dirs.c), and the controller's
 * commands and memo directory are used only if nobody else may write them
 * (jobs/). */
static inline bool ptd_writable_by_non_owner(mode_t mode)
{
	return (mode & (S_IWGRP | S_IWOTH)) != 0;
}

/* 0 if st, the directory called name, is trusted: root's and, if anyone
 * but root may write it (ptd_writable_by_non_owner), sticky; else -EPERM,
 * with the reason. */
int ptd_check_trusted(const struct stat *st, const char *name,
		      struct ptd_detail *d);

/* Opens an absolute, symlink-free path of directories from "/". */
int ptd_walk(const char *path, int *ret_fd, struct ptd_detail *d);

/* The same, and every directory on the way, "/" included, must be trusted
 * (ptd_check_trusted). */
int ptd_walk_trusted(const char *path, int *ret_fd, struct ptd_detail *d);

#endif
