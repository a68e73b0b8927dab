/* The reasons and notices the filesystem operations give (detail.h). */
#define _GNU_SOURCE
#include "fs/detail.h"
#include "util/escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ptd_say(char *buf, const char *fmt, ...)
{
	char raw[PTD_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	ptd_escape(buf, PTD_DETAIL_MAX, raw);
}

void ptd_note(struct ptd_detail *d, const char *fmt, ...)
{
	char raw[sizeof(d->notice)];
	size_t n = strlen(d->notice);
	va_list ap;

	if (n && n + 2 < sizeof(d->notice)) {
		memcpy(d->notice + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	ptd_escape(d->notice + n, sizeof(d->notice) - n, raw);
}
