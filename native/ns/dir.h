/* The root-only directory of the holders' sockets and election locks,
 * and the names in it (nsholder.h). */
#ifndef PTD_NS_DIR_H
#define PTD_NS_DIR_H

#include <stdbool.h>

#include "fs/detail.h"

/* Longest name: "/proc/self/fd/<fd>/<name>.sock.new" must fit sun_path. */
#define PTD_NS_NAME_MAX 64

/* One plain entry of the directory: never "", ".", "..", a dot file or a
 * path, never a control character (it reaches the log). */
bool ptd_ns_name_ok(const char *name);

/* dir_fd is root's and mode 0700 (group and others nothing), a directory;
 * what names it in the reason. 0 or -errno. */
int ptd_ns_check_dir(int dir_fd, const char *what, struct ptd_detail *d);

/* Opens dir (absolute, symlink-free, every directory trusted, the last
 * one as ptd_ns_check_dir wants it) into *ret_fd; checks name. */
int ptd_ns_open_dir(const char *dir, const char *name, int *ret_fd,
		    struct ptd_detail *d);

#endif
