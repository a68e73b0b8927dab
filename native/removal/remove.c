/* Removal of a job directory tree, after systemd's rm_rf_children: every
 * step is relative to a directory descriptor opened without following
 * symlinks, and a directory is entered only after checking that the one
 * opened is the one that was looked at. The walk is iterative: a job can
 * leave a chain of directories deeper than any C stack or fd limit. */
#define _GNU_SOURCE
#include "removal/remove.h"
#include "util/escape.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/*
 * Descriptors held at once below the top directory. Holding one per level
 * would make a deep chain fail with EMFILE (or starve slurmstepd of fds),
 * so only a window of the deepest levels stays open; see reopen_parent().
 */
#define MAX_OPEN 64

/* getdents64 buffer: large enough that a big directory costs few calls. */
#define BUF_SIZE (64 * 1024)

/* Attempts at an entry that changes type under us before giving up. */
#define MAX_TRIES 3

/* Internal results of the entry handlers besides 0 and a fatal -errno. */
#define DESCENDED 1
#define RETRY 2

/* Bytes of leftover names (and their hash slots) kept over one removal. */
#define MAX_LEFT_BYTES (64u << 20)

void (*ptd_remove_test_hook)(int dirfd, const char *name) = NULL;

/*
 * The names left in place in one directory, so that a re-read listing
 * skips them: an open-addressing hash set (FNV-1a, linear probing) over one
 * arena of NUL-terminated names. A job can leave millions of entries that
 * cannot go (a writer still holding the tree, an immutable directory): a
 * list scanned per entry made that quadratic. Memory is bounded by
 * MAX_LEFT_BYTES over the whole removal; past it the removal stops with
 * E2BIG and what is left stays for a later pass.
 */
struct leftset {
	uint32_t *slot;		/* arena offset + 1, 0 when free */
	size_t nslots;		/* a power of two, or 0 */
	size_t count;
	char *arena;
	size_t used, cap;
};

struct level {
	char *name;		/* entry name in the level above */
	dev_t dev;		/* identity, to verify a re-open */
	ino_t ino;
	uid_t uid;
	mode_t mode;
	int fd;			/* -1 while closed to respect MAX_OPEN */
	bool fixed_mode;	/* already made u+rwx */
	char *buf;		/* unconsumed getdents64 output, or NULL */
	size_t len;
	size_t pos;
	struct leftset left;
};

struct info {
	dev_t dev;
	ino_t ino;
	mode_t mode;
	uid_t uid;
	uint64_t size;
	int mount_root;		/* 1, 0, or -1 when statx cannot tell */
};

struct ctx {
	struct level *lv;
	size_t depth;
	size_t cap;
	size_t lo;		/* shallowest open level other than the top */
	dev_t top_dev;
	uid_t euid;
	bool no_statx;
	char *pool;		/* free getdents64 buffers, chained */
	size_t left_bytes;	/* held by every level's leftset */
	long long deadline;	/* CLOCK_MONOTONIC ns; 0: none */
	unsigned ticks;		/* entries since the clock was last read */
	struct ptd_remove_stats st;
	int r;			/* first error */
	char *detail;
	size_t detail_size;
};

static void close_keep_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

/* Appends s to the detail text, truncating; the text stays terminated.
 * Names come from the job's tree and the text ends up in slurmd's log:
 * control bytes are escaped, so a name cannot forge a log line. */
static size_t put(struct ctx *c, size_t n, const char *s)
{
	if (!c->detail || n + 1 >= c->detail_size)
		return n;
	return n + ptd_escape(c->detail + n, c->detail_size - n, s);
}

/* Keeps the first error, described as the path of name below level k
 * (name NULL: level k itself) and a reason, strerror unless given. */
static void fail(struct ctx *c, size_t k, const char *name, int r,
		 const char *reason)
{
	size_t i, n = 0;

	if (c->r < 0)
		return;
	c->r = r;
	for (i = 0; i <= k; i++) {
		if (i)
			n = put(c, n, "/");
		n = put(c, n, c->lv[i].name);
	}
	if (name) {
		n = put(c, n, "/");
		n = put(c, n, name);
	}
	n = put(c, n, ": ");
	put(c, n, reason ? reason : strerror(-r));
}

static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char) *name) * 16777619u;
	return h;
}

/* The slot holding name, or the free slot where it would go. */
static size_t left_find(const struct leftset *s, const char *name,
			uint32_t h)
{
	size_t mask = s->nslots - 1, i = h & mask;

	while (s->slot[i] && strcmp(s->arena + s->slot[i] - 1, name))
		i = (i + 1) & mask;
	return i;
}

/* Doubles the slot table (at most half full), re-placing every name. */
static int left_grow(struct ctx *c, struct leftset *s)
{
	size_t n = s->nslots ? 2 * s->nslots : 64, i, j;
	uint32_t *t;

	if (c->left_bytes + n * sizeof(*t) > MAX_LEFT_BYTES)
		return -E2BIG;
	t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (i = 0; i < s->nslots; i++) {
		const char *name;

		if (!s->slot[i])
			continue;
		name = s->arena + s->slot[i] - 1;
		for (j = name_hash(name) & (n - 1); t[j]; j = (j + 1) & (n - 1))
			;
		t[j] = s->slot[i];
	}
	c->left_bytes += (n - s->nslots) * sizeof(*t);
	free(s->slot);
	s->slot = t;
	s->nslots = n;
	return 0;
}

static int left_reserve(struct ctx *c, struct leftset *s, size_t n)
{
	size_t cap = s->cap ? s->cap : 4096;
	char *a;

	if (s->used + n <= s->cap)
		return 0;
	while (cap < s->used + n)
		cap *= 2;
	if (c->left_bytes + (cap - s->cap) > MAX_LEFT_BYTES ||
	    cap > UINT32_MAX)
		return -E2BIG;
	a = realloc(s->arena, cap);
	if (!a)
		return -ENOMEM;
	c->left_bytes += cap - s->cap;
	s->arena = a;
	s->cap = cap;
	return 0;
}

static int add_left(struct ctx *c, struct level *l, const char *name)
{
	struct leftset *s = &l->left;
	size_t n = strlen(name) + 1, i;
	uint32_t h = name_hash(name);
	int r;

	if (s->nslots && s->slot[left_find(s, name, h)])
		return 0;
	if (2 * (s->count + 1) > s->nslots) {
		r = left_grow(c, s);
		if (r < 0)
			return r;
	}
	r = left_reserve(c, s, n);
	if (r < 0)
		return r;
	memcpy(s->arena + s->used, name, n);
	i = left_find(s, name, h);
	s->slot[i] = (uint32_t) s->used + 1;
	s->used += n;
	s->count++;
	return 0;
}

static bool is_left(const struct level *l, const char *name)
{
	const struct leftset *s = &l->left;

	return s->count && s->slot[left_find(s, name, name_hash(name))];
}

static void left_free(struct ctx *c, struct leftset *s)
{
	c->left_bytes -= s->nslots * sizeof(*s->slot) + s->cap;
	free(s->slot);
	free(s->arena);
	*s = (struct leftset) { 0 };
}

/* An entry of the current level stays: the error is kept, the name noted. */
static int leave(struct ctx *c, const char *name, int r, const char *reason)
{
	size_t k = c->depth - 1;

	fail(c, k, name, r, reason);
	return add_left(c, &c->lv[k], name);
}

static int skip_mount(struct ctx *c, const char *name, const struct info *in)
{
	c->st.skipped++;
	return leave(c, name, -EBUSY, in->dev != c->top_dev ?
		     "another filesystem left in place" :
		     "mount point left in place");
}

static char *buf_get(struct ctx *c)
{
	char *b = c->pool;

	if (!b)
		return malloc(BUF_SIZE);
	memcpy(&c->pool, b, sizeof(c->pool));
	return b;
}

static void buf_put(struct ctx *c, char *b)
{
	if (!b)
		return;
	memcpy(b, &c->pool, sizeof(c->pool));
	c->pool = b;
}

static void level_close(struct ctx *c, struct level *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	/* A re-opened descriptor reads the listing from its start again. */
	buf_put(c, l->buf);
	l->buf = NULL;
	l->len = l->pos = 0;
}

static void level_free(struct ctx *c, struct level *l)
{
	level_close(c, l);
	left_free(c, &l->left);
	free(l->name);
	l->name = NULL;
}

static void from_stat(struct info *in, const struct stat *st)
{
	in->dev = st->st_dev;
	in->ino = st->st_ino;
	in->mode = st->st_mode;
	in->uid = st->st_uid;
	in->size = st->st_size;
	in->mount_root = -1;
}

/* lstat of dirfd/name; statx also tells a same-device bind mount. */
static int stat_at(struct ctx *c, int dirfd, const char *name,
		   struct info *in)
{
	struct statx sx;
	struct stat st;

	if (!c->no_statx) {
		if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
			  STATX_TYPE | STATX_MODE | STATX_UID | STATX_INO |
			  STATX_SIZE, &sx) == 0) {
			in->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
			in->ino = sx.stx_ino;
			in->mode = sx.stx_mode;
			in->uid = sx.stx_uid;
			in->size = sx.stx_size;
			in->mount_root = -1;
			if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
				in->mount_root = !!(sx.stx_attributes &
						    STATX_ATTR_MOUNT_ROOT);
			return 0;
		}
		if (errno != ENOSYS)
			return -errno;
		c->no_statx = true;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	from_stat(in, &st);
	return 0;
}

static bool is_mount(const struct ctx *c, const struct info *in)
{
	return in->dev != c->top_dev || in->mount_root == 1;
}

/* Makes level l's directory u+rwx so that its entries can be unlinked,
 * for a caller without CAP_DAC_OVERRIDE removing its own tree. */
static int fix_level(struct ctx *c, struct level *l)
{
	mode_t m = (l->mode & 07777) | S_IRWXU;

	if (l->fixed_mode || l->uid != c->euid || l->fd < 0)
		return -EACCES;
	if (fchmod(l->fd, m) < 0)
		return -errno;
	l->fixed_mode = true;
	l->mode = m;
	return 0;
}

/* Same for a directory that cannot be opened yet: an O_PATH descriptor
 * pins the inode checked, so a swap cannot redirect the chmod. */
static int fix_entry(struct ctx *c, int dirfd, const char *name,
		     struct info *in)
{
	char proc[64];
	struct stat st;
	mode_t m = (in->mode & 07777) | S_IRWXU;
	int fd, r = 0;

	if (in->uid != c->euid)
		return -EACCES;
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_dev != in->dev || st.st_ino != in->ino ||
	    !S_ISDIR(st.st_mode)) {
		r = -EACCES;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, m) < 0) {
		r = -errno;
		goto out;
	}
	in->mode = m;
out:
	close(fd);
	return r;
}

static int unlink_in(struct ctx *c, struct level *l, const char *name,
		     int flags)
{
	if (unlinkat(l->fd, name, flags) == 0)
		return 0;
	if ((errno == EACCES || errno == EPERM) && fix_level(c, l) == 0 &&
	    unlinkat(l->fd, name, flags) == 0)
		return 0;
	return -errno;
}

bool ptd_remove_truncate;
size_t ptd_remove_max_depth;

void ptd_truncate_at(int dirfd, const char *name, dev_t dev, ino_t ino)
{
	struct stat st;
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			     O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_dev == dev && st.st_ino == ino)
		(void) ftruncate(fd, 0);
	close(fd);
}

/* in: the entry's lstat, or NULL for a type whose size is 0 anyway. */
static int remove_nondir(struct ctx *c, const char *name,
			 const struct info *in)
{
	struct info none = { .dev = c->top_dev };
	int r;

	if (ptd_remove_truncate && in && S_ISREG(in->mode) && in->size > 0)
		ptd_truncate_at(c->lv[c->depth - 1].fd, name, in->dev, in->ino);
	r = unlink_in(c, &c->lv[c->depth - 1], name, 0);
	if (r == 0) {
		c->st.files++;
		if (in)
			c->st.bytes += in->size;
		return 0;
	}
	if (r == -ENOENT)
		return 0;
	if (r == -EISDIR)
		return RETRY;
	if (r == -EBUSY)
		return skip_mount(c, name, in ? in : &none);
	return leave(c, name, r, NULL);
}

static int push(struct ctx *c, int fd, const char *name,
		const struct info *in)
{
	struct level *l;
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
		buf_put(c, l->buf);
		l->buf = NULL;
		l->len = l->pos = 0;
	}
	if (c->depth - c->lo + 1 > MAX_OPEN)
		level_close(c, &c->lv[c->lo++]);
	l = &c->lv[c->depth++];
	*l = (struct level) {
		.name = dup, .dev = in->dev, .ino = in->ino, .uid = in->uid,
		.mode = in->mode, .fd = fd,
	};
	return DESCENDED;
}

static int descend(struct ctx *c, const char *name, struct info *in)
{
	int pfd = c->lv[c->depth - 1].fd;
	int flags = DIR_FLAGS;
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
		if (fix_entry(c, pfd, name, in) == 0)
			fd = openat(pfd, name, flags);
		else
			errno = EACCES;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP || errno == ENOTDIR)
			return RETRY;	/* no longer a directory */
		return leave(c, name, -errno, NULL);
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return leave(c, name, r, NULL);
	}
	if (st.st_dev != in->dev || st.st_ino != in->ino) {
		close(fd);
		return RETRY;		/* swapped between lstat and open */
	}
	r = push(c, fd, name, in);
	if (r < 0)
		close(fd);
	return r;
}

static bool stat_free(unsigned char type)
{
	return type == DT_FIFO || type == DT_SOCK || type == DT_CHR ||
	       type == DT_BLK;
}

/* One entry of the current level: removed, left in place (error kept),
 * or entered (DESCENDED). Negative only for a fatal error. */
static int do_entry(struct ctx *c, const char *name, unsigned char type)
{
	struct info in;
	int tries, r;

	for (tries = 0; tries < MAX_TRIES; tries++, type = DT_UNKNOWN) {
		if (stat_free(type)) {
			r = remove_nondir(c, name, NULL);
			if (r != RETRY)
				return r;
			continue;
		}
		r = stat_at(c, c->lv[c->depth - 1].fd, name, &in);
		if (r == -EACCES && fix_level(c, &c->lv[c->depth - 1]) == 0)
			r = stat_at(c, c->lv[c->depth - 1].fd, name, &in);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return leave(c, name, r, NULL);
		if (is_mount(c, &in))
			return skip_mount(c, name, &in);
		if (S_ISDIR(in.mode) && ptd_remove_max_depth &&
		    c->depth > ptd_remove_max_depth) {
			c->st.skipped++;
			return leave(c, name, -E2BIG, "too deep: left in place");
		}
		if (S_ISDIR(in.mode))
			r = descend(c, name, &in);
		else
			r = remove_nondir(c, name, &in);
		if (r != RETRY)
			return r;
	}
	return leave(c, name, -EAGAIN, "kept changing during removal");
}

/* Opens level k from the top by the names recorded, checking each. */
static int reopen_by_name(struct ctx *c, size_t k, int *ret_fd)
{
	struct stat st;
	int fd = c->lv[0].fd, nfd;
	size_t i;

	for (i = 1; i <= k; i++) {
		nfd = openat(fd, c->lv[i].name, DIR_FLAGS);
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
static int reopen_parent(struct ctx *c, size_t k)
{
	struct level *p = &c->lv[k - 1];
	struct stat st;
	int fd, r;

	fd = openat(c->lv[k].fd, "..", DIR_FLAGS);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && st.st_dev == p->dev &&
		    st.st_ino == p->ino) {
			p->fd = fd;
			return 0;
		}
		close(fd);
	}
	r = reopen_by_name(c, k - 1, &fd);
	if (r < 0)
		return r;
	p->fd = fd;
	return 0;
}

/* The current level is listed: remove it from its parent. */
static int finish_level(struct ctx *c)
{
	size_t k = c->depth - 1, i;
	struct level *l = &c->lv[k], *p;
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
			fail(c, k, NULL, r, "moved during removal");
			r = add_left(c, &c->lv[0], c->lv[1].name);
			for (i = k + 1; i-- > 1;)
				level_free(c, &c->lv[i]);
			c->depth = 1;
			c->lo = 1;
			return r;
		}
		c->lo = k - 1;
	}
	level_close(c, l);
	r = unlink_in(c, p, l->name, AT_REMOVEDIR);
	if (r == 0)
		c->st.dirs++;
	else if (r != -ENOENT) {
		fail(c, k, NULL, r, NULL);
		r = add_left(c, p, l->name);
		if (r < 0)
			return r;
	}
	level_free(c, l);
	c->depth--;
	if (c->lo > c->depth - 1)
		c->lo = c->depth - 1;
	if (c->lo < 1)
		c->lo = 1;
	return 0;
}

/* Next entry of level l: 1 with *ret set, 0 at the end (or on a read
 * error, which is kept), negative when out of memory. */
static int next_entry(struct ctx *c, size_t k, struct dirent64 **ret)
{
	struct level *l = &c->lv[k];
	ssize_t n;

	if (!l->buf || l->pos >= l->len) {
		if (!l->buf) {
			l->buf = buf_get(c);
			if (!l->buf)
				return -ENOMEM;
		}
		n = getdents64(l->fd, l->buf, BUF_SIZE);
		if (n <= 0) {
			if (n < 0)
				fail(c, k, NULL, -errno, NULL);
			return 0;
		}
		l->len = n;
		l->pos = 0;
	}
	*ret = (struct dirent64 *) (l->buf + l->pos);
	l->pos += (*ret)->d_reclen;
	return 1;
}

static bool is_dot(const char *n)
{
	return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]));
}

/* Past the pass's time budget? The clock is read every 64 entries. */
static bool out_of_time(struct ctx *c)
{
	struct timespec ts;

	if (!c->deadline || ++c->ticks < 64)
		return false;
	c->ticks = 0;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return false;
	return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec > c->deadline;
}

static int walk(struct ctx *c)
{
	struct dirent64 *de;
	struct level *l;
	int r;

	for (;;) {
		if (out_of_time(c))
			return -ETIME;
		r = next_entry(c, c->depth - 1, &de);
		if (r < 0)
			return r;
		if (r == 0) {
			r = finish_level(c);
			if (r != 0)
				return r < 0 ? r : 0;
			continue;
		}
		l = &c->lv[c->depth - 1];
		if (is_dot(de->d_name) || is_left(l, de->d_name))
			continue;
		r = do_entry(c, de->d_name, de->d_type);
		if (r < 0)
			return r;
	}
}

int ptd_remove_tree(int parent_fd, const char *name, uid_t expect_uid,
		    struct ptd_remove_stats *ret_stats,
		    char *ret_detail, size_t detail_size)
{
	return ptd_remove_tree_until(parent_fd, name, expect_uid, 0, ret_stats,
				     ret_detail, detail_size);
}

int ptd_remove_tree_until(int parent_fd, const char *name, uid_t expect_uid,
			  long long deadline, struct ptd_remove_stats *ret_stats,
			  char *ret_detail, size_t detail_size)
{
	struct ctx c = {
		.euid = geteuid(), .lo = 1, .detail = ret_detail,
		.detail_size = detail_size, .deadline = deadline,
	};
	struct level *top;
	struct info in;
	struct stat st;
	int fd = -1, r;
	size_t i;

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

	r = stat_at(&c, parent_fd, name, &in);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r < 0) {
		fail(&c, 0, NULL, r, NULL);
		goto out;
	}
	if (!S_ISDIR(in.mode)) {
		fail(&c, 0, NULL, -ENOTDIR, S_ISLNK(in.mode) ?
		     "is a symlink" : "is not a directory");
		goto out;
	}
	/* Exactly the job's: the plugin made it so. A root-owned one is not a
	 * job's directory, whatever its name, and root must not empty it. */
	if (in.uid != expect_uid) {
		char why[64];

		snprintf(why, sizeof(why), "owned by uid %u",
			 (unsigned) in.uid);
		fail(&c, 0, NULL, -EPERM, why);
		goto out;
	}
	c.top_dev = in.dev;
	fd = openat(parent_fd, name, DIR_FLAGS);
	if (fd < 0 && errno == EACCES) {
		if (fix_entry(&c, parent_fd, name, &in) == 0)
			fd = openat(parent_fd, name, DIR_FLAGS);
		else
			errno = EACCES;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			goto out;
		fail(&c, 0, NULL, errno == ELOOP ? -ENOTDIR : -errno, NULL);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		fail(&c, 0, NULL, -errno, NULL);
		goto out;
	}
	if (st.st_dev != in.dev || st.st_ino != in.ino) {
		fail(&c, 0, NULL, -EAGAIN, "changed during removal");
		goto out;
	}
	*top = (struct level) {
		.name = top->name, .dev = in.dev, .ino = in.ino,
		.uid = in.uid, .mode = in.mode, .fd = fd,
	};
	fd = -1;

	r = walk(&c);
	if (r < 0) {
		fail(&c, c.depth - 1, NULL, r, NULL);
		goto out;
	}
	/* The top's parent is the caller's: no chmod of it, ever. */
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0)
		c.st.dirs++;
	else if (errno != ENOENT)
		fail(&c, 0, NULL, -errno, NULL);
out:
	if (fd >= 0)
		close(fd);
	for (i = 0; i < c.depth; i++)
		level_free(&c, &c.lv[i]);
	free(c.lv);
	while (c.pool) {
		char *b = c.pool;

		memcpy(&c.pool, b, sizeof(c.pool));
		free(b);
	}
	if (ret_stats)
		*ret_stats = c.st;
	return c.r;
}
