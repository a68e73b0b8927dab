/* Whether a job is known to have ended (ended.h). Each source is read once
 * per remover process: a sweep over 10,000 names asks 10,000 times. */
#define _GNU_SOURCE
#include "ended.h"
#include "controller.h"
#include "hold.h"
#include "jobset.h"
#include "nsholder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <slurm/slurm.h>

/* slurmstepd hands the configuration down; weak, as in plugin.c. */
extern slurm_conf_t slurm_conf __attribute__((weak));

static struct {
	bool asked;		/* the sources below were read */
	bool known;		/* slurmctld answered */
	struct timespec at;	/* when it was asked */
	struct ptd_jobset held;	/* jobs slurmctld holds */
	struct ptd_jobset here;	/* jobs with a step on this node */
} seen;

/* A decimal u32 at s, up to a non-digit; false if none or too large. */
static bool read_id(const char *s, uint32_t *ret)
{
	unsigned long long v = 0;
	int i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (unsigned) (s[i] - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*ret = (uint32_t) v;
	return i > 0;
}

/* slurmstepd keeps a socket "<node>_<jobid>.<step>" in SlurmdSpoolDir for
 * each step. Best effort: the controller's answer is what decides. */
static int spool_jobs(struct ptd_jobset *set)
{
	const char *spool = &slurm_conf ? slurm_conf.slurmd_spooldir : NULL;
	const char *node, *at;
	char path[PATH_MAX];
	struct dirent *de;
	uint32_t id;
	DIR *dir;

	int r = 0;

	if (!spool || !spool[0])
		return 0;
	at = strstr(spool, "%n");
	if (at) {
		node = getenv("SLURMD_NODENAME");
		if (!node || strchr(at + 2, '%') ||
		    snprintf(path, sizeof(path), "%.*s%s%s", (int) (at - spool),
			     spool, node, at + 2) >= (int) sizeof(path))
			return 0;
	} else if (strchr(spool, '%') ||
		   snprintf(path, sizeof(path), "%s", spool) >= (int) sizeof(path)) {
		return 0;
	}
	dir = opendir(path);
	if (!dir)
		return 0;
	while (r == 0 && (de = readdir(dir))) {
		const char *u = strrchr(de->d_name, '_');

		if (u && read_id(u + 1, &id) && strchr(u, '.'))
			r = ptd_jobset_add(set, id);
	}
	closedir(dir);
	return r;
}

/* A job's namespace holder is a fork of a step's slurmstepd and keeps its
 * command line: it must not keep its own job "running". Only root sets a
 * root process's comm. */
static bool is_holder(int proc_fd, const char *pid)
{
	char path[64], comm[32];
	ssize_t k;
	int fd;

	snprintf(path, sizeof(path), "%s/comm", pid);
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	k = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (k <= 0)
		return false;
	comm[k] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return !strcmp(comm, PTD_NS_HOLDER_COMM);
}

/* slurmstepd names itself "slurmstepd: [<jobid>.<step>]" (a heterogeneous
 * job's component "[<jobid>+<n>.<step>]"), another slurmd's on this host
 * too. Only root's processes count: a user could name one so. */
static int stepd_jobs(struct ptd_jobset *set)
{
	static const char want[] = "slurmstepd: [";
	char buf[64], path[64];
	struct dirent *de;
	struct stat st;
	uint32_t id;
	ssize_t k;
	DIR *dir;
	int fd, r = 0;

	/* Without /proc nothing can be told: a doubt. */
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while (r == 0 && (de = readdir(dir))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, 0) < 0 || st.st_uid != 0)
			continue;
		snprintf(path, sizeof(path), "%s/cmdline", de->d_name);
		fd = openat(dirfd(dir), path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (k <= 0)
			continue;
		buf[k] = '\0';
		if (strncmp(buf, want, sizeof(want) - 1) ||
		    !read_id(buf + sizeof(want) - 1, &id) ||
		    is_holder(dirfd(dir), de->d_name))
			continue;
		r = ptd_jobset_add(set, id);
	}
	closedir(dir);
	return r;
}

static void ask(void)
{
	char why[256], squeue[PATH_MAX], line[512];
	const char *conf = &slurm_conf ? slurm_conf.slurm_conf : NULL;
	int r;

	seen.asked = true;
	/* Before the question: whatever was made before this moment belongs
	 * to a job the controller had already allocated. */
	clock_gettime(CLOCK_REALTIME, &seen.at);
	r = ptd_ctl_jobs(ptd_ctl_squeue(squeue, sizeof(squeue)), conf,
			 PTD_CTL_TIMEOUT_MS, &seen.held, why, sizeof(why));
	if (r == 0 && (spool_jobs(&seen.here) < 0 ||
		       (r = stepd_jobs(&seen.here)) < 0))
		snprintf(why, sizeof(why), "listing this node's steps: %s",
			 strerror(r < 0 ? -r : ENOMEM));
	seen.known = r == 0 && why[0] == '\0';
	if (!seen.known && ptd_report) {
		snprintf(line, sizeof(line),
			 "private-tmpdir: remover: cannot tell which jobs have ended: %s; directories and namespaces of jobs not known to have ended are kept",
			 why);
		ptd_report(line);
	}
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

bool ptd_job_known_ended(uint32_t jobid, const struct timespec *made)
{
	if (!seen.asked)
		ask();
	return seen.known && before(made, &seen.at) &&
	       !ptd_jobset_has(&seen.held, jobid) &&
	       !ptd_jobset_has(&seen.here, jobid);
}
