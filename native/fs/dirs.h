/* Making and verifying the directories of a plan. Each returns 0 or a
 * negative errno and, on error, a reason in d->text when errno alone would
 * mislead. */
#ifndef PTD_DIRS_H
#define PTD_DIRS_H

#include <stdbool.h>
#include <sys/types.h>

#include "fs/detail.h"

/* Opens an admin-configured directory: it and every directory above it
 * trusted (walk.h: root's, sticky if others may write it). With create, a
 * missing last component is made (root, mode); one that is not as
 * described is exchanged for a new one, then moved aside, when others than
 * its owner may write its parent (walk.h). */
int ptd_open_trusted(const char *path, mode_t mode, bool create, int *ret_fd,
		     struct ptd_detail *d);

/* Makes or verifies parent_fd/name: a directory owned by uid:gid with mode.
 * aside: an entry that is not ours is atomically exchanged for the new
 * directory (the name is never free), then renamed away; never trusted.
 * Both give up after 2 s of a squatter winning every round.
 * wipe_ended: an existing directory of ours holding PTD_ENDED_MARKER (a
 * previous run's) is removed and made anew; one without it is kept. */
int ptd_mkdir_at(int parent_fd, const char *name, mode_t mode, uid_t uid,
		 gid_t gid, bool aside, bool wipe_ended, int *ret_fd,
		 struct ptd_detail *d);

/* Left by MARK_ENDED; F_WIPE_ENDED looks for it (see assembly/abi.ts). */
#define PTD_ENDED_MARKER ".private-tmpdir-ended"

/* Leaves PTD_ENDED_MARKER in parent_fd/name if that is a directory owned by
 * uid; a missing directory is fine. */
int ptd_mark_ended(int parent_fd, const char *name, uid_t uid,
		   struct ptd_detail *d);

#endif
