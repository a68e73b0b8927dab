/* The remover's release of holders whose job is gone (nsjoin.h). */
#define _GNU_SOURCE
#include "nsjoin.h"
#include "nsholder.h"
#include "hold.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

DIR *ptd_ns_list(int dir_fd, int *ret_err, struct ptd_detail *d)
{
	DIR *dir;
	int fd;

	fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && (dir = fdopendir(fd)))
		return dir;
	*ret_err = -errno;
	if (fd >= 0)
		close(fd);
	ptd_say(d->text, "listing the namespace directory");
	return NULL;
}

/* One job's entries ("<prefix><id>.sock", ".lock") name it once. */
static bool seen(const uint32_t *ids, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int ptd_ns_sweep(int dir_fd, const char *prefix, bool (*running)(uint32_t),
		 int timeout_ms, struct ptd_detail *d)
{
	static const char *const suffixes[] = { ".sock", ".lock" };
	char base[PTD_NS_NAME_MAX + 1];
	uint32_t *ids = NULL, *more, id;
	size_t n = 0, cap = 0, i, k, len;
	struct dirent *de;
	int r = 0, e;
	DIR *dir;

	/* Without a way to tell, every job is taken to run: a wrong "gone"
	 * would stop a running job's namespace. */
	if (!running)
		return 0;
	dir = ptd_ns_list(dir_fd, &r, d);
	if (!dir)
		return r;
	while ((de = readdir(dir))) {
		for (k = 0; k < sizeof(suffixes) / sizeof(*suffixes); k++) {
			len = strlen(de->d_name);
			if (len <= strlen(suffixes[k]) ||
			    len - strlen(suffixes[k]) > PTD_NS_NAME_MAX ||
			    strcmp(de->d_name + len - strlen(suffixes[k]),
				   suffixes[k]))
				continue;
			memcpy(base, de->d_name, len - strlen(suffixes[k]));
			base[len - strlen(suffixes[k])] = '\0';
			if (!ptd_match_decimal(base, prefix, &id) ||
			    seen(ids, n, id))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				more = realloc(ids, cap * sizeof(*ids));
				if (!more) {
					r = -ENOMEM;
					goto out;
				}
				ids = more;
			}
			ids[n++] = id;
		}
	}
	for (i = 0; i < n; i++) {
		struct ptd_detail one = { { 0 }, { 0 } };

		if (running(ids[i]))
			continue;
		snprintf(base, sizeof(base), "%s%u", prefix, ids[i]);
		e = ptd_ns_release_at(dir_fd, base, timeout_ms, &one);
		if (e < 0 && r == 0) {
			r = e;
			memcpy(d->text, one.text, sizeof(d->text));
		} else if (e == 0) {
			ptd_note(d, "released the namespace of job %u (no longer on this node)",
				 ids[i]);
		}
	}
out:
	free(ids);
	closedir(dir);
	return r;
}
