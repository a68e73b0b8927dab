/* The one wording of the lines the plugin and the CLI both print (the CLI
 * through the addon): a failed host operation, and the removal summary
 * sites grep for. */
#ifndef PTD_MESSAGES_H
#define PTD_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "removal/remove.h"

/* "private-tmpdir: job J uid U: removed ... in S s (where)", or, when the
 * plan only marked directories (cleanup=no), "kept its directories". where
 * may be NULL (no parenthesis). */
void ptd_summary(char *buf, size_t size, uint32_t jobid, uint32_t uid,
		 const struct ptd_remove_stats *s, double secs,
		 const char *where);

/* What a job left in one of its private paths (#26): what a removal walk
 * counted (walked), what the filesystem's statfs said before it went
 * (measured), or both. */
struct ptd_usage {
	const char *kind;	/* "bind" (mount=), "tmpfs", "disk" */
	const char *path;	/* the mount path the job saw (the plan's) */
	bool walked;		/* bytes, files, dirs known */
	uint64_t bytes;		/* st_size summed over files */
	uint64_t files;		/* non-directories */
	uint64_t dirs;		/* directories below the path */
	bool measured;		/* used, inodes known */
	uint64_t used;		/* bytes of the filesystem's blocks in use */
	uint64_t inodes;	/* inodes in use (files and directories) */
};

/* The usage line, one per private path and job, for machines and people:
 * "private-tmpdir: usage job=J uid=U path=P kind=K bytes=B files=F
 * dirs=D used=X inodes=I", every key always there, "-" where not known,
 * a space (or a backslash) in the path written as \x20 (\x5c) so that
 * the line splits on spaces (docs/deploying.md). */
void ptd_usage_line(char *buf, size_t size, uint32_t jobid, uint32_t uid,
		    const struct ptd_usage *u);

/* "<what>: <reason> (<strerror>)", or "<what>: <strerror>" without one:
 * what the core was doing, the failed op's own reason, its errno. */
void ptd_failure(char *buf, size_t size, const char *what,
		 const char *reason, int errnum);

#endif
