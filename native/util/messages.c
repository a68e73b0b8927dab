#include "util/messages.h"
#include "util/escape.h"

#include <stdio.h>
#include <string.h>

void ptd_summary(char *buf, size_t size, uint32_t jobid, uint32_t uid,
		 const struct ptd_remove_stats *s, double secs,
		 const char *where)
{
	char tail[128] = "";

	if (where)
		snprintf(tail, sizeof(tail), " (%s)", where);
	/* cleanup=no: the plan only marked them, and "removed 0 bytes" would
	 * read as if they had been emptied. */
	if (s->marked && !s->dirs) {
		snprintf(buf, size,
			 "private-tmpdir: job %u uid %u: kept its directories (cleanup=no), marked them ended in %.3f s%s",
			 jobid, uid, secs, tail);
		return;
	}
	snprintf(buf, size,
		 "private-tmpdir: job %u uid %u: removed %llu bytes, %llu files, %llu directories in %.3f s%s%s",
		 jobid, uid, (unsigned long long) s->bytes,
		 (unsigned long long) s->files, (unsigned long long) s->dirs,
		 secs, tail,
		 s->skipped ? " (some entries left in place)" : "");
}

void ptd_failure(char *buf, size_t size, const char *what,
		 const char *reason, int errnum)
{
	if (reason && reason[0])
		snprintf(buf, size, "%s: %s (%s)", what, reason,
			 strerror(errnum));
	else
		snprintf(buf, size, "%s: %s", what, strerror(errnum));
}

/* A figure, or "-" when not known. */
static const char *figure(char *buf, size_t size, bool known, uint64_t v)
{
	if (!known)
		return "-";
	snprintf(buf, size, "%llu", (unsigned long long) v);
	return buf;
}

void ptd_usage_line(char *buf, size_t size, uint32_t jobid, uint32_t uid,
		    const struct ptd_usage *u)
{
	char path[512], esc[512], b[24], f[24], d[24], x[24], i[24];
	size_t n = 0;
	const char *p;

	ptd_escape(esc, sizeof(esc), u->path ? u->path : "-");
	for (p = esc; *p && n + 5 < sizeof(path); p++) {
		if (*p == ' ' || *p == '\\') {
			n += (size_t) snprintf(path + n, sizeof(path) - n,
					       "\\x%02x", (unsigned) *p);
			continue;
		}
		path[n++] = *p;
	}
	path[n] = '\0';
	snprintf(buf, size,
		 "private-tmpdir: usage job=%u uid=%u path=%s kind=%s bytes=%s files=%s dirs=%s used=%s inodes=%s",
		 jobid, uid, path, u->kind,
		 figure(b, sizeof(b), u->walked, u->bytes),
		 figure(f, sizeof(f), u->walked, u->files),
		 figure(d, sizeof(d), u->walked, u->dirs),
		 figure(x, sizeof(x), u->measured, u->used),
		 figure(i, sizeof(i), u->measured, u->inodes));
}
