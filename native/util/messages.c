#include "util/messages.h"

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
