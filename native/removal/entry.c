/* One entry of the directory being emptied (tree.h): looked at without
 * following it, then unlinked, entered, or left in place (a mount point,
 * another filesystem, too deep), never anything else. */
#define _GNU_SOURCE
#include "removal/tree.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

/* Attempts at an entry that changes type under us before giving up. */
#define MAX_TRIES 3

static void info_from_stat(struct ptd_rm_info *in, const struct stat *st)
{
	in->dev = st->st_dev;
	in->ino = st->st_ino;
	in->mode = st->st_mode;
	in->uid = st->st_uid;
	in->size = st->st_size;
	in->mount_root = -1;
}

int ptd_rm_stat_at(struct ptd_rm *c, int dirfd, const char *name,
		   struct ptd_rm_info *in)
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
	info_from_stat(in, &st);
	return 0;
}

/* Another filesystem, or a mount of the same one (a bind): never ours to
 * empty. */
static bool is_other_mount(const struct ptd_rm *c,
			   const struct ptd_rm_info *in)
{
	return in->dev != c->top_dev || in->mount_root == 1;
}

int ptd_rm_entry_stays(struct ptd_rm *c, const char *name, int r,
		       const char *reason)
{
	size_t k = c->depth - 1;

	ptd_rm_fail(c, k, name, r, reason);
	return ptd_leftset_add(&c->lv[k].left, name, &c->left_bytes);
}

static int mount_stays(struct ptd_rm *c, const char *name,
		       const struct ptd_rm_info *in)
{
	c->st.skipped++;
	return ptd_rm_entry_stays(c, name, -EBUSY, in->dev != c->top_dev ?
				  "another filesystem left in place" :
				  "mount point left in place");
}

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
static int unlink_nondir(struct ptd_rm *c, const char *name,
			 const struct ptd_rm_info *in)
{
	struct ptd_rm_info none = { .dev = c->top_dev };
	int r;

	if (c->how.truncate && in && S_ISREG(in->mode) && in->size > 0)
		ptd_truncate_at(c->lv[c->depth - 1].fd, name, in->dev, in->ino);
	r = ptd_rm_unlink_in(c, &c->lv[c->depth - 1], name, 0);
	if (r == 0) {
		c->st.files++;
		if (in)
			c->st.bytes += in->size;
		return 0;
	}
	if (r == -ENOENT)
		return 0;
	if (r == -EISDIR)
		return PTD_RM_RETRY;
	if (r == -EBUSY)
		return mount_stays(c, name, in ? in : &none);
	return ptd_rm_entry_stays(c, name, r, NULL);
}

/* A type the listing names that can be unlinked without a look first. */
static bool needs_no_stat(unsigned char type)
{
	return type == DT_FIFO || type == DT_SOCK || type == DT_CHR ||
	       type == DT_BLK;
}

int ptd_rm_entry(struct ptd_rm *c, const char *name, unsigned char type)
{
	struct ptd_rm_info in;
	int tries, r;

	for (tries = 0; tries < MAX_TRIES; tries++, type = DT_UNKNOWN) {
		if (needs_no_stat(type)) {
			r = unlink_nondir(c, name, NULL);
			if (r != PTD_RM_RETRY)
				return r;
			continue;
		}
		r = ptd_rm_stat_at(c, c->lv[c->depth - 1].fd, name, &in);
		if (r == -EACCES &&
		    ptd_rm_fix_level(c, &c->lv[c->depth - 1]) == 0)
			r = ptd_rm_stat_at(c, c->lv[c->depth - 1].fd, name, &in);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return ptd_rm_entry_stays(c, name, r, NULL);
		if (is_other_mount(c, &in))
			return mount_stays(c, name, &in);
		if (S_ISDIR(in.mode) && c->how.max_depth &&
		    c->depth > c->how.max_depth) {
			c->st.skipped++;
			return ptd_rm_entry_stays(c, name, -E2BIG,
						  "too deep: left in place");
		}
		if (S_ISDIR(in.mode))
			r = ptd_rm_enter_dir(c, name, &in);
		else
			r = unlink_nondir(c, name, &in);
		if (r != PTD_RM_RETRY)
			return r;
	}
	return ptd_rm_entry_stays(c, name, -EAGAIN,
				  "kept changing during removal");
}
