/* Removal of a job directory tree, fd-relative, after systemd's rm_rf_children. */
#ifndef PTD_REMOVE_H
#define PTD_REMOVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ptd_remove_stats {
	uint64_t bytes;		/* st_size summed over removed non-directories */
	uint64_t files;		/* non-directories removed */
	uint64_t dirs;		/* directories removed (the top one included) */
	uint64_t skipped;	/* entries left in place (mount points, other filesystems) */
	uint64_t marked;	/* marked ended instead, cleanup=no (ops.c counts) */
	uint64_t deferred;	/* moved into a holding place, removed later (hold.c) */
	uint64_t covered;	/* of those, into a holding place whose
				 * remover is already at work (no new one) */
	uint64_t kept;		/* job directories kept for their user (kept.h) */
};

/*
 * Removes parent_fd/name and everything below it. Never follows a symlink,
 * never leaves the filesystem of parent_fd/name (a mount point or another
 * device below it is left in place and counted in skipped), works
 * iteratively with a bounded number of descriptors, keeps going past errors.
 * The top entry must be a directory owned by expect_uid (root only when
 * expect_uid is 0), else -EPERM and nothing is touched; a missing entry is
 * success (idempotent). Returns 0 or the first negative errno; on error,
 * ret_detail (if non-NULL) holds a short "path: reason" relative to name,
 * control bytes escaped (escape.h): it is meant for a log.
 */
int ptd_remove_tree(int parent_fd, const char *name, uid_t expect_uid,
		    struct ptd_remove_stats *ret_stats,
		    char *ret_detail, size_t detail_size);

/* How a removal goes beyond ptd_remove_tree's; zeroed: as it does. */
struct ptd_remove_how {
	/* Stop with -ETIME once CLOCK_MONOTONIC passes it (ns; 0: never):
	 * a removal pass has a time budget, and what it leaves is continued
	 * by a later one. */
	long long deadline;
	/* A regular file is truncated to 0 before its unlink, so that a
	 * descriptor someone outside the job still holds on it pins none of
	 * its memory: for a job's tmpfs emptied by its namespace holder. Off
	 * for the disk removal: one more open per file. */
	bool truncate;
	/* Directories deeper than this below the top are left in place
	 * (counted in skipped); 0: no limit. Each level costs a buffer: the
	 * holder bounds its memory with it. */
	size_t max_depth;
};

/* ptd_remove_tree, as how says (NULL: as ptd_remove_tree). */
int ptd_remove_tree_how(int parent_fd, const char *name, uid_t expect_uid,
			const struct ptd_remove_how *how,
			struct ptd_remove_stats *ret_stats,
			char *ret_detail, size_t detail_size);

/* Truncates the regular file dirfd/name to 0 if it is still the file with
 * that device and inode (never following a symlink, never blocking on a
 * FIFO swapped in); nothing otherwise. */
void ptd_truncate_at(int dirfd, const char *name, dev_t dev, ino_t ino);

/*
 * Test only: when set, called for every subdirectory entry between its
 * lstat and its openat (dirfd: the directory holding it), so that a test
 * can swap the directory for a symlink at exactly that moment. Never set
 * outside tests.
 */
extern void (*ptd_remove_test_hook)(int dirfd, const char *name);

#endif
