/* The names left in place in one directory being emptied (remove.h), so
 * that a re-read listing skips them. */
#ifndef PTD_LEFTSET_H
#define PTD_LEFTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An open-addressing hash set (FNV-1a, linear probing) over one arena of
 * NUL-terminated names. A job can leave millions of entries that cannot
 * go (a writer still holding the tree, an immutable directory): a list
 * scanned per entry made that quadratic. Zeroed: empty.
 */
struct ptd_leftset {
	uint32_t *slot;		/* arena offset + 1, 0 when free */
	size_t nslots;		/* a power of two, or 0 */
	size_t count;
	char *arena;
	size_t used, cap;
};

/* Adds name (nothing if it is in already). *held: the bytes every set of
 * one removal holds, kept up to date; past PTD_LEFTSET_MAX_BYTES, -E2BIG
 * and the removal stops (what is left stays for a later pass). 0, -E2BIG
 * or -ENOMEM. */
int ptd_leftset_add(struct ptd_leftset *s, const char *name, size_t *held);

bool ptd_leftset_has(const struct ptd_leftset *s, const char *name);

/* Frees s, takes what it held off *held, and leaves it empty. */
void ptd_leftset_free(struct ptd_leftset *s, size_t *held);

/* Bytes of leftover names (and their hash slots) kept over one removal. */
#define PTD_LEFTSET_MAX_BYTES (64u << 20)

#endif
