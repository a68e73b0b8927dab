/* Running mke2fs on a disk='s image (disk.c): no shell, no PATH search,
 * a fixed environment, a time budget. */
#ifndef PTD_MKFS_H
#define PTD_MKFS_H

#include <stdint.h>
#include <sys/types.h>

#include "fs/detail.h"

/* Makes an ext4 of inodes inodes, root owned by uid:gid, in the file
 * image_fd is open on, with program (mke2fs); 0, or a negative errno
 * with mke2fs's own words in d->text. */
int ptd_mkfs(const char *program, int image_fd, uint32_t inodes, uid_t uid,
	     gid_t gid, struct ptd_detail *d);

#endif
