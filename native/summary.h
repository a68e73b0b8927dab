/* The one wording of the removal summary, for slurmd's log and for the
 * CLI's `cleanup --verbose` (through the addon): sites grep for it. */
#ifndef PTD_SUMMARY_H
#define PTD_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "remove.h"

/* "private-tmpdir: job J uid U: removed ... in S s (where)", or, when the
 * plan only marked directories (cleanup=no), "kept its directories". where
 * may be NULL (no parenthesis). */
void ptd_summary(char *buf, size_t size, uint32_t jobid, uint32_t uid,
		 const struct ptd_remove_stats *s, double secs,
		 const char *where);

#endif
