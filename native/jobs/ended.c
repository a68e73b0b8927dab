/* Whether a job is known to have ended (ended.h). Each source is read once
 * per remover process: a sweep over 10,000 names asks 10,000 times. */
#define _GNU_SOURCE
#include "jobs/ended.h"
#include "jobs/controller.h"
#include "jobs/ctlmemo.h"
#include "util/clock.h"
#include "util/readall.h"
#include "removal/hold.h"
#include "jobs/jobset.h"
#include "ns/nsholder.h"

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
	bool looked;		/* the steps on this node were listed */
	bool here_known;	/* ... completely */
	struct ptd_jobset here;	/* jobs with a step on this node */
	bool loaded;		/* the kept answer was looked for */
	bool memo;		/* ... and is there */
	struct timespec memo_at;
	struct ptd_jobset memo_held;
	bool asked;		/* slurmctld was asked */
	bool known;		/* ... and answered */
	struct timespec at;	/* when it was asked */
	struct ptd_jobset held;	/* jobs slurmctld holds */
} seen;

/* Which cluster's answer: the configuration slurmd runs with (its path,
 * and the cluster's name). */
static const char *cluster_key(void)
{
	static char key[PATH_MAX + 64];

	if (!key[0])
		snprintf(key, sizeof(key), "%s|%s",
			 &slurm_conf && slurm_conf.slurm_conf ? slurm_conf.slurm_conf : "",
			 &slurm_conf && slurm_conf.cluster_name ? slurm_conf.cluster_name : "");
	return key;
}

static void say_kept(const char *why)
{
	char line[512];

	if (!ptd_report)
		return;
	snprintf(line, sizeof(line),
		 "private-tmpdir: remover: cannot tell which jobs have ended: %s; directories and namespaces of jobs not known to have ended are kept",
		 why);
	ptd_report(line);
}

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

/* /proc/net/unix, read once: every socket bound in this network namespace,
 * a line each, ending in its path. NULL: not read, or too large to. */
static char *bound_sockets(void)
{
	static char *text;
	static bool read_once;
	size_t len;
	int fd;

	if (read_once)
		return text;
	read_once = true;
	fd = open("/proc/net/unix", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (ptd_read_all(fd, ptd_now_ms() + 5000, 16u << 20, &text, &len) < 0)
		text = NULL;
	close(fd);
	return text;
}

/* Whether a socket is bound at path: a step's socket stays in the spool
 * directory, bound by nobody, when its slurmstepd was killed (SIGKILL; seen
 * on 22.05, where slurmd only logs "Connection refused" for it), and must
 * not keep its job on the node for ever. true when it cannot be told. */
static bool bound_at(const char *path)
{
	const char *text = bound_sockets(), *at;
	size_t n = strlen(path);

	if (!text)
		return true;
	for (at = strstr(text, path); at; at = strstr(at + 1, path))
		if (at > text && at[-1] == ' ' && (at[n] == '\n' || !at[n]))
			return true;
	return false;
}

/* slurmstepd keeps a socket "<node>_<jobid>.<step>" in SlurmdSpoolDir for
 * each step, while it listens. Best effort: the controller's answer is what
 * decides. */
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

		char sock[PATH_MAX + NAME_MAX + 2];

		if (!u || !read_id(u + 1, &id) || !strchr(u, '.'))
			continue;
		if (snprintf(sock, sizeof(sock), "%s/%s", path, de->d_name) >=
		    (int) sizeof(sock) || bound_at(sock))
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

static void look_here(void)
{
	char why[128];
	int r;

	seen.looked = true;
	r = spool_jobs(&seen.here);
	if (r == 0)
		r = stepd_jobs(&seen.here);
	seen.here_known = r == 0;
	if (r < 0) {
		snprintf(why, sizeof(why), "listing this node's steps: %s",
			 strerror(-r));
		say_kept(why);
	}
}

static void ask(void)
{
	char why[256], squeue[PATH_MAX];
	const char *conf = &slurm_conf ? slurm_conf.slurm_conf : NULL;

	seen.asked = true;
	/* Before the question: whatever was made before this moment belongs
	 * to a job the controller had already allocated. */
	clock_gettime(CLOCK_REALTIME, &seen.at);
	seen.known = ptd_ctl_jobs(ptd_ctl_squeue(squeue, sizeof(squeue)), conf,
				  PTD_CTL_TIMEOUT_MS, &seen.held, why,
				  sizeof(why)) == 0;
	if (seen.known)
		ptd_memo_save(cluster_key(), &seen.held, &seen.at);
	else
		say_kept(why);
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

bool ptd_job_known_ended(uint32_t jobid, const struct timespec *made)
{
	if (!seen.looked)
		look_here();
	if (!seen.here_known || ptd_jobset_has(&seen.here, jobid))
		return false;
	/* An answer of the last minute decides what existed before it was
	 * asked: a job it does not hold had ended by then. */
	if (!seen.loaded) {
		seen.loaded = true;
		seen.memo = ptd_memo_load(cluster_key(), &seen.memo_held,
					   &seen.memo_at) == 0;
	}
	if (seen.memo && before(made, &seen.memo_at))
		return !ptd_jobset_has(&seen.memo_held, jobid);
	if (!seen.asked)
		ask();
	return seen.known && before(made, &seen.at) &&
	       !ptd_jobset_has(&seen.held, jobid);
}
