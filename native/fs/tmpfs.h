/* Memory-backed scratch (#13): a fresh tmpfs per job on a mount point, in
 * the job's namespace. Returns 0 or a negative errno and, on error, a
 * reason in d->text when errno alone would mislead. */
#ifndef PTD_TMPFS_H
#define PTD_TMPFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fs/detail.h"
#include "removal/remove.h"

/* Mounts a tmpfs of size_mb MiB and at most inodes files and directories
 * (nosuid, nodev, noexec if asked), its root
 * uid:gid with mode, on the directory target_fd is open on, and checks
 * that target_path now shows it; *ret_root_fd (if not NULL): its root,
 * opened. */
int ptd_mount_tmpfs(int target_fd, const char *target_path,
		    uint32_t size_mb, uint32_t inodes, unsigned mode, uid_t uid,
		    gid_t gid, bool noexec, int *ret_root_fd,
		    struct ptd_detail *d);

/* Empties a job's tmpfs at the job's end (root_fd: its root), in the
 * namespace holder: every entry the job's user owns, files truncated
 * first. A descriptor a process outside the job still holds (passed out
 * over a socket) would otherwise keep the whole tmpfs, every file of it,
 * in memory after the job; so it keeps at most a file it unlinked itself.
 * ret (if not NULL): what it removed (the usage line's counts; dirs
 * without the root). */
void ptd_tmpfs_empty(int root_fd, uid_t uid, struct ptd_remove_stats *ret);

#endif
