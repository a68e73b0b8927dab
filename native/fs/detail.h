/* What an operation says besides its errno: why it failed, when errno
 * alone would mislead ("owned by uid 1002"), and what it did that an admin
 * should see (a squatter moved aside). Both are escaped whole (escape.h):
 * the names in them may come from a user, and the text goes to slurmd's
 * log. */
#ifndef PTD_DETAIL_H
#define PTD_DETAIL_H

#define PTD_DETAIL_MAX 256

struct ptd_detail {
	char text[PTD_DETAIL_MAX];	/* why, when errno alone would mislead */
	char notice[4 * PTD_DETAIL_MAX]; /* what was done that an admin should see */
};

/* Sets buf (PTD_DETAIL_MAX bytes) to the formatted reason. */
void ptd_say(char *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends a notice: one call may move several entries aside. */
void ptd_note(struct ptd_detail *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
