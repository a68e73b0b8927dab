/* The monotonic clock every deadline in the plugin is kept on. */
#ifndef PTD_CLOCK_H
#define PTD_CLOCK_H

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>

static inline long long ptd_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline long long ptd_now_ms(void)
{
	return ptd_now_ns() / 1000000;
}

/* Waits until fd is readable (or hung up) or the deadline (ptd_now_ms's
 * clock) passes: 0, -ETIMEDOUT, or poll's -errno. Signals are waited
 * through. */
static inline int ptd_wait_readable(int fd, long long deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		long long left = deadline_ms - ptd_now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int) left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

#endif
