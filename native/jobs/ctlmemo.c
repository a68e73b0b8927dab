/* slurmctld's last answer (ctlmemo.h): "<sec> <nsec>" then one job id a
 * line, written whole under a temporary name and renamed in. */
#define _GNU_SOURCE
#include "jobs/ctlmemo.h"
#include "fs/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEMO_DIR "private-tmpdir"

/* "held.<FNV-1a of cluster, 16 hex>". */
static void memo_name(const char *cluster, char *buf, size_t size)
{
	unsigned long long h = 14695981039346656037ULL;
	const unsigned char *p = (const unsigned char *) (cluster ? cluster : "");

	for (; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(buf, size, "held.%016llx", h);
}

/* The memo directory: made root's 0700 if missing, used only if it is. */
static int open_dir(void)
{
	struct stat st;
	int run, fd;

	run = open("/run", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (run < 0)
		return -errno;
	if (fstat(run, &st) < 0 || st.st_uid != 0 ||
	    ptd_writable_by_non_owner(st.st_mode)) {
		close(run);
		return -EPERM;
	}
	(void) mkdirat(run, MEMO_DIR, 0700);
	fd = openat(run, MEMO_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	close(run);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int ptd_memo_load(const char *cluster, struct ptd_jobset *ret_held,
		  struct timespec *ret_at)
{
	char name[32];
	struct timespec now;
	unsigned long long sec, nsec, id;
	struct stat st;
	FILE *f;
	int dir, fd, r = 0;

	memo_name(cluster, name, sizeof(name));
	dir = open_dir();
	if (dir < 0)
		return dir;
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dir);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    !(f = fdopen(fd, "re"))) {
		close(fd);
		return -EPERM;
	}
	if (fscanf(f, "%llu %llu", &sec, &nsec) != 2 || nsec >= 1000000000ULL ||
	    clock_gettime(CLOCK_REALTIME, &now) < 0 ||
	    (unsigned long long) now.tv_sec < sec ||
	    (unsigned long long) now.tv_sec - sec > PTD_MEMO_MAX_AGE_S) {
		fclose(f);
		return -ESTALE;
	}
	while (r == 0 && fscanf(f, "%llu", &id) == 1)
		r = id > UINT32_MAX ? -EBADMSG :
		    ptd_jobset_add(ret_held, (uint32_t) id);
	if (r == 0 && !feof(f))
		r = -EBADMSG;
	fclose(f);
	if (r < 0) {
		ptd_jobset_free(ret_held);
		return r;
	}
	ret_at->tv_sec = (time_t) sec;
	ret_at->tv_nsec = (long) nsec;
	return 0;
}

void ptd_memo_save(const char *cluster, const struct ptd_jobset *held,
		   const struct timespec *at)
{
	char name[32], tmp[48];
	size_t i;
	FILE *f;
	int dir, fd;

	memo_name(cluster, name, sizeof(name));
	dir = open_dir();
	if (dir < 0)
		return;
	snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int) getpid());
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "we"))) {
		if (fd >= 0)
			close(fd);
		close(dir);
		return;
	}
	fprintf(f, "%lld %ld\n", (long long) at->tv_sec, at->tv_nsec);
	for (i = 0; i < held->n; i++)
		fprintf(f, "%u\n", (unsigned) held->ids[i]);
	if (fclose(f) != 0 || renameat(dir, tmp, dir, name) < 0)
		(void) unlinkat(dir, tmp, 0);
	close(dir);
}
