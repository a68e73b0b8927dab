/* The names left in place in one directory (leftset.h). */
#define _GNU_SOURCE
#include "removal/leftset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char) *name) * 16777619u;
	return h;
}

/* The slot holding name, or the free slot where it would go. */
static size_t find_slot(const struct ptd_leftset *s, const char *name,
			uint32_t h)
{
	size_t mask = s->nslots - 1, i = h & mask;

	while (s->slot[i] && strcmp(s->arena + s->slot[i] - 1, name))
		i = (i + 1) & mask;
	return i;
}

/* Doubles the slot table (at most half full), re-placing every name. */
static int grow_slots(struct ptd_leftset *s, size_t *held)
{
	size_t n = s->nslots ? 2 * s->nslots : 64, i, j;
	uint32_t *t;

	if (*held + n * sizeof(*t) > PTD_LEFTSET_MAX_BYTES)
		return -E2BIG;
	t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (i = 0; i < s->nslots; i++) {
		const char *name;

		if (!s->slot[i])
			continue;
		name = s->arena + s->slot[i] - 1;
		for (j = name_hash(name) & (n - 1); t[j]; j = (j + 1) & (n - 1))
			;
		t[j] = s->slot[i];
	}
	*held += (n - s->nslots) * sizeof(*t);
	free(s->slot);
	s->slot = t;
	s->nslots = n;
	return 0;
}

/* Room for n more bytes of names in the arena; offsets stay below 2^32. */
static int reserve_arena(struct ptd_leftset *s, size_t n, size_t *held)
{
	size_t cap = s->cap ? s->cap : 4096;
	char *a;

	if (s->used + n <= s->cap)
		return 0;
	while (cap < s->used + n)
		cap *= 2;
	if (*held + (cap - s->cap) > PTD_LEFTSET_MAX_BYTES ||
	    cap > UINT32_MAX)
		return -E2BIG;
	a = realloc(s->arena, cap);
	if (!a)
		return -ENOMEM;
	*held += cap - s->cap;
	s->arena = a;
	s->cap = cap;
	return 0;
}

int ptd_leftset_add(struct ptd_leftset *s, const char *name, size_t *held)
{
	size_t n = strlen(name) + 1, i;
	uint32_t h = name_hash(name);
	int r;

	if (s->nslots && s->slot[find_slot(s, name, h)])
		return 0;
	if (2 * (s->count + 1) > s->nslots) {
		r = grow_slots(s, held);
		if (r < 0)
			return r;
	}
	r = reserve_arena(s, n, held);
	if (r < 0)
		return r;
	memcpy(s->arena + s->used, name, n);
	i = find_slot(s, name, h);
	s->slot[i] = (uint32_t) s->used + 1;
	s->used += n;
	s->count++;
	return 0;
}

bool ptd_leftset_has(const struct ptd_leftset *s, const char *name)
{
	return s->count && s->slot[find_slot(s, name, name_hash(name))];
}

void ptd_leftset_free(struct ptd_leftset *s, size_t *held)
{
	*held -= s->nslots * sizeof(*s->slot) + s->cap;
	free(s->slot);
	free(s->arena);
	*s = (struct ptd_leftset) { 0 };
}
