/* A set of job ids, built once per sweep and asked many times. */
#ifndef PTD_JOBSET_H
#define PTD_JOBSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ptd_jobset {
	uint32_t *ids;
	size_t n, cap;
	bool sorted;
};

/* 0, or -ENOMEM (the set is then incomplete: the caller must not use it). */
int ptd_jobset_add(struct ptd_jobset *s, uint32_t id);
bool ptd_jobset_has(struct ptd_jobset *s, uint32_t id);
void ptd_jobset_free(struct ptd_jobset *s);

#endif
