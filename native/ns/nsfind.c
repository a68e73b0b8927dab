/* Which job an ssh session joins (nsjoin.h): its user's holder. */
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

/* More jobs of one user on one node than this is not a case to choose in. */
#define FIND_MAX 64

/* Whether the cgroup file at path (/proc/self/cgroup) puts this process in
 * job's cgroup: a path component "job_<id>", as Slurm's proctrack/cgroup
 * and task/cgroup name it (v1 and v2) and pam_slurm_adopt adopts into. */
static bool cgroup_names(const char *path, uint32_t job)
{
	char buf[8192], want[32];
	ssize_t n;
	char *p;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "/job_%u", job);
	for (p = strstr(buf, want); p; p = strstr(p + 1, want)) {
		char end = p[strlen(want)];

		if (end == '/' || end == '\n' || end == '\0')
			return true;
	}
	return false;
}

int ptd_ns_find_user_job(int dir_fd, const char *prefix, uid_t uid,
			 const char *cgroup_path, uint32_t *ret_job,
			 char *ret_name, size_t name_size,
			 struct ptd_detail *d)
{
	char base[PTD_NS_NAME_MAX + 1];
	uint32_t jobs[FIND_MAX], id;
	size_t n = 0, i, len, picked = FIND_MAX;
	struct dirent *de;
	struct stat st;
	int r;
	DIR *dir;

	dir = ptd_ns_list(dir_fd, &r, d);
	if (!dir)
		return r;
	while ((de = readdir(dir))) {
		len = strlen(de->d_name);
		if (len <= 5 || len - 5 > PTD_NS_NAME_MAX ||
		    strcmp(de->d_name + len - 5, ".sock"))
			continue;
		memcpy(base, de->d_name, len - 5);
		base[len - 5] = '\0';
		if (!ptd_match_decimal(base, prefix, &id))
			continue;
		/* Only a holder's socket: its owner is its job's user. */
		if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISSOCK(st.st_mode) || st.st_uid != uid)
			continue;
		if (n == FIND_MAX) {
			closedir(dir);
			ptd_say(d->text, "uid %u has over %d jobs keeping a namespace on this node",
				(unsigned) uid, FIND_MAX);
			return -E2BIG;
		}
		jobs[n++] = id;
	}
	closedir(dir);
	if (n == 0) {
		ptd_say(d->text, "no job of uid %u keeps a namespace on this node",
			(unsigned) uid);
		return -ENOENT;
	}
	if (n == 1) {
		picked = 0;
	} else {
		/* The job pam_slurm_adopt adopted the session into, when its
		 * cgroup shows it; guessing could put the session into
		 * another job's /tmp than the one it is accounted to. */
		for (i = 0; i < n; i++) {
			if (!cgroup_names(cgroup_path, jobs[i]))
				continue;
			if (picked != FIND_MAX) {
				picked = FIND_MAX;
				break;
			}
			picked = i;
		}
		if (picked == FIND_MAX) {
			ptd_say(d->text, "uid %u has %zu jobs on this node and the session's cgroup names none of them",
				(unsigned) uid, n);
			return -ENOTUNIQ;
		}
	}
	if ((size_t) snprintf(ret_name, name_size, "%s%u", prefix,
			      jobs[picked]) >= name_size)
		return -ENAMETOOLONG;
	*ret_job = jobs[picked];
	return 0;
}
