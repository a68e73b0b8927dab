/* The stack of directories being emptied, one level per directory from
 * the top down to the current one (tree.h): entering a subdirectory only
 * once the one opened is the one looked at, listing each, re-opening a
 * closed one, and leaving one once it is empty. Iterative: a job can
 * leave a chain of directories deeper than any C stack or fd limit. */
#define _GNU_SOURCE
#include "removal/tree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Descriptors held at once below the top directory. Holding one per level
 * would make a deep chain fail with EMFILE (or starve slurmstepd of fds),
 * so only a window of the deepest levels stays open; see reopen_parent().
 */
#define MAX_OPEN 64

/* getdents64 buffer: large enough that a big directory costs few calls. */
#define BUF_SIZE (64 * 1024)

void (*ptd_remove_test_hook)(int dirfd, const char *name) = NULL;

static void close_keep_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

/* A listing buffer: a free one from the pool, else a new one. */
static char *take_buf(struct ptd_rm *c)
{
	char *b = c->pool;

	if (!b)
		return malloc(BUF_SIZE);
	memcpy(&c->pool, b, sizeof(c->pool));
	return b;
}

static void return_buf(struct ptd_rm *c, char *b)
{
	if (!b)
		return;
	memcpy(b, &c->pool, sizeof(c->pool));
	c->pool = b;
}

void ptd_rm_free_bufs(struct ptd_rm *c)
{
	while (c->pool) {
		char *b = c->pool;

		memcpy(&c->pool, b, sizeof(c->pool));
		free(b);
	}
}

static void level_close(struct ptd_rm *c, struct ptd_rm_level *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	/* A re-opened descriptor reads the listing from its start again. */
	return_buf(c, l->buf);
	l->buf = NULL;
	l->len = l->pos = 0;
}

void ptd_rm_level_free(struct ptd_rm *c, struct ptd_rm_level *l)
{
	level_close(c, l);
	ptd_leftset_free(&l->left, &c->left_bytes);
	free(l->name);
	l->name = NULL;
}

/* fd, the directory name of the current level described by in, becomes
 * the current level; the shallowest open one below the top is closed if
 * more than MAX_OPEN would be open. */
static int push_level(struct ptd_rm *c, int fd, const char *name,
		      const struct ptd_rm_info *in)
{
	struct ptd_rm_level *l;
	char *dup;

	dup = strdup(name);
	if (!dup)
		return -ENOMEM;
	if (c->depth == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;

		l = realloc(c->lv, cap * sizeof(*l));
		if (!l) {
			free(dup);
			return -ENOMEM;
		}
		c->lv = l;
		c->cap = cap;
	}
	/* name may point into the parent's buffer: released only now. */
	l = &c->lv[c->depth - 1];
	if (l->buf && l->pos >= l->len) {
		return_buf(c, l->buf);
		l->buf = NULL;
		l->len = l->pos = 0;
	}
	if (c->depth - c->lo + 1 > MAX_OPEN)
		level_close(c, &c->lv[c->lo++]);
	l = &c->lv[c->depth++];
	*l = (struct ptd_rm_level) {
		.name = dup, .dev = in->dev, .ino = in->ino, .uid = in->uid,
		.mode = in->mode, .fd = fd,
	};
	return PTD_RM_DESCENDED;
}

int ptd_rm_enter_dir(struct ptd_rm *c, const char *name,
		     struct ptd_rm_info *in)
{
	int pfd = c->lv[c->depth - 1].fd;
	int flags = PTD_RM_DIR_FLAGS;
	struct stat st;
	int fd, r;

	if (c->euid == 0 || c->euid == in->uid)
		flags |= O_NOATIME;
	if (ptd_remove_test_hook)
		ptd_remove_test_hook(pfd, name);
	fd = openat(pfd, name, flags);
	if (fd < 0 && errno == EPERM && (flags & O_NOATIME)) {
		flags &= ~O_NOATIME;
		fd = openat(pfd, name, flags);
	}
	if (fd < 0 && errno == EACCES) {
		if (ptd_rm_fix_entry(c, pfd, name, in) == 0)
			fd = openat(pfd, name, flags);
		else
			errno = EACCES;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP || errno == ENOTDIR)
			return PTD_RM_RETRY;	/* no longer a directory */
		return ptd_rm_entry_stays(c, name, -errno, NULL);
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return ptd_rm_entry_stays(c, name, r, NULL);
	}
	if (st.st_dev != in->dev || st.st_ino != in->ino) {
		close(fd);
		return PTD_RM_RETRY;	/* swapped between lstat and open */
	}
	r = push_level(c, fd, name, in);
	if (r < 0)
		close(fd);
	return r;
}

/* Opens level k from the top by the names recorded, checking each. */
static int reopen_from_top(struct ptd_rm *c, size_t k, int *ret_fd)
{
	struct stat st;
	int fd = c->lv[0].fd, nfd;
	size_t i;

	for (i = 1; i <= k; i++) {
		nfd = openat(fd, c->lv[i].name, PTD_RM_DIR_FLAGS);
		if (fd != c->lv[0].fd)
			close_keep_errno(fd);
		if (nfd < 0)
			return -errno;
		fd = nfd;
		if (fstat(fd, &st) < 0) {
			close_keep_errno(fd);
			return -errno;
		}
		if (st.st_dev != c->lv[i].dev || st.st_ino != c->lv[i].ino) {
			close(fd);
			return -ESTALE;
		}
	}
	*ret_fd = fd;
	return 0;
}

/*
 * Re-opens the closed parent of level k (the current one). ".." from the
 * open child costs one call per level, where walking down from the top
 * would make a deep chain quadratic; coreutils' fts does the same. It is
 * safe because the directory reached is used only if it is the very
 * inode recorded when it was entered by name with O_NOFOLLOW; if the
 * child was moved meanwhile, the recorded names are tried instead.
 */
static int reopen_parent(struct ptd_rm *c, size_t k)
{
	struct ptd_rm_level *p = &c->lv[k - 1];
	struct stat st;
	int fd, r;

	fd = openat(c->lv[k].fd, "..", PTD_RM_DIR_FLAGS);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && st.st_dev == p->dev &&
		    st.st_ino == p->ino) {
			p->fd = fd;
			return 0;
		}
		close(fd);
	}
	r = reopen_from_top(c, k - 1, &fd);
	if (r < 0)
		return r;
	p->fd = fd;
	return 0;
}

int ptd_rm_leave_dir(struct ptd_rm *c)
{
	size_t k = c->depth - 1, i;
	struct ptd_rm_level *l = &c->lv[k], *p;
	int r;

	if (k == 0) {
		level_close(c, l);
		return 1;	/* the caller removes the top */
	}
	p = &c->lv[k - 1];
	if (p->fd < 0) {
		r = reopen_parent(c, k);
		if (r < 0) {
			/* Levels 1..k-1 are all closed: the way back is lost.
			 * Give up on them; the top keeps the first. */
			ptd_rm_fail(c, k, NULL, r, "moved during removal");
			r = ptd_leftset_add(&c->lv[0].left, c->lv[1].name,
					    &c->left_bytes);
			for (i = k + 1; i-- > 1;)
				ptd_rm_level_free(c, &c->lv[i]);
			c->depth = 1;
			c->lo = 1;
			return r;
		}
		c->lo = k - 1;
	}
	level_close(c, l);
	r = ptd_rm_unlink_in(c, p, l->name, AT_REMOVEDIR);
	if (r == 0)
		c->st.dirs++;
	else if (r != -ENOENT) {
		ptd_rm_fail(c, k, NULL, r, NULL);
		r = ptd_leftset_add(&p->left, l->name, &c->left_bytes);
		if (r < 0)
			return r;
	}
	ptd_rm_level_free(c, l);
	c->depth--;
	if (c->lo > c->depth - 1)
		c->lo = c->depth - 1;
	if (c->lo < 1)
		c->lo = 1;
	return 0;
}

int ptd_rm_next_entry(struct ptd_rm *c, size_t k, struct dirent64 **ret)
{
	struct ptd_rm_level *l = &c->lv[k];
	ssize_t n;

	if (!l->buf || l->pos >= l->len) {
		if (!l->buf) {
			l->buf = take_buf(c);
			if (!l->buf)
				return -ENOMEM;
		}
		n = getdents64(l->fd, l->buf, BUF_SIZE);
		if (n <= 0) {
			if (n < 0)
				ptd_rm_fail(c, k, NULL, -errno, NULL);
			return 0;
		}
		l->len = n;
		l->pos = 0;
	}
	*ret = (struct dirent64 *) (l->buf + l->pos);
	l->pos += (*ret)->d_reclen;
	return 1;
}
