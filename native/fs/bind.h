/* The step's mount namespace and its binds. Each returns 0 or a negative
 * errno and, on error, a reason in d->text when errno alone would mislead. */
#ifndef PTD_BIND_H
#define PTD_BIND_H

#include <sys/types.h>

#include "fs/detail.h"

int ptd_unshare_mount_ns(struct ptd_detail *d);

/* Makes every mount of the new namespace a slave of the host's. */
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

/* The same, with extra mount flags in its remount (MS_RDONLY). */
int ptd_bind_flags(int source_fd, int target_fd, const char *target_path,
		   unsigned long extra, struct ptd_detail *d);

/* Test-only: when set to N > 0, the Nth bind from now fails with EIO before
 * mounting, to prove a failure half-way through the binds fails closed. */
extern int ptd_bind_test_fail;

#endif
