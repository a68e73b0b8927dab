/* Removal of a job directory tree (remove.h), after systemd's
 * rm_rf_children: every step is relative to a directory descriptor opened
 * without following symlinks, and a directory is entered only after
 * checking that the one opened is the one that was looked at. This file:
 * the top, the loop over the levels (levels.c) and their entries
 * (entry.c) within the time budget, and the first error's description. */
#define _GNU_SOURCE
#include "removal/remove.h"
#include "removal/tree.h"
#include "util/clock.h"
#include "util/escape.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Appends s to the detail text, truncating; the text stays terminated.
 * Names come from the job's tree and the text ends up in slurmd's log:
 * control bytes are escaped, so a name cannot forge a log line. */
static size_t append_escaped(struct ptd_rm *c, size_t n, const char *s)
{
	if (!c->detail || n + 1 >= c->detail_size)
		return n;
	return n + ptd_escape(c->detail + n, c->detail_size - n, s);
}

void ptd_rm_fail(struct ptd_rm *c, size_t k, const char *name, int r,
		 const char *reason)
{
	size_t i, n = 0;

	if (c->r < 0)
		return;
	c->r = r;
	for (i = 0; i <= k; i++) {
		if (i)
			n = append_escaped(c, n, "/");
		n = append_escaped(c, n, c->lv[i].name);
	}
	if (name) {
		n = append_escaped(c, n, "/");
		n = append_escaped(c, n, name);
	}
	n = append_escaped(c, n, ": ");
	append_escaped(c, n, reason ? reason : strerror(-r));
}

static bool is_dot(const char *n)
{
	return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]));
}

/* Past the pass's time budget? The clock (the deadline's, util/clock.h;
 * 0 if it cannot be read: not past) is read every 64 entries. */
static bool out_of_time(struct ptd_rm *c)
{
	if (!c->how.deadline || ++c->ticks < 64)
		return false;
	c->ticks = 0;
	return ptd_now_ns() > c->how.deadline;
}

/* Empties the top level, entry by entry and level by level, until only
 * the top (and what stays in it) is left: 0, or a fatal -errno. */
static int empty_levels(struct ptd_rm *c)
{
	struct dirent64 *de;
	struct ptd_rm_level *l;
	int r;

	for (;;) {
		if (out_of_time(c))
			return -ETIME;
		r = ptd_rm_next_entry(c, c->depth - 1, &de);
		if (r < 0)
			return r;
		if (r == 0) {
			r = ptd_rm_leave_dir(c);
			if (r != 0)
				return r < 0 ? r : 0;
			continue;
		}
		l = &c->lv[c->depth - 1];
		if (is_dot(de->d_name) || ptd_leftset_has(&l->left, de->d_name))
			continue;
		r = ptd_rm_entry(c, de->d_name, de->d_type);
		if (r < 0)
			return r;
	}
}

int ptd_remove_tree(int parent_fd, const char *name, uid_t expect_uid,
		    struct ptd_remove_stats *ret_stats,
		    char *ret_detail, size_t detail_size)
{
	return ptd_remove_tree_how(parent_fd, name, expect_uid, NULL,
				   ret_stats, ret_detail, detail_size);
}

int ptd_remove_tree_how(int parent_fd, const char *name, uid_t expect_uid,
			const struct ptd_remove_how *how,
			struct ptd_remove_stats *ret_stats,
			char *ret_detail, size_t detail_size)
{
	struct ptd_rm c = {
		.euid = geteuid(), .lo = 1, .detail = ret_detail,
		.detail_size = detail_size,
	};
	struct ptd_rm_level *top;
	struct ptd_rm_info in;
	struct stat st;
	int fd = -1, r;
	size_t i;

	if (how)
		c.how = *how;
	if (ret_stats)
		*ret_stats = (struct ptd_remove_stats) { 0 };
	if (ret_detail && detail_size)
		ret_detail[0] = '\0';
	/* One entry of parent_fd: "." or ".." would empty a parent. */
	if (!*name || strchr(name, '/') || is_dot(name))
		return -EINVAL;

	c.lv = calloc(64, sizeof(*c.lv));
	if (!c.lv)
		return -ENOMEM;
	c.cap = 64;
	top = &c.lv[0];
	top->fd = -1;
	top->name = strdup(name);
	if (!top->name) {
		c.r = -ENOMEM;
		goto out;
	}
	c.depth = 1;

	r = ptd_rm_stat_at(&c, parent_fd, name, &in);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r < 0) {
		ptd_rm_fail(&c, 0, NULL, r, NULL);
		goto out;
	}
	if (!S_ISDIR(in.mode)) {
		ptd_rm_fail(&c, 0, NULL, -ENOTDIR, S_ISLNK(in.mode) ?
			    "is a symlink" : "is not a directory");
		goto out;
	}
	/* Exactly the job's: the plugin made it so. A root-owned one is not a
	 * job's directory, whatever its name, and root must not empty it. */
	if (in.uid != expect_uid) {
		char why[64];

		snprintf(why, sizeof(why), "owned by uid %u",
			 (unsigned) in.uid);
		ptd_rm_fail(&c, 0, NULL, -EPERM, why);
		goto out;
	}
	c.top_dev = in.dev;
	fd = openat(parent_fd, name, PTD_RM_DIR_FLAGS);
	if (fd < 0 && errno == EACCES) {
		if (ptd_rm_fix_entry(&c, parent_fd, name, &in) == 0)
			fd = openat(parent_fd, name, PTD_RM_DIR_FLAGS);
		else
			errno = EACCES;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			goto out;
		ptd_rm_fail(&c, 0, NULL, errno == ELOOP ? -ENOTDIR : -errno,
			    NULL);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ptd_rm_fail(&c, 0, NULL, -errno, NULL);
		goto out;
	}
	if (st.st_dev != in.dev || st.st_ino != in.ino) {
		ptd_rm_fail(&c, 0, NULL, -EAGAIN, "changed during removal");
		goto out;
	}
	*top = (struct ptd_rm_level) {
		.name = top->name, .dev = in.dev, .ino = in.ino,
		.uid = in.uid, .mode = in.mode, .fd = fd,
	};
	fd = -1;

	r = empty_levels(&c);
	if (r < 0) {
		ptd_rm_fail(&c, c.depth - 1, NULL, r, NULL);
		goto out;
	}
	/* The top's parent is the caller's: no chmod of it, ever. */
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0)
		c.st.dirs++;
	else if (errno != ENOENT)
		ptd_rm_fail(&c, 0, NULL, -errno, NULL);
out:
	if (fd >= 0)
		close(fd);
	for (i = 0; i < c.depth; i++)
		ptd_rm_level_free(&c, &c.lv[i]);
	free(c.lv);
	ptd_rm_free_bufs(&c);
	if (ret_stats)
		*ret_stats = c.st;
	return c.r;
}
