/* The syscalls behind each plan operation: fd-relative, never following a
 * symlink. Each returns 0 or a negative errno and, on error, a reason in
 * ret_detail when errno alone would mislead ("owned by uid 1002"). */
#ifndef PTD_FSOPS_H
#define PTD_FSOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PTD_DETAIL_MAX 256

struct ptd_detail {
	char text[PTD_DETAIL_MAX];	/* why, when errno alone would mislead */
	char notice[4 * PTD_DETAIL_MAX]; /* what was done that an admin should see */
};

/* Opens an absolute, symlink-free path of directories from "/". */
int ptd_walk(const char *path, int *ret_fd, struct ptd_detail *d);

/* Opens an admin-configured directory: every component a real directory,
 * the last owned by root and, if others may write it, sticky. With create,
 * a missing last component is made (root, mode); one that is not as
 * described is exchanged for a new one, then moved aside, when its parent
 * is shared. */
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

int ptd_unshare_mount_ns(struct ptd_detail *d);
int ptd_make_slave(struct ptd_detail *d);

/* Opens a private directory by path: it must be the directory expect_fd is
 * open on (same device and inode) and owned by uid. */
int ptd_open_private(const char *path, uid_t uid, int expect_fd, int *ret_fd,
		     struct ptd_detail *d);

/* Opens a mount point (a directory) by path. */
int ptd_open_target(const char *path, int *ret_fd, struct ptd_detail *d);

/* Binds source_fd on target_fd (nosuid, nodev) and checks that target_path
 * now shows the source. */
int ptd_bind(int source_fd, int target_fd, const char *target_path,
	     struct ptd_detail *d);

/* Test-only: when set to N > 0, the Nth bind from now fails with EIO before
 * mounting, to prove a failure half-way through the binds fails closed. */
extern int ptd_fsops_test_fail_bind;

#endif
