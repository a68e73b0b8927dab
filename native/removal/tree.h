/* One tree removal's state and the calls its parts make on each other:
 * remove.c (the public removal and its time budget), levels.c (the stack
 * of directories being emptied), entry.c (one entry of the current
 * directory), fixmode.c (a caller's own directories made u+rwx). Only for
 * removal/; the API is remove.h. */
#ifndef PTD_REMOVAL_TREE_H
#define PTD_REMOVAL_TREE_H

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "removal/leftset.h"
#include "removal/remove.h"

#define PTD_RM_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Results of the entry and directory handlers besides 0 and a fatal
 * -errno: the entry was a directory, now the current level; the entry
 * changed type under us, look at it again. */
#define PTD_RM_DESCENDED 1
#define PTD_RM_RETRY 2

/* One directory on the way from the top to the one being emptied. */
struct ptd_rm_level {
	char *name;		/* entry name in the level above */
	dev_t dev;		/* identity, to verify a re-open */
	ino_t ino;
	uid_t uid;
	mode_t mode;
	int fd;			/* -1 while closed (levels.c keeps a window) */
	bool fixed_mode;	/* already made u+rwx */
	char *buf;		/* unconsumed getdents64 output, or NULL */
	size_t len;
	size_t pos;
	struct ptd_leftset left;
};

/* What an entry is, as looked at before it is touched. */
struct ptd_rm_info {
	dev_t dev;
	ino_t ino;
	mode_t mode;
	uid_t uid;
	uint64_t size;
	int mount_root;		/* 1, 0, or -1 when statx cannot tell */
};

struct ptd_rm {
	struct ptd_rm_level *lv;
	size_t depth;		/* levels in use; lv[depth - 1] is current */
	size_t cap;
	size_t lo;		/* shallowest open level other than the top */
	dev_t top_dev;
	uid_t euid;
	bool no_statx;
	char *pool;		/* free getdents64 buffers, chained */
	size_t left_bytes;	/* held by every level's leftset */
	struct ptd_remove_how how;
	unsigned ticks;		/* entries since the clock was last read */
	struct ptd_remove_stats st;
	int r;			/* first error */
	char *detail;
	size_t detail_size;
};

/* remove.c: keeps the first error, described as the path of name below
 * level k (name NULL: level k itself) and a reason, strerror unless
 * given. */
void ptd_rm_fail(struct ptd_rm *c, size_t k, const char *name, int r,
		 const char *reason);

/* levels.c */

/* Opens the subdirectory name of the current level, checks it is the one
 * in looked at, and makes it the current level: PTD_RM_DESCENDED. 0 if it
 * is gone, PTD_RM_RETRY if it is no longer that directory; an entry it
 * cannot open stays (ptd_rm_entry_stays). */
int ptd_rm_enter_dir(struct ptd_rm *c, const char *name,
		     struct ptd_rm_info *in);

/* Next entry of level k: 1 with *ret set, 0 at the end (or on a read
 * error, which is kept), negative when out of memory. */
int ptd_rm_next_entry(struct ptd_rm *c, size_t k, struct dirent64 **ret);

/* The current level is listed: removes it from its parent, which becomes
 * current. 1 at the top (the caller removes it), else 0 or -errno. */
int ptd_rm_leave_dir(struct ptd_rm *c);

/* Closes and frees level l, its left names included. */
void ptd_rm_level_free(struct ptd_rm *c, struct ptd_rm_level *l);

/* Frees the getdents64 buffers kept for reuse. */
void ptd_rm_free_bufs(struct ptd_rm *c);

/* entry.c */

/* lstat of dirfd/name; statx also tells a same-device bind mount. */
int ptd_rm_stat_at(struct ptd_rm *c, int dirfd, const char *name,
		   struct ptd_rm_info *in);

/* One entry of the current level: removed, left in place (error kept),
 * or entered (PTD_RM_DESCENDED). Negative only for a fatal error. */
int ptd_rm_entry(struct ptd_rm *c, const char *name, unsigned char type);

/* An entry of the current level stays: the error is kept, the name noted
 * so that a re-read listing skips it. */
int ptd_rm_entry_stays(struct ptd_rm *c, const char *name, int r,
		       const char *reason);

/* fixmode.c */

/* Makes level l's directory u+rwx; -EACCES when it is not the caller's,
 * or was made so already. */
int ptd_rm_fix_level(struct ptd_rm *c, struct ptd_rm_level *l);

/* The same for dirfd/name, a directory that cannot be opened yet, if it
 * still is the one in describes. */
int ptd_rm_fix_entry(struct ptd_rm *c, int dirfd, const char *name,
		     struct ptd_rm_info *in);

/* unlinkat in level l, once more after ptd_rm_fix_level if refused. */
int ptd_rm_unlink_in(struct ptd_rm *c, struct ptd_rm_level *l,
		     const char *name, int flags);

#endif
