/* Local disk per job with a hard size (#25): an ext4 of the job's own in
 * an image reserved in full on the local disk, attached to a loop device
 * and mounted on a path, in the job's namespace. Each returns 0 or a
 * negative errno and, on error, a reason in d->text. */
#ifndef PTD_DISK_H
#define PTD_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fs/detail.h"

/* The size in MiB of the filesystem holding dir_fd (>= 0, at most
 * INT32_MAX), or a negative errno. */
int ptd_measure_disk(int dir_fd, struct ptd_detail *d);

struct ptd_disk {
	int dir_fd;		/* the images' directory (root's, 0700) */
	const char *program;	/* mke2fs, by its full path */
	uint32_t size_mb, inodes;
	unsigned mode;
	uid_t uid;
	gid_t gid;
	bool noexec;
};

/* Reserves disk->size_mb MiB in an unnamed file in disk->dir_fd (refused
 * when its filesystem has less free for users), makes an ext4 in it,
 * attaches it to a loop device (direct I/O, detached with its last
 * mount) and mounts it on the directory target_fd is open on, its root
 * uid:gid with mode; checks that target_path now shows it. On success
 * *ret_root_fd and *ret_image_fd (if not NULL) are its root and the
 * image, for ptd_disk_release. */
int ptd_mount_disk(int target_fd, const char *target_path,
		   const struct ptd_disk *disk, int *ret_root_fd,
		   int *ret_image_fd, struct ptd_detail *d);

/* The job's end, in the namespace holder: the filesystem is shut down
 * (every descriptor still on it, even one passed out of the job, gets
 * EIO from now on) and the image's space returned to the disk at once,
 * not when the last such descriptor closes. No tree walk. */
void ptd_disk_release(int root_fd, int image_fd);

/* The filesystem holding dir_fd has total_mb MiB free for users: 0, or
 * -ENOSPC with the sizes in d->text. */
int ptd_disk_fits(int dir_fd, uint32_t total_mb, struct ptd_detail *d);

/* The program's full path is a root-owned executable (no one else may
 * write it); 0, or a negative errno with the reason. */
int ptd_need_program(const char *path, struct ptd_detail *d);

#endif
