/* Memory-backed scratch (#13): a fresh tmpfs per job on a mount point, in
 * the job's namespace. Returns 0 or a negative errno and, on error, a
 * reason in d->text when errno alone would mislead. */
#ifndef PTD_TMPFS_H
#define PTD_TMPFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "detail.h"

/* Mounts a tmpfs of size_mb MiB (nosuid, nodev, noexec if asked), its root
 * uid:gid with mode, on the directory target_fd is open on, and checks
 * that target_path now shows it. */
int ptd_mount_tmpfs(int target_fd, const char *target_path,
		    uint32_t size_mb, unsigned mode, uid_t uid, gid_t gid,
		    bool noexec, struct ptd_detail *d);

#endif
