/* The one wording of the lines the plugin and the CLI both print (the CLI
 * through the addon): a failed host operation, and the removal summary
 * sites grep for. */
#ifndef PTD_MESSAGES_H
#define PTD_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "removal/remove.h"

/* "private-tmpdir: job J uid U: removed ... in S s (where)", or, when the
 * plan only marked directories (cleanup=no), "kept its directories". where
 * may be NULL (no parenthesis). */
void ptd_summary(char *buf, size_t size, uint32_t jobid, uint32_t uid,
		 const struct ptd_remove_stats *s, double secs,
		 const char *where);

/* "<what>: <reason> (<strerror>)", or "<what>: <strerror>" without one:
 * what the core was doing, the failed op's own reason, its errno. */
void ptd_failure(char *buf, size_t size, const char *what,
		 const char *reason, int errnum);

#endif
