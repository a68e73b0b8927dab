/* share= (#24): a host directory users share on purpose, such as X11's
 * /tmp/.X11-unix, kept visible at its own path inside a job's private /tmp,
 * so that X servers of different jobs see each other's sockets and pick
 * different displays, as they do without the plugin. */
#ifndef PTD_SHARE_H
#define PTD_SHARE_H

#include <stdbool.h>
#include <sys/types.h>

#include "fs/detail.h"

/* Opens the host's directory at path into *ret_fd when every directory on
 * the way, itself included, is trusted (root's; sticky if others may
 * write: as /tmp/.X11-unix is). Otherwise *ret_fd stays -1 and why is a
 * notice: a name a user planted or a node without X must never fail a
 * job, only leave it without the share. Always returns 0. */
int ptd_open_shared(const char *path, int *ret_fd, struct ptd_detail *d);

/* Binds source_fd on path (nosuid, nodev, verified): path's parent is
 * walked without symlinks, its last component made (uid:gid, 0755) if
 * missing and opened without following it; readonly: read-only too (a
 * kept place). Nothing when source_fd < 0. */
int ptd_bind_shared(int source_fd, const char *path, uid_t uid, gid_t gid,
		    bool readonly, struct ptd_detail *d);

#endif
