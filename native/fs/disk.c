/* A job's own disk on a mount point (disk.h). */
#define _GNU_SOURCE
#include "fs/disk.h"
#include "fs/mkfs.h"
#include "fs/walk.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef LOOP_MAJOR
#define LOOP_MAJOR 7
#endif
/* ext4's (and XFS's) shutdown ioctl; in linux/fs.h only since 6.x. */
#ifndef FS_IOC_SHUTDOWN
#define FS_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#endif
#define SHUTDOWN_NOLOGFLUSH 2
/* Another process may take the free loop device we were told of first. */
#define LOOP_TRIES 16

int ptd_measure_disk(int dir_fd, struct ptd_detail *d)
{
	struct statvfs sv;
	uint64_t mb;

	if (fstatvfs(dir_fd, &sv) < 0) {
		int r = -errno;

		ptd_say(d->text, "statvfs: %s", strerror(-r));
		return r;
	}
	mb = (uint64_t) sv.f_blocks * sv.f_frsize >> 20;
	return mb > INT32_MAX ? INT32_MAX : (int) mb;
}

/* What users may still write (f_bavail), not what root may: an image must
 * never eat the blocks a filesystem keeps back for root. */
static int check_free(int fd, uint32_t size_mb, struct ptd_detail *d)
{
	struct statvfs sv;
	uint64_t free_mb;

	if (fstatvfs(fd, &sv) < 0)
		return -errno;
	free_mb = (uint64_t) sv.f_bavail * sv.f_frsize >> 20;
	if (free_mb >= size_mb)
		return 0;
	ptd_say(d->text, "cannot reserve %u MiB: %llu MiB free of %llu MiB",
		(unsigned) size_mb, (unsigned long long) free_mb,
		(unsigned long long) ((uint64_t) sv.f_blocks * sv.f_frsize >> 20));
	return -ENOSPC;
}

int ptd_disk_fits(int dir_fd, uint32_t total_mb, struct ptd_detail *d)
{
	return check_free(dir_fd, total_mb, d);
}

/* The reservation: under the images' directory's lock, so that two jobs
 * starting at once cannot both count the same free space. */
static int reserve(int dir_fd, int image_fd, uint32_t size_mb,
		   struct ptd_detail *d)
{
	uint64_t want = (uint64_t) size_mb << 20;
	int lock, r;

	lock = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0)
		return -errno;
	while (flock(lock, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = -errno;
			goto out;
		}
	}
	r = check_free(image_fd, size_mb, d);
	if (r < 0)
		goto out;
	/* Allocated now, not as the job writes: this is the reservation. */
	if (fallocate(image_fd, 0, 0, (off_t) want) < 0) {
		r = -errno;
		ptd_say(d->text, "reserving %u MiB (fallocate): %s",
			(unsigned) size_mb, strerror(-r));
	}
out:
	close(lock); /* and its lock */
	return r;
}

/* Attaches image_fd to a free loop device: direct I/O (the job's pages
 * are cached once, by its own filesystem), detached by the kernel when
 * its last user (the mount) goes. Returns the device's descriptor and
 * its number in *ret_n. */
static int attach(int image_fd, const char *target_path, int *ret_n,
		  struct ptd_detail *d)
{
	struct loop_config c;
	struct stat st;
	int ctl, n, fd = -1, r = -EBUSY;
	char dev[32];

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		r = -errno;
		ptd_say(d->text, "/dev/loop-control: %s", strerror(-r));
		return r;
	}
	memset(&c, 0, sizeof(c));
	c.fd = (uint32_t) image_fd;
	c.block_size = 4096;
	c.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
	/* What an admin's losetup shows for it. */
	snprintf((char *) c.info.lo_file_name, sizeof(c.info.lo_file_name),
		 "private-tmpdir %s", target_path);
	for (int tries = 0; tries < LOOP_TRIES; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			r = -errno;
			ptd_say(d->text, "no free loop device: %s", strerror(-r));
			break;
		}
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		fd = open(dev, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			r = -errno;
			ptd_say(d->text, "%s: %s", dev, strerror(-r));
			break;
		}
		if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) ||
		    major(st.st_rdev) != LOOP_MAJOR) {
			ptd_say(d->text, "%s is not a loop device", dev);
			r = -ENODEV;
			break;
		}
		if (ioctl(fd, LOOP_CONFIGURE, &c) == 0) {
			close(ctl);
			*ret_n = n;
			return fd;
		}
		r = -errno;
		ptd_close_fd(&fd);
		if (r != -EBUSY) {
			ptd_say(d->text, "%s: LOOP_CONFIGURE: %s", dev, strerror(-r));
			break;
		}
	}
	if (r == -EBUSY)
		ptd_say(d->text, "every free loop device was taken first");
	ptd_close_fd(&fd);
	close(ctl);
	return r;
}

/* What a task finds at the path from now on must be this filesystem's
 * root (the loop device's, ours by owner), not a mount someone stacked
 * there meanwhile; its mode is set here (mke2fs makes it 0755), and the
 * lost+found mke2fs made goes: the job's /tmp starts empty. */
static int verify(const char *target_path, dev_t dev, unsigned mode,
		  uid_t uid, gid_t gid, int *ret_root_fd, struct ptd_detail *d)
{
	struct statfs sf;
	struct stat st;
	int fd, r;

	r = ptd_walk(target_path, &fd, d);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0) {
		r = -errno;
		goto out;
	}
	if ((unsigned long) sf.f_type != EXT4_SUPER_MAGIC || st.st_dev != dev ||
	    st.st_uid != uid || st.st_gid != gid) {
		ptd_say(d->text, "after the mount, it does not show the job's disk");
		r = -EIO;
		goto out;
	}
	if (fchmod(fd, mode) < 0 ||
	    (unlinkat(fd, "lost+found", AT_REMOVEDIR) < 0 && errno != ENOENT)) {
		r = -errno;
		goto out;
	}
	*ret_root_fd = fd;
	return 0;
out:
	close(fd);
	return r;
}

int ptd_mount_disk(int target_fd, const char *target_path,
		   const struct ptd_disk *disk, int *ret_root_fd,
		   int *ret_image_fd, struct ptd_detail *d)
{
	unsigned long flags = MS_NOSUID | MS_NODEV;
	int image = -1, loop = -1, root = -1, n = -1, r;
	char src[32], dst[64];
	struct stat lst;

	if (disk->size_mb == 0 || disk->inodes == 0 || disk->mode > 07777)
		return -EINVAL;
	if (disk->noexec)
		flags |= MS_NOEXEC;
	/* Unnamed: nobody can open it by a path, and a crash leaves no
	 * image behind (the kernel frees it with its last reference). */
	image = openat(disk->dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (image < 0) {
		r = -errno;
		ptd_say(d->text, "making the image (O_TMPFILE): %s", strerror(-r));
		return r;
	}
	r = reserve(disk->dir_fd, image, disk->size_mb, d);
	if (r < 0)
		goto out;
	r = ptd_mkfs(disk->program, image, disk->inodes, disk->uid, disk->gid, d);
	if (r < 0)
		goto out;
	loop = attach(image, target_path, &n, d);
	if (loop < 0) {
		r = loop;
		goto out;
	}
	if (fstat(loop, &lst) < 0) {
		r = -errno;
		goto out;
	}
	snprintf(src, sizeof(src), "/dev/loop%d", n);
	/* Through /proc/self/fd, as a bind: the very mount point opened
	 * (without following a symlink) before, whatever is at its path now. */
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d", target_fd);
	if (mount(src, dst, "ext4", flags, "") < 0) {
		r = -errno;
		ptd_say(d->text, "mount -t ext4 %s: %s", src, strerror(-r));
		goto out;
	}
	r = verify(target_path, lst.st_rdev, disk->mode, disk->uid, disk->gid,
		   &root, d);
out:
	/* From here the mount alone holds the device: its last unmount
	 * detaches it, and the image goes with it. */
	ptd_close_fd(&loop);
	if (r == 0 && ret_root_fd)
		*ret_root_fd = root;
	else
		ptd_close_fd(&root);
	if (r == 0 && ret_image_fd)
		*ret_image_fd = image;
	else
		ptd_close_fd(&image);
	return r;
}

void ptd_disk_release(int root_fd, int image_fd)
{
	uint32_t how = SHUTDOWN_NOLOGFLUSH;
	struct stat st;

	if (root_fd >= 0)
		(void) ioctl(root_fd, FS_IOC_SHUTDOWN, &how);
	if (image_fd >= 0 && fstat(image_fd, &st) == 0 && st.st_size > 0)
		(void) fallocate(image_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 0, st.st_size);
}

int ptd_need_program(const char *path, struct ptd_detail *d)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		int r = -errno;

		ptd_say(d->text, "%s", strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) ||
	    !(st.st_mode & 0100)) {
		ptd_say(d->text, "not a root-owned executable that only root may change");
		return -EPERM;
	}
	return 0;
}
