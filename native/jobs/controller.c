/* Asking slurmctld which jobs it still holds (controller.h), through
 * squeue: a fork and exec from the remover, which is single-threaded and
 * off every job's path. Linking Slurm's client API instead would call into
 * slurmd's own locks and auth state from a forked child. */
#define _GNU_SOURCE
#include "jobs/controller.h"
#include "fs/walk.h"
#include "util/readall.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Room for a million jobs' lines; more is not an answer we can trust. */
#define MAX_OUTPUT (64u << 20)

/* squeue's compact codes of the final states: the job holds no node and
 * never will again. Anything else, a code added later included, counts as
 * not ended. */
static const char *const final_states[] = {
	"CD", "CA", "F", "TO", "NF", "PR", "OOM", "BF", "DL", NULL,
};


static bool trusted_exe(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       st.st_uid == 0 && !ptd_writable_by_non_owner(st.st_mode) &&
	       (st.st_mode & 0100);
}

const char *ptd_ctl_squeue(char *buf, size_t size)
{
	static const char *const fixed[] = {
		"/usr/bin/squeue", "/usr/local/bin/squeue", NULL,
	};
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;
	int i;

	/* /usr/sbin/slurmd: /usr/bin/squeue; /opt/slurm/sbin: /opt/slurm/bin. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(buf, size, "%s/../bin/squeue", exe) <
				    (int) size &&
			    trusted_exe(buf))
				return buf;
		}
	}
	for (i = 0; fixed[i]; i++)
		if (trusted_exe(fixed[i]) &&
		    snprintf(buf, size, "%s", fixed[i]) < (int) size)
			return buf;
	return NULL;
}

/* The child: squeue on the pipe, nothing else inherited. */
static void run_squeue(const char *squeue, const char *conf, int out_fd)
{
	char conf_env[PATH_MAX + 16];
	char *argv[] = {
		(char *) squeue, "--noheader", "--all", "--local",
		"--states=all", "--format=%A %t", NULL,
	};
	/* Nothing of the caller's environment: SQUEUE_FORMAT and the like
	 * would change what is printed. */
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
			 conf_env, NULL };
	sigset_t none;
	int null_fd;

	if (conf && conf[0])
		snprintf(conf_env, sizeof(conf_env), "SLURM_CONF=%s", conf);
	else
		envp[2] = NULL;
	(void) setpgid(0, 0);
	sigemptyset(&none);
	(void) sigprocmask(SIG_SETMASK, &none, NULL);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || dup2(out_fd, 1) < 0 || dup2(null_fd, 0) < 0 ||
	    dup2(null_fd, 2) < 0)
		_exit(127);
	(void) syscall(SYS_close_range, 3, ~0U, 0);
	execve(squeue, argv, envp);
	_exit(127);
}

static bool is_final(const char *state, size_t n)
{
	int i;

	for (i = 0; final_states[i]; i++)
		if (strlen(final_states[i]) == n &&
		    !strncmp(final_states[i], state, n))
			return true;
	return false;
}

/* "<id> <STATE>\n" lines, every one of them, or -EBADMSG. */
static int parse(char *buf, size_t len, struct ptd_jobset *ret, char *why,
		 size_t why_size)
{
	char *line = buf, *end = buf + len;
	unsigned line_no = 0;

	while (line < end) {
		char *nl = memchr(line, '\n', (size_t) (end - line));
		char *p = line, *st;
		uint64_t id = 0;
		size_t digits = 0, n = 0;

		if (!nl)
			nl = end;
		line_no++;
		while (p < nl && *p >= '0' && *p <= '9' && digits < 11) {
			id = id * 10 + (uint64_t) (*p++ - '0');
			digits++;
		}
		st = p + 1;
		while (st + n < nl && st[n] >= 'A' && st[n] <= 'Z')
			n++;
		if (!digits || id > UINT32_MAX || p >= nl || *p != ' ' ||
		    !n || st + n != nl) {
			snprintf(why, why_size,
				 "squeue's line %u is not \"<job id> <state>\"",
				 line_no);
			return -EBADMSG;
		}
		if (!is_final(st, n) && ptd_jobset_add(ret, (uint32_t) id) < 0) {
			snprintf(why, why_size, "out of memory");
			return -ENOMEM;
		}
		line = nl + 1;
	}
	return 0;
}

int ptd_ctl_jobs(const char *squeue, const char *conf, int timeout_ms,
		 struct ptd_jobset *ret, char *why, size_t why_size)
{
	long long deadline = ptd_now_ms() + timeout_ms;
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	int fds[2], status = 0, r;
	size_t len = 0;
	char *buf = NULL;
	pid_t pid, w;

	why[0] = '\0';
	if (!squeue) {
		snprintf(why, why_size, "no squeue of root's found (install slurm-client on the node)");
		return -ENOENT;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = -errno;
		snprintf(why, why_size, "pipe: %s", strerror(-r));
		return r;
	}
	/* Inherited SIG_IGN would have the kernel reap squeue before we learn
	 * its exit status. */
	(void) sigaction(SIGCHLD, &dfl, &old);
	pid = fork();
	if (pid == 0)
		run_squeue(squeue, conf, fds[1]);
	close(fds[1]);
	if (pid < 0) {
		r = -errno;
		close(fds[0]);
		(void) sigaction(SIGCHLD, &old, NULL);
		snprintf(why, why_size, "fork: %s", strerror(-r));
		return r;
	}
	r = ptd_read_all(fds[0], deadline, MAX_OUTPUT, &buf, &len);
	close(fds[0]);
	if (r < 0)
		(void) kill(-pid, SIGKILL);
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	(void) sigaction(SIGCHLD, &old, NULL);
	if (r == -ETIME) {
		snprintf(why, why_size, "%s gave no answer within %d s", squeue,
			 timeout_ms / 1000);
	} else if (r < 0) {
		snprintf(why, why_size, "reading %s: %s", squeue, strerror(-r));
	} else if (w != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, why_size, "%s failed (%s %d)", squeue,
			 w == pid && WIFSIGNALED(status) ? "signal" : "exit status",
			 w != pid ? -1 : WIFSIGNALED(status) ? WTERMSIG(status) :
			 WEXITSTATUS(status));
		r = -EIO;
	} else {
		r = parse(buf, len, ret, why, why_size);
	}
	free(buf);
	if (r < 0)
		ptd_jobset_free(ret);
	return r;
}
