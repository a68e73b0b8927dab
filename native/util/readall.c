/* Reading a descriptor to its end (readall.h): the remover reads squeue's
 * output and /proc/net/unix with it. */
#define _GNU_SOURCE
#include "util/readall.h"
#include "util/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int ptd_read_all(int fd, long long deadline_ms, size_t max, char **ret_buf,
		 size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *more;
	ssize_t n;
	int r;

	for (;;) {
		r = ptd_wait_readable(fd, deadline_ms);
		if (r < 0) {
			free(buf);
			return r == -ETIMEDOUT ? -ETIME : r;
		}
		if (cap - len < 65536) {
			if (cap >= max) {
				free(buf);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : 65536;
			more = realloc(buf, cap + 1);
			if (!more) {
				free(buf);
				return -ENOMEM;
			}
			buf = more;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t) n;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}
