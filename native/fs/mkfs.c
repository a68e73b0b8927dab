/* mke2fs on a disk='s image (mkfs.h). */
#define _GNU_SOURCE
#include "fs/mkfs.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* mke2fs of a fresh image takes milliseconds (docs/benchmarks.md); a hung
 * one must not hold a job's start for long. */
#define MKFS_BUDGET_NS (30LL * 1000000000LL)
/* The image as mke2fs sees it: the descriptor passed at 3, so no path a
 * user could reach is ever named. */
#define MKFS_IMAGE_FD 3

/* Reads mke2fs's stderr into err until EOF or the deadline; 0 at EOF,
 * -ETIMEDOUT past the deadline. */
static int collect(int fd, char *err, size_t size, long long deadline)
{
	size_t len = 0;

	for (;;) {
		long long left = deadline - ptd_now_ns();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[256];
		ssize_t n;
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int) (left / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (len + 1 < size) {
			size_t take = (size_t) n < size - 1 - len ? (size_t) n : size - 1 - len;

			memcpy(err + len, buf, take);
			len += take;
			err[len] = '\0';
		}
	}
}

static int spawn(const char *program, char *const argv[], int image_fd,
		 int err_fd, pid_t *pid)
{
	static char *const env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		/* Its built-in defaults, not a node's mke2fs.conf: every node
		 * makes the same filesystem from the same options. */
		"MKE2FS_CONFIG=/nonexistent",
		"LC_ALL=C",
		NULL,
	};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int r;

	sigemptyset(&none);
	sigfillset(&all);
	r = posix_spawn_file_actions_init(&fa);
	if (r)
		return -r;
	r = posix_spawnattr_init(&attr);
	if (r) {
		posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	/* Only these reach mke2fs: whatever slurmstepd holds open without
	 * close-on-exec stays with slurmstepd. */
	if (!(r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) &&
	    !(r = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) &&
	    !(r = posix_spawn_file_actions_adddup2(&fa, err_fd, 2)) &&
	    !(r = posix_spawn_file_actions_adddup2(&fa, image_fd, MKFS_IMAGE_FD)) &&
	    !(r = posix_spawn_file_actions_addclosefrom_np(&fa, MKFS_IMAGE_FD + 1)) &&
	    !(r = posix_spawnattr_setsigmask(&attr, &none)) &&
	    !(r = posix_spawnattr_setsigdefault(&attr, &all)) &&
	    !(r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
					   POSIX_SPAWN_SETSIGDEF)))
		r = posix_spawn(pid, program, &fa, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

int ptd_mkfs(const char *program, int image_fd, uint32_t inodes, uid_t uid,
	     gid_t gid, struct ptd_detail *d)
{
	char n_inodes[16], ext[96], image[32], err[PTD_DETAIL_MAX / 2] = "";
	/* A journal, though scratch never outlives a crash: without one ext4
	 * checks each new inode against recently deleted ones, and making
	 * 100,000 files again after deleting them took 30-40 s against 2 s
	 * (docs/benchmarks.md). No room to grow, no reserved blocks, no
	 * discard or zeroing (the journal's either): the fallocated image
	 * reads as zeros already. */
	char *argv[] = {
		(char *) program, "-q", "-F", "-t", "ext4", "-b", "4096",
		"-m", "0", "-N", n_inodes,
		"-O", "has_journal,^resize_inode",
		"-E", ext, image, NULL,
	};
	int pipefd[2], fd = image_fd, r, status;
	pid_t pid;
	char *nl;

	snprintf(n_inodes, sizeof(n_inodes), "%u", (unsigned) inodes);
	snprintf(ext, sizeof(ext),
		 "nodiscard,assume_storage_prezeroed=1,root_owner=%u:%u",
		 (unsigned) uid, (unsigned) gid);
	snprintf(image, sizeof(image), "/proc/self/fd/%d", MKFS_IMAGE_FD);
	/* dup2 onto itself would keep close-on-exec. */
	if (image_fd == MKFS_IMAGE_FD) {
		fd = fcntl(image_fd, F_DUPFD_CLOEXEC, MKFS_IMAGE_FD + 1);
		if (fd < 0)
			return -errno;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	r = spawn(program, argv, fd, pipefd[1], &pid);
	close(pipefd[1]);
	if (r < 0) {
		close(pipefd[0]);
		ptd_say(d->text, "cannot run %s: %s", program, strerror(-r));
		goto out;
	}
	r = collect(pipefd[0], err, sizeof(err), ptd_now_ns() + MKFS_BUDGET_NS);
	close(pipefd[0]);
	if (r == -ETIMEDOUT)
		(void) kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno == EINTR)
			continue;
		/* slurmstepd reaped it first: the mount that follows tells
		 * whether there is a filesystem. */
		status = 0;
		break;
	}
	if (r == -ETIMEDOUT) {
		ptd_say(d->text, "%s did not finish within %lld s", program,
			MKFS_BUDGET_NS / 1000000000LL);
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		r = 0;
		goto out;
	}
	nl = strchr(err, '\n');
	if (nl)
		*nl = '\0';
	if (WIFEXITED(status))
		ptd_say(d->text, "%s exited with %d: %s", program,
			WEXITSTATUS(status), err[0] ? err : "(nothing said)");
	else
		ptd_say(d->text, "%s killed by signal %d", program,
			WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	r = -EIO;
out:
	if (fd != image_fd)
		close(fd);
	return r;
}
