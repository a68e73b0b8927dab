/* Whether a job runs on this node (running.h), for the orphan sweep. */
#define _GNU_SOURCE
#include "running.h"
#include "nsholder.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <slurm/slurm.h>

/* slurmstepd hands the configuration down; weak, as in plugin.c. */
extern slurm_conf_t slurm_conf __attribute__((weak));

/* slurmstepd keeps a socket "<node>_<jobid>.<step>" in SlurmdSpoolDir for
 * each step. No configuration, an unreadable or unexpanded spool path:
 * true. */
static bool spool_says_running(uint32_t jobid)
{
	const char *spool = &slurm_conf ? slurm_conf.slurmd_spooldir : NULL;
	char want[32], path[4096];
	const char *node, *at;
	struct dirent *de;
	bool found = false;
	size_t n;
	DIR *dir;

	if (!spool || !spool[0])
		return true;
	at = strstr(spool, "%n");
	if (at) {
		node = getenv("SLURMD_NODENAME");
		if (!node || strchr(at + 2, '%') ||
		    snprintf(path, sizeof(path), "%.*s%s%s", (int) (at - spool),
			     spool, node, at + 2) >= (int) sizeof(path))
			return true;
	} else if (strchr(spool, '%') ||
		   snprintf(path, sizeof(path), "%s", spool) >= (int) sizeof(path)) {
		return true;
	}
	dir = opendir(path);
	if (!dir)
		return true;
	snprintf(want, sizeof(want), "_%u.", (unsigned) jobid);
	n = strlen(want);
	while (!found && (de = readdir(dir))) {
		const char *u = strrchr(de->d_name, '_');

		/* "<node>_<jobid>.<step>": the job id right after the last
		 * "_", the step (digits) after it. */
		found = u && !strncmp(u, want, n) && u[n] >= '0' && u[n] <= '9';
	}
	closedir(dir);
	return found;
}

/* A job's namespace holder is a fork of a step's slurmstepd and keeps its
 * command line: it must not keep its own job "running" (nothing would then
 * release it, or sweep the job's directories). Only root sets a root
 * process's comm. */
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
 * job's component "[<jobid>+<n>.<step>]"). Only root's processes count: a
 * user could name one so, to keep an orphan from being swept. */
static bool stepd_says_running(uint32_t jobid)
{
	char want[48], buf[64], path[64];
	struct dirent *de;
	struct stat st;
	bool found = false;
	size_t n;
	ssize_t k;
	DIR *dir;
	int fd;

	dir = opendir("/proc");
	if (!dir)
		return true;
	n = (size_t) snprintf(want, sizeof(want), "slurmstepd: [%u", (unsigned) jobid);
	while (!found && (de = readdir(dir))) {
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
		found = !strncmp(buf, want, n) &&
			(buf[n] == '.' || buf[n] == '+' || buf[n] == ']') &&
			!is_holder(dirfd(dir), de->d_name);
	}
	closedir(dir);
	return found;
}

bool ptd_job_runs_here(uint32_t jobid)
{
	return spool_says_running(jobid) || stepd_says_running(jobid);
}
