/* Log-safe copies of names and paths the plugin did not choose. */
#ifndef PTD_ESCAPE_H
#define PTD_ESCAPE_H

#include <stddef.h>

/*
 * Copies src into dst (size bytes, always terminated when size > 0),
 * writing every control byte (below 0x20, and 0x7f) as "\xHH", as the core
 * does for its own messages (assembly/errors.ts, sayBytes): a file name
 * from a job's tree then stays on one log line and shows what was there.
 * The output holds no control byte, so escaping it again changes nothing.
 * Truncates at a whole byte or escape, never inside one. Returns the
 * length written.
 */
size_t ptd_escape(char *dst, size_t size, const char *src);

#endif
