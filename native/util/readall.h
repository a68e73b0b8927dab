/* Reading a descriptor to its end into one buffer. */
#ifndef PTD_READALL_H
#define PTD_READALL_H

#include <stddef.h>

/*
 * Reads fd until EOF into a NUL-terminated buffer the caller frees, waiting
 * for data at most until deadline_ms (clock.h's clock): 0, -ETIME on
 * expiry, -EFBIG past max bytes, -ENOMEM, or read's -errno.
 */
int ptd_read_all(int fd, long long deadline_ms, size_t max, char **ret_buf,
		 size_t *ret_len);

#endif
