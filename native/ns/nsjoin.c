/* Joining and releasing a job's kept namespace (nsjoin.h). */
#define _GNU_SOURCE
#include "ns/nsjoin.h"
#include "ns/connect.h"
#include "ns/dir.h"
#include "ns/fdpass.h"
#include "ns/lock.h"
#include "util/clock.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Linux 6.5; not in every libc's headers. */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

int ptd_ns_fetch_at(int dir_fd, const char *name, int timeout_ms,
		    int *ret_fd, uint64_t *ret_tag, struct ptd_detail *d)
{
	uint64_t tag = 0;
	/* 'J' and the tag; one byte more, to tell a longer answer. */
	char answer[1 + sizeof(tag) + 1] = { 0 };
	int conn = -1, ns_fd = -1, type, r;
	ssize_t n;

	r = ptd_ns_connect(dir_fd, name, timeout_ms, &conn, NULL, d);
	if (r < 0)
		goto out;
	do
		n = send(conn, "J", 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		r = n < 0 ? -errno : -EIO;
		ptd_say(d->text, "asking \"%s.sock\" for the namespace", name);
		goto out;
	}
	n = ptd_fd_recv(conn, answer, sizeof(answer), &ns_fd);
	if (n < 0) {
		r = n == -EAGAIN ? -ETIMEDOUT : (int) n;
		ptd_say(d->text, "waiting for \"%s.sock\"'s namespace", name);
		goto out;
	}
	if (n == 0) {
		ptd_say(d->text, "\"%s.sock\" closed without a namespace",
			name);
		r = -ECONNRESET;
		goto out;
	}
	if (ns_fd < 0 || answer[0] != 'J' ||
	    (n != 1 && n != 1 + (ssize_t) sizeof(tag))) {
		ptd_close_fd(&ns_fd);
		ptd_say(d->text, "\"%s.sock\" answered with no namespace",
			name);
		r = -EPROTO;
		goto out;
	}
	/* A mount namespace, nothing else: setns with a wrong type would
	 * fail anyway, but say so here, by name. */
	type = ioctl(ns_fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNS) {
		r = type < 0 ? -errno : -EPROTO;
		ptd_say(d->text, "\"%s.sock\" sent no mount namespace", name);
		goto out;
	}
	if (n == 1 + (ssize_t) sizeof(tag))
		memcpy(&tag, answer + 1, sizeof(tag));
	if (ret_tag)
		*ret_tag = tag;
	*ret_fd = ns_fd;
	ns_fd = -1;
	r = 0;
out:
	ptd_close_fd(&ns_fd);
	ptd_close_fd(&conn);
	return r;
}

int ptd_ns_fetch(const char *dir, const char *name, int timeout_ms,
		 int *ret_fd, struct ptd_detail *d)
{
	int dir_fd = -1, r;

	r = ptd_ns_open_dir(dir, name, &dir_fd, d);
	if (r < 0)
		return r;
	r = ptd_ns_fetch_at(dir_fd, name, timeout_ms, ret_fd, NULL, d);
	close(dir_fd);
	return r;
}

/* Opens path without following any symlink (openat2, 5.6+), for the same
 * directory as want; -1 if it is not that directory, or cannot be had. */
static int reopen_same_dir(const char *path, const struct stat *want)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	struct stat st;
	int fd = (int) syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_dev != want->st_dev ||
	    st.st_ino != want->st_ino) {
		close(fd);
		return -1;
	}
	return fd;
}

int ptd_ns_enter(int ns_fd, struct ptd_detail *d)
{
	char cwd[PATH_MAX];
	struct stat cwd_st;
	bool have_path;
	int cwd_fd, back_fd, r;

	/* Where the thread is now: by descriptor (always), and by path when
	 * it has one (not when the directory was removed or is outside its
	 * root). */
	cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd_fd < 0) {
		r = -errno;
		ptd_say(d->text, "open the working directory");
		return r;
	}
	if (fstat(cwd_fd, &cwd_st) < 0) {
		r = -errno;
		ptd_say(d->text, "fstat the working directory");
		goto out;
	}
	have_path = getcwd(cwd, sizeof(cwd)) && cwd[0] == '/';
	/* Its own cwd, root and umask, or setns refuses (EINVAL) a thread
	 * that shares them with another. Only this thread's change. */
	if (unshare(CLONE_FS) < 0) {
		r = -errno;
		ptd_say(d->text, "unshare(CLONE_FS)");
		goto out;
	}
	if (setns(ns_fd, CLONE_NEWNS) < 0) {
		r = -errno;
		ptd_say(d->text, "setns(CLONE_NEWNS)");
		goto out;
	}
	/* setns left it at the namespace's "/". The same directory by path
	 * keeps getcwd() working; the old descriptor would be a directory of
	 * a mount in the old namespace, which getcwd() reports unreachable. */
	back_fd = have_path ? reopen_same_dir(cwd, &cwd_st) : -1;
	if (back_fd < 0)
		back_fd = cwd_fd;
	r = fchdir(back_fd) < 0 ? -errno : 0;
	if (r < 0)
		ptd_say(d->text, "joined, but cannot return to the working "
			"directory");
	if (back_fd != cwd_fd)
		close(back_fd);
out:
	close(cwd_fd);
	return r;
}

int ptd_ns_join(const char *dir, const char *name, int timeout_ms,
		struct ptd_detail *d)
{
	int ns_fd = -1, r;

	r = ptd_ns_fetch(dir, name, timeout_ms, &ns_fd, d);
	if (r < 0)
		return r;
	r = ptd_ns_enter(ns_fd, d);
	/* Not kept: any open descriptor of it keeps the namespace alive. */
	close(ns_fd);
	return r;
}

/* A pidfd of the socket's listener: the holder, race-free by SO_PEERPIDFD;
 * before 6.5 by its pid, which is the holder's as long as it listens (we
 * are connected to it). */
static int peer_pidfd(int conn, const struct ucred *peer, int *ret_fd,
		      struct ptd_detail *d)
{
	socklen_t len = sizeof(int);
	int fd = -1, r;

	if (getsockopt(conn, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 &&
	    fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	if (errno != ENOPROTOOPT && errno != EINVAL) {
		r = -errno;
		ptd_say(d->text, "SO_PEERPIDFD");
		return r;
	}
	fd = (int) syscall(SYS_pidfd_open, peer->pid, 0);
	if (fd < 0) {
		r = -errno;
		ptd_say(d->text, "pidfd_open %d", (int) peer->pid);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* ptd_ns_unlock_remove, with the reason. */
static int remove_lock(int dir_fd, const char *name, int *lock,
		       struct ptd_detail *d)
{
	int r = ptd_ns_unlock_remove(dir_fd, name, *lock);

	*lock = -1;
	if (r < 0)
		ptd_say(d->text, "unlink \"%s.lock\"", name);
	return r;
}


/* What is left of a deadline, at least 1 ms: a lock still free is taken. */
static int remaining(long long deadline)
{
	long long left = deadline - ptd_now_ms();

	return left < 1 ? 1 : left > INT_MAX ? INT_MAX : (int) left;
}

/* The holder's 'q' on conn before deadline (ms, ptd_now_ms's clock). */
static bool acked(int conn, long long deadline)
{
	char c;
	ssize_t n;

	if (ptd_wait_readable(conn, deadline) < 0)
		return false;
	do
		n = recv(conn, &c, 1, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n == 1 && c == 'q';
}

/* What a holder that is gone (killed, or its setup failed) left: its
 * socket and lock file, removed under the lock and only if still so (a new
 * holder may have come meanwhile). */
static int remove_stale(int dir_fd, const char *name, long long deadline,
			struct ptd_detail *d)
{
	char sock[PTD_NS_NAME_MAX + 16];
	int conn = -1, lock = -1, r;

	r = ptd_ns_lock(dir_fd, name, remaining(deadline), &lock, d);
	if (r < 0)
		return r;
	r = ptd_ns_connect(dir_fd, name, remaining(deadline), &conn, NULL, d);
	ptd_close_fd(&conn);
	if (r == -ECONNREFUSED) {
		snprintf(sock, sizeof(sock), "%s.sock", name);
		r = unlinkat(dir_fd, sock, 0) < 0 && errno != ENOENT
			? -errno : 0;
		if (r < 0)
			ptd_say(d->text, "unlink stale \"%s\"", sock);
		else
			r = remove_lock(dir_fd, name, &lock, d);
	} else if (r == -ENOENT) {
		r = remove_lock(dir_fd, name, &lock, d);
	} else if (r == 0) {
		ptd_say(d->text, "\"%s.sock\" was replaced by a new "
			"holder meanwhile", name);
		r = -EBUSY;
	}
	ptd_close_fd(&lock);
	return r;
}

/* A holder that neither answered nor exited by the deadline (stopped,
 * or blocked where no signal of its own reaches it) is killed through
 * its pidfd: the job has ended, and a holder left running would keep the
 * job's mounts, and its name, for ever. */
#define KILL_WAIT_MS 2000

static int kill_holder(int pidfd, const char *name, int timeout_ms,
		       struct ptd_detail *d)
{
	int r;

	if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 &&
	    errno != ESRCH) {
		r = -errno;
		ptd_say(d->text, "holder of \"%s.sock\" still there after "
			"%d ms, and it cannot be killed", name, timeout_ms);
		return r;
	}
	r = ptd_wait_readable(pidfd, ptd_now_ms() + KILL_WAIT_MS);
	if (r < 0) {
		ptd_say(d->text, "holder of \"%s.sock\" still there %d ms "
			"after SIGKILL", name, KILL_WAIT_MS);
		return r;
	}
	ptd_note(d, "the holder of \"%s.sock\" did not stop within %d ms: "
		 "killed", name, timeout_ms);
	return 0;
}

int ptd_ns_release_at(int dir_fd, const char *name, int timeout_ms,
		      struct ptd_detail *d)
{
	int pidfd = -1;
	struct ucred peer;
	int conn = -1, lock = -1, r;
	long long deadline = ptd_now_ms() + timeout_ms;
	ssize_t n;

	r = ptd_ns_connect(dir_fd, name, timeout_ms, &conn, &peer, d);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		/* No holder (none started, or its setup failed), or it died. */
		ptd_close_fd(&conn);
		return remove_stale(dir_fd, name, deadline, d);
	}
	if (r < 0)
		goto out;
	r = peer_pidfd(conn, &peer, &pidfd, d);
	if (r < 0)
		goto out;
	do
		n = send(conn, "Q", 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	/* A holder that cannot take it (its buffer full, gone) is waited
	 * for, and killed, below. */
	if (n != 1 && !(n < 0 && (errno == EAGAIN || errno == EPIPE ||
				  errno == ECONNRESET))) {
		r = n < 0 ? -errno : -EIO;
		ptd_say(d->text, "asking \"%s.sock\" to stop", name);
		goto out;
	}
	/* 'q' once the holder has removed its socket; it exits then, and
	 * its exit takes the namespace down without us. A holder that says
	 * nothing (it died): wait for its exit instead, by its pidfd,
	 * readable once it has exited (zombie or reaped). */
	if (n == 1 && acked(conn, deadline))
		goto stopped;
	r = ptd_wait_readable(pidfd, deadline);
	if (r == -ETIMEDOUT) {
		r = kill_holder(pidfd, name, timeout_ms, d);
		if (r < 0)
			goto out;
		ptd_close_fd(&conn);
		r = remove_stale(dir_fd, name, ptd_now_ms() + KILL_WAIT_MS, d);
		goto out;
	}
	if (r < 0) {
		ptd_say(d->text, "poll the holder's pidfd");
		goto out;
	}
	/* Exited without its 'q': its socket may be left. */
	ptd_close_fd(&conn);
	r = remove_stale(dir_fd, name, ptd_now_ms() + KILL_WAIT_MS, d);
	goto out;
stopped:
	/* The lock file last, under the lock: a starter that raced us
	 * locks a fresh file (ptd_ns_lock), never the removed one. */
	r = ptd_ns_lock(dir_fd, name, remaining(deadline), &lock, d);
	if (r < 0)
		goto out;
	r = remove_lock(dir_fd, name, &lock, d);
out:
	ptd_close_fd(&pidfd);
	ptd_close_fd(&conn);
	ptd_close_fd(&lock);
	return r;
}

int ptd_ns_release(const char *dir, const char *name, int timeout_ms,
		   struct ptd_detail *d)
{
	int dir_fd = -1, r;

	r = ptd_ns_open_dir(dir, name, &dir_fd, d);
	if (r < 0)
		return r;
	r = ptd_ns_release_at(dir_fd, name, timeout_ms, d);
	close(dir_fd);
	return r;
}
