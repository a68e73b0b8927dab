/* Detaching the remover (detach.h). */
#define _GNU_SOURCE
#include "removal/detach.h"

#include <stdbool.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* linux/ioprio.h, not in every libc's headers. */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_CLASS_SHIFT 13

/* Descriptors looked at when closing what the grandchild inherited. */
#define MAX_FD_SCAN 65536

static bool is_kept(int fd, const struct ptd_detach_how *how)
{
	int i;

	for (i = 0; i < how->n_keep_fds; i++)
		if (how->keep_fds[i] == fd)
			return true;
	return false;
}

/* Closes fd unless it is kept or the log (a regular file open for
 * writing). */
static void close_unless_kept(int fd, const struct ptd_detach_how *how)
{
	struct stat st;
	int fl;

	if (fd < 3 || is_kept(fd, how))
		return;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (fl & O_ACCMODE) != O_RDONLY)
		return;
	close(fd);
}

/* Only the descriptors that are open (/proc/self/fd): slurmd's limit can be
 * a million, and a scan of every number would cost the node that many
 * system calls per job. Without /proc, every number up to MAX_FD_SCAN. */
static void close_inherited(const struct ptd_detach_how *how)
{
	struct dirent *de;
	struct rlimit rl;
	int fd, max = MAX_FD_SCAN;
	DIR *dir = opendir("/proc/self/fd");

	if (dir) {
		while ((de = readdir(dir))) {
			char *end;
			long v = strtol(de->d_name, &end, 10);

			if (*end || end == de->d_name || v == dirfd(dir))
				continue;
			close_unless_kept((int) v, how);
		}
		closedir(dir);
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < MAX_FD_SCAN)
		max = (int) rl.rlim_cur;
	for (fd = 3; fd < max; fd++)
		close_unless_kept(fd, how);
}

static int null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
		close(fd);
		return -errno;
	}
	if (fd > 2)
		close(fd);
	return 0;
}

/* Best effort: a kernel without SCHED_IDLE or ioprio still removes. */
static void idle_priority(void)
{
	struct sched_param sp = { 0 };

	(void) setpriority(PRIO_PROCESS, 0, 19);
	(void) sched_setscheduler(0, SCHED_IDLE, &sp);
	(void) syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
		       IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
}

/* slurmstepd runs at oom_score_adj -1000, which a fork inherits: a holder
 * or remover that kept it could never be chosen by the OOM killer, however
 * much it held. 0 is every ordinary process's. Best effort (no /proc). */
static void ordinary_oom_score(void)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	(void) !write(fd, "0", 1);
	close(fd);
}

/* Where cgroup hierarchies are mounted; tests point it elsewhere. */
const char *ptd_cgroup_root = "/sys/fs/cgroup";

/* Writes "0" (this process) to <dir>/cgroup.procs; false if it cannot. */
static bool join_cgroup(const char *dir)
{
	char path[512];
	int fd;
	bool ok;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int) sizeof(path))
		return false;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	ok = write(fd, "0\n", 2) == 2;
	close(fd);
	return ok;
}

/*
 * A remover started from a step's slurmstepd is in the job's cgroups: the
 * job's memory limit would count it, proctrack/cgroup could kill it with
 * the step, and Slurm could not remove the job's cgroup while it runs. It
 * moves to the top of each hierarchy where it is inside a Slurm job
 * ("/job_<id>" in its path). Best effort: elsewhere it stays where it is
 * (the epilog's remover is in slurmd's cgroups, not a job's).
 */
static void leave_job_cgroups(void)
{
	char line[1024], dir[512];
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2, *path, *names;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		path = c2 + 1;
		path[strcspn(path, "\n")] = '\0';
		if (!strstr(path, "/job_"))
			continue;
		*c2 = '\0';
		names = c1 + 1;
		if (!names[0]) {
			/* cgroup v2: unified at the root, or beside v1 (hybrid). */
			snprintf(dir, sizeof(dir), "%s", ptd_cgroup_root);
			if (!join_cgroup(dir)) {
				snprintf(dir, sizeof(dir), "%s/unified", ptd_cgroup_root);
				(void) join_cgroup(dir);
			}
			continue;
		}
		if (!strncmp(names, "name=", 5))
			names += 5;
		snprintf(dir, sizeof(dir), "%s/%s", ptd_cgroup_root, names);
		(void) join_cgroup(dir);
	}
	fclose(f);
}

int ptd_detach(void (*fn)(void *arg), void *arg, int keep_fd)
{
	struct ptd_detach_how how = {
		.keep_fds = &keep_fd,
		.n_keep_fds = keep_fd >= 0,
		.idle = true,
		.leave_job_cgroups = true,
	};

	return ptd_detach_how(fn, arg, &how);
}

int ptd_detach_how(void (*fn)(void *arg), void *arg,
		   const struct ptd_detach_how *how)
{
	int r = ptd_detach_fork(how);

	if (r != 1)
		return r;
	fn(arg);
	_exit(0);
}

int ptd_detach_fork(const struct ptd_detach_how *how)
{
	sigset_t all;
	pid_t pid, w;
	int status;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		/* The middle child exits at once; reap it, or it lingers. */
		do
			w = waitpid(pid, &status, 0);
		while (w < 0 && errno == EINTR);
		if (w < 0)
			return errno == ECHILD ? 0 : -errno;
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EAGAIN;
	}
	/* Never return into the caller's code from the middle child: _exit
	 * only. */
	if (setsid() < 0)
		_exit(1);
	/* Root's ids of its own: it may have been forked while another
	 * slurmstepd thread had switched the process's effective ids to the
	 * job's user (a set*id call changes every thread's). The uid first:
	 * until then it has no capability to change its groups or gids.
	 * Needs real uid 0, as every caller has; a process that is not root
	 * stops here. */
	if (getuid() == 0 && (setresuid(0, 0, 0) < 0 ||
			      setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0))
		_exit(1);
	pid = fork();
	if (pid != 0)
		_exit(pid < 0);
	if (null_stdio() < 0)
		_exit(1);
	if (how->idle)
		idle_priority();
	ordinary_oom_score();
	if (how->leave_job_cgroups)
		leave_job_cgroups();
	close_inherited(how);
	sigemptyset(&all);
	(void) sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	return 1;
}
