/* The remover's release of holders whose job is gone (nsjoin.h). */
#define _GNU_SOURCE
#include "ns/nsjoin.h"
#include "ns/dir.h"
#include "removal/hold.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* When the job's newest entry was made: a holder started after the
 * question about its job is not answered by it. -1 if none is there. */
static int newest_entry(int dir_fd, const char *base, struct timespec *ret)
{
	static const char *const suffixes[] = { ".sock", ".lock" };
	char name[PTD_NS_NAME_MAX + 8];
	struct stat st;
	bool any = false;
	size_t k;

	for (k = 0; k < sizeof(suffixes) / sizeof(*suffixes); k++) {
		snprintf(name, sizeof(name), "%s%s", base, suffixes[k]);
		if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!any || st.st_ctim.tv_sec > ret->tv_sec ||
		    (st.st_ctim.tv_sec == ret->tv_sec &&
		     st.st_ctim.tv_nsec > ret->tv_nsec))
			*ret = st.st_ctim;
		any = true;
	}
	return any ? 0 : -1;
}

int ptd_ns_sweep(int dir_fd, const char *prefix,
		 bool (*ended)(uint32_t, const struct timespec *),
		 int timeout_ms, struct ptd_detail *d)
{
	static const char *const suffixes[] = { ".sock", ".lock" };
	char base[PTD_NS_NAME_MAX + 1];
	uint32_t *ids = NULL, *more, id;
	size_t n = 0, cap = 0, i, k, len;
	struct dirent *de;
	int r = 0, e;
	DIR *dir;

	/* Without a way to tell, no job is taken to have ended: a wrong
	 * "ended" would stop a running job's namespace. */
	if (!ended)
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
		struct timespec made;

		snprintf(base, sizeof(base), "%s%u", prefix, ids[i]);
		if (newest_entry(dir_fd, base, &made) < 0 ||
		    !ended(ids[i], &made))
			continue;
		e = ptd_ns_release_at(dir_fd, base, timeout_ms, &one);
		if (e < 0 && r == 0) {
			r = e;
			memcpy(d->text, one.text, sizeof(d->text));
		} else if (e == 0) {
			ptd_note(d, "released the namespace of job %u (the job has ended)",
				 ids[i]);
		}
	}
out:
	free(ids);
	closedir(dir);
	return r;
}
