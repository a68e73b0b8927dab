/* Closing a descriptor kept in a variable. */
#ifndef PTD_FD_H
#define PTD_FD_H

#include <unistd.h>

/* Closes *fd if it is open and marks it closed: an exit path can close
 * every descriptor it may hold, each once. */
static inline void ptd_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

#endif
