/* A set of job ids (jobset.h): an array, sorted on the first question. */
#include "jobs/jobset.h"

#include <errno.h>
#include <stdlib.h>

int ptd_jobset_add(struct ptd_jobset *s, uint32_t id)
{
	uint32_t *more;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;

		more = realloc(s->ids, cap * sizeof(*more));
		if (!more)
			return -ENOMEM;
		s->ids = more;
		s->cap = cap;
	}
	s->ids[s->n++] = id;
	s->sorted = false;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

	return x < y ? -1 : x > y;
}

bool ptd_jobset_has(struct ptd_jobset *s, uint32_t id)
{
	if (!s->n)
		return false;
	if (!s->sorted) {
		qsort(s->ids, s->n, sizeof(*s->ids), cmp_u32);
		s->sorted = true;
	}
	return bsearch(&id, s->ids, s->n, sizeof(*s->ids), cmp_u32) != NULL;
}

void ptd_jobset_free(struct ptd_jobset *s)
{
	free(s->ids);
	s->ids = NULL;
	s->n = s->cap = 0;
	s->sorted = false;
}
