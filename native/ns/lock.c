/* The election lock (lock.h). */
#define _GNU_SOURCE
#include "ns/lock.h"
#include "ns/dir.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* flock(LOCK_EX) until deadline: polled, as flock has no timeout and a
 * signal to interrupt it is not ours to send inside slurmstepd. */
static int lock_until(int fd, long long deadline)
{
	int wait = 1;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (ptd_now_ms() >= deadline)
			return -ETIMEDOUT;
		(void) poll(NULL, 0, wait);
		if (wait < 50)
			wait *= 2;
	}
}

int ptd_ns_lock(int dir_fd, const char *name, int timeout_ms, int *ret_fd,
		struct ptd_detail *d)
{
	long long deadline = ptd_now_ms() + timeout_ms;
	char lock[PTD_NS_NAME_MAX + 8];
	struct stat held, now;
	int fd, r;

	snprintf(lock, sizeof(lock), "%s.lock", name);
	for (;;) {
		/* O_RDONLY on purpose: detach.c keeps a grandchild's
		 * inherited regular files that are open for writing (the
		 * log), and a holder that kept this descriptor would hold
		 * the flock for the job's whole life. */
		fd = openat(dir_fd, lock, O_RDONLY | O_CREAT | O_NOFOLLOW |
			    O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0) {
			r = -errno;
			ptd_say(d->text, "open \"%s\"", lock);
			return r;
		}
		r = lock_until(fd, deadline);
		if (r == -ETIMEDOUT) {
			ptd_say(d->text, "\"%s\" still held after %d ms (a holder stuck in its setup?)",
				lock, timeout_ms);
			close(fd);
			return r;
		}
		if (r < 0 || fstat(fd, &held) < 0) {
			r = r < 0 ? r : -errno;
			ptd_say(d->text, "flock \"%s\"", lock);
			close(fd);
			return r;
		}
		/* ptd_ns_release removes the lock file under the lock: a
		 * lock taken on the removed file elects nobody, as a new
		 * starter locks a new file. Ours only if the name still is
		 * the file we locked. */
		if (fstatat(dir_fd, lock, &now, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			close(fd);
			if (r == -ENOENT)
				continue;	/* removed: lock a new one */
			ptd_say(d->text, "stat \"%s\"", lock);
			return r;
		}
		if (now.st_dev == held.st_dev && now.st_ino == held.st_ino) {
			*ret_fd = fd;
			return 0;
		}
		close(fd);		/* replaced: lock the new one */
	}
}

int ptd_ns_unlock_remove(int dir_fd, const char *name, int lock_fd)
{
	char lock[PTD_NS_NAME_MAX + 8];
	int r = 0;

	snprintf(lock, sizeof(lock), "%s.lock", name);
	if (unlinkat(dir_fd, lock, 0) < 0 && errno != ENOENT)
		r = -errno;
	close(lock_fd);
	return r;
}
