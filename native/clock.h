/* The monotonic clock every deadline in the plugin is kept on. */
#ifndef PTD_CLOCK_H
#define PTD_CLOCK_H

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

#endif
