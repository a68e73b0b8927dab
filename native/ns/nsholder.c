/* The job's namespace holder (nsholder.h). */
#define _GNU_SOURCE
#include "ns/nsholder.h"
#include "util/clock.h"
#include "fs/tmpfs.h"
#include "removal/detach.h"
#include "fs/walk.h"

#include <errno.h>
#include <time.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* How long the holder waits for a root client's one byte before it drops
 * the connection: it serves one connection at a time, so a client that
 * connects and says nothing must not stall every other step's join. */
#define HOLDER_RECV_TIMEOUT_MS 2000

static void cleanup_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static bool name_ok(const char *name)
{
	size_t n = strnlen(name, PTD_NS_NAME_MAX + 1);

	/* One plain entry of dir: never "", ".", "..", a dot file or a
	 * path, never a control character (it reaches the log). */
	if (n == 0 || n > PTD_NS_NAME_MAX || name[0] == '.')
		return false;
	for (; *name; name++)
		if (*name == '/' || (unsigned char) *name < 0x20 ||
		    *name == 0x7f)
			return false;
	return true;
}

int ptd_ns_open_dir(const char *dir, const char *name, int *ret_fd,
		    struct ptd_detail *d)
{
	int fd, r;

	if (!name_ok(name)) {
		ptd_say(d->text, "bad holder name \"%s\"", name);
		return -EINVAL;
	}
	/* Every directory from "/" root's (or sticky), no symlink: nobody
	 * but root can swap the socket or the lock under us. */
	r = ptd_walk_trusted(dir, &fd, d);
	if (r < 0)
		return r;
	r = ptd_ns_check_dir(fd, dir, d);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int ptd_ns_sockaddr(int dir_fd, const char *name, const char *suffix,
		    struct sockaddr_un *ret_addr, struct ptd_detail *d)
{
	int n;

	memset(ret_addr, 0, sizeof(*ret_addr));
	ret_addr->sun_family = AF_UNIX;
	n = snprintf(ret_addr->sun_path, sizeof(ret_addr->sun_path),
		     "/proc/self/fd/%d/%s%s", dir_fd, name, suffix);
	if (n < 0 || n >= (int) sizeof(ret_addr->sun_path)) {
		ptd_say(d->text, "socket path for \"%s\" too long", name);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* SO_SNDTIMEO also bounds a unix connect() (full backlog), SO_RCVTIMEO
 * every recv. */
static int set_timeouts(int fd, int timeout_ms)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};

	if (timeout_ms <= 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

int ptd_ns_connect(int dir_fd, const char *name, int timeout_ms,
		   int *ret_fd, struct ucred *ret_peer, struct ptd_detail *d)
{
	struct sockaddr_un addr;
	struct ucred peer;
	socklen_t len = sizeof(peer);
	int fd, r;

	r = ptd_ns_sockaddr(dir_fd, name, ".sock", &addr, d);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		ptd_say(d->text, "socket");
		return r;
	}
	r = set_timeouts(fd, timeout_ms);
	if (r < 0) {
		ptd_say(d->text, "setsockopt timeouts");
		goto fail;
	}
	if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
		r = errno == EAGAIN ? -ETIMEDOUT : -errno;
		ptd_say(d->text, "connect \"%s.sock\"", name);
		goto fail;
	}
	/* The credentials of the process that called listen(): the holder
	 * itself (it listens after its fork, never its starter). Only root
	 * can bind in dir, but a root process could drop its uid before
	 * listening; such a listener is not ours. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) {
		r = -errno;
		ptd_say(d->text, "SO_PEERCRED on \"%s.sock\"", name);
		goto fail;
	}
	if (peer.uid != 0) {
		ptd_say(d->text, "\"%s.sock\" is served by uid %u, not root",
			name, (unsigned) peer.uid);
		r = -EPERM;
		goto fail;
	}
	*ret_fd = fd;
	if (ret_peer)
		*ret_peer = peer;
	return 0;
fail:
	close(fd);
	return r;
}


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

void (*ptd_ns_log)(const char *line);

/*
 * Binds and listens on <name>.sock.new, then renames it to <name>.sock:
 * whoever finds the socket finds it listening (a bound, not yet listening
 * socket would look stale). The caller holds the lock, so ".new" is ours;
 * a leftover one is from a starter that died.
 */
static int listen_socket(struct ptd_ns_holder *c, int *ret_fd, ino_t *ret_ino,
			 struct ptd_detail *d)
{
	char tmp[PTD_NS_NAME_MAX + 16], final[PTD_NS_NAME_MAX + 16];
	struct sockaddr_un addr;
	struct stat st;
	int fd, r;

	snprintf(tmp, sizeof(tmp), "%s.sock.new", c->name);
	snprintf(final, sizeof(final), "%s.sock", c->name);
	r = ptd_ns_sockaddr(c->dir_fd, c->name, ".sock.new", &addr, d);
	if (r < 0)
		return r;
	if (unlinkat(c->dir_fd, tmp, 0) < 0 && errno != ENOENT) {
		r = -errno;
		ptd_say(d->text, "unlink \"%s\"", tmp);
		return r;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		ptd_say(d->text, "socket");
		return r;
	}
	if (bind(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
		r = -errno;
		ptd_say(d->text, "bind \"%s\"", tmp);
		goto fail;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		ptd_say(d->text, "listen \"%s\"", tmp);
		goto fail_unlink;
	}
	/* The socket's owner says whose job it is (the PAM session module
	 * finds a user's job by it); its mode lets nobody else connect, and
	 * the directory lets nobody but root reach it at all. */
	if (fchmodat(c->dir_fd, tmp, 0600, 0) < 0 ||
	    fchownat(c->dir_fd, tmp, c->uid, 0, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		ptd_say(d->text, "chown \"%s\" to uid %u", tmp, (unsigned) c->uid);
		goto fail_unlink;
	}
	/* Its inode: on 'Q' the holder removes the socket only if the name
	 * still is this one. */
	if (fstatat(c->dir_fd, tmp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		ptd_say(d->text, "stat \"%s\"", tmp);
		goto fail_unlink;
	}
	if (renameat(c->dir_fd, tmp, c->dir_fd, final) < 0) {
		r = -errno;
		ptd_say(d->text, "rename \"%s\"", tmp);
		goto fail_unlink;
	}
	*ret_fd = fd;
	*ret_ino = st.st_ino;
	return 0;
fail_unlink:
	(void) unlinkat(c->dir_fd, tmp, 0);
fail:
	close(fd);
	return r;
}

/* Removes <name>.sock if it still is the holder's own (ino), so it never
 * removes a successor's. take_lock: under the election lock; false while
 * the starter holds it for us (setup failed), or we would wait on it
 * forever. */
static void remove_socket(struct ptd_ns_holder *c, ino_t ino, bool take_lock)
{
	char final[PTD_NS_NAME_MAX + 16];
	struct ptd_detail d = { { 0 }, { 0 } };
	struct stat st;
	int lock = -1;

	snprintf(final, sizeof(final), "%s.sock", c->name);
	if (take_lock && ptd_ns_lock(c->dir_fd, c->name,
				     PTD_NS_LOCK_TIMEOUT_MS, &lock, &d) < 0)
		lock = -1;	/* still remove it: a stale one is worse */
	if (fstatat(c->dir_fd, final, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_ino == ino)
		(void) unlinkat(c->dir_fd, final, 0);
	cleanup_fd(&lock);
}

/* Sends ns_fd by SCM_RIGHTS, with 'J' (so that the client's recvmsg never
 * reads a bare EOF as an answer) and the tag. */
static void send_ns(int conn, int ns_fd, uint64_t tag)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char answer[1 + sizeof(tag)] = { 'J' };
	struct iovec iov = { .iov_base = answer, .iov_len = sizeof(answer) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;

	memcpy(answer + 1, &tag, sizeof(tag));
	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &ns_fd, sizeof(int));
	/* A client that went away meanwhile (EPIPE, no SIGPIPE) just does
	 * not get it; nothing else to do. */
	(void) sendmsg(conn, &msg, MSG_NOSIGNAL);
}

static bool accept_error_is_transient(int e)
{
	return e == EINTR || e == ECONNABORTED || e == EPROTO ||
	       e == ENOMEM || e == ENOBUFS || e == EMFILE || e == ENFILE ||
	       e == EAGAIN;
}

/* Serves until 'Q' or an error it cannot go on after. Never returns. */
__attribute__((noreturn)) static void serve(struct ptd_ns_holder *c, int listen_fd,
					    ino_t ino, int ns_fd)
{
	int quit = -1;

	for (;;) {
		struct ucred peer;
		socklen_t len = sizeof(peer);
		char cmd;
		ssize_t n;
		int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (conn < 0) {
			if (accept_error_is_transient(errno)) {
				/* Not a busy loop if it persists. */
				(void) poll(NULL, 0, 10);
				continue;
			}
			break;
		}
		/* Only root's connections: the directory is root's 0700, so
		 * this only matters if someone loosened it; then a user must
		 * still never get the job's namespace, or stop it. */
		if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 ||
		    peer.uid != 0 ||
		    set_timeouts(conn, HOLDER_RECV_TIMEOUT_MS) < 0) {
			close(conn);
			continue;
		}
		do
			n = recv(conn, &cmd, 1, 0);
		while (n < 0 && errno == EINTR);
		if (n == 1 && cmd == 'Q') {
			quit = conn;
			break;
		}
		if (n == 1 && cmd == 'J')
			send_ns(conn, ns_fd, c->tag);
		close(conn);
	}
	/* Stop listening first: a starter that connects from now on is
	 * refused, takes the socket for stale and replaces it, and the inode
	 * check below then leaves its successor's socket alone. */
	close(listen_fd);
	remove_socket(c, ino, true);
	/* 'q': the socket is gone, the releaser goes on; tearing the
	 * namespace down (every mount of it, at this exit) is off its path. */
	if (quit >= 0) {
		(void) send(quit, "q", 1, MSG_NOSIGNAL);
		close(quit);
	}
	/* The job has ended: what is left in its tmpfs goes now, not when
	 * the last descriptor on it closes (ptd_tmpfs_empty). */
	for (int i = 0; i < c->n_scratch; i++) {
		ptd_tmpfs_empty(c->scratch_fds[i], c->uid);
		close(c->scratch_fds[i]);
	}
	close(ns_fd);
	_exit(0);
}

void ptd_ns_serve(struct ptd_ns_holder *c)
{
	struct ptd_detail d = { { 0 }, { 0 } };
	int listen_fd = -1, ns_fd = -1, r;
	ino_t ino = 0;

	/* The namespace itself, to hand to joiners; it also keeps the
	 * namespace alive should this process's own membership ever be
	 * changed. */
	ns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		r = -errno;
		ptd_say(d.text, "open \"/proc/self/ns/mnt\"");
		ptd_ns_abandon(c, r, d.text);
	}
	/* Bound through the directory's descriptor, opened in the starter's
	 * namespace (slurmd's): the socket is an inode of that directory,
	 * where every later step and the epilog look it up. */
	r = listen_socket(c, &listen_fd, &ino, &d);
	if (r < 0) {
		close(ns_fd);
		ptd_ns_abandon(c, r, d.text);
	}
	(void) alarm(0);
	/* The socket listens under its name: whoever takes the lock next
	 * finds this holder running. */
	cleanup_fd(&c->lock_fd);
	serve(c, listen_fd, ino, ns_fd);
}

void ptd_ns_abandon(struct ptd_ns_holder *c, int r, const char *why)
{
	char tmp[PTD_NS_NAME_MAX + 16];
	char line[PTD_DETAIL_MAX + PTD_NS_NAME_MAX + 128];

	/* Still under the election lock: a ".new" socket is ours. */
	snprintf(tmp, sizeof(tmp), "%s.sock.new", c->name);
	(void) unlinkat(c->dir_fd, tmp, 0);
	/* Nobody waits for a holder: it says why itself. Its exit frees the
	 * lock, and the job's next step makes the namespace. */
	if (ptd_ns_log) {
		snprintf(line, sizeof(line), "private-tmpdir: the holder of \"%s\" gave up: %s: %s; the job's next step makes its namespace",
			 c->name, why, strerror(r < 0 ? -r : EIO));
		ptd_ns_log(line);
	}
	_exit(1);
}

/* Under the lock: 1 if a root holder of uid's job answers, 0 if none does
 * (a stale socket was removed), or -errno. A holder whose socket is
 * another user's serves another job that had this id (a MaxJobId wrap, the
 * controller's state reset, a holder that outlived its job): never joined,
 * never replaced under it (its job's processes may still be in it); the
 * step makes its own namespace, and this job's end releases it. */
static int holder_running(int dir_fd, const char *name, uid_t uid,
			  struct ptd_detail *d)
{
	char final[PTD_NS_NAME_MAX + 16];
	struct stat st;
	int conn = -1, r;

	r = ptd_ns_connect(dir_fd, name, PTD_NS_CONNECT_TIMEOUT_MS, &conn,
			   NULL, d);
	snprintf(final, sizeof(final), "%s.sock", name);
	if (r == 0) {
		/* Says nothing: the holder reads EOF and drops it. */
		close(conn);
		if (fstatat(dir_fd, final, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			ptd_say(d->text, "fstat \"%s\"", final);
			return r;
		}
		if (st.st_uid != uid) {
			ptd_say(d->text, "\"%s\" is uid %u's, not this job's user's (uid %u): a holder of another job with this id",
				final, (unsigned) st.st_uid, (unsigned) uid);
			return -EPERM;
		}
		return 1;
	}
	if (r == -ENOENT)
		return 0;
	if (r != -ECONNREFUSED)
		return r;
	/* Nobody listens: its holder was killed. Ours to replace, as we
	 * hold the lock (a starting holder renames its socket in only once
	 * it listens). */
	if (unlinkat(dir_fd, final, 0) < 0 && errno != ENOENT) {
		r = -errno;
		ptd_say(d->text, "unlink stale \"%s\"", final);
		return r;
	}
	return 0;
}

int ptd_ns_check_dir(int dir_fd, const char *what, struct ptd_detail *d)
{
	struct stat st;

	if (fstat(dir_fd, &st) < 0) {
		ptd_say(d->text, "fstat \"%s\"", what);
		return -errno;
	}
	/* Root-only: a user who can list or enter it could connect, and one
	 * who could write it could plant a socket of their own. */
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		ptd_say(d->text, "\"%s\" is uid %u mode %04o, not root's 0700",
			what, (unsigned) st.st_uid,
			(unsigned) (st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* In a new holder, still under the election lock: its name, its bounds,
 * and nothing of its starter's kept busy. */
static void become_holder(struct ptd_ns_holder *h, struct ptd_detail *d)
{
	h->active = true;
	h->pending = false;
	(void) prctl(PR_SET_NAME, PTD_NS_HOLDER_COMM, 0, 0, 0);
	/* Its setup is bounded wherever it blocks: a fatal signal ends even
	 * a killable wait on a hung mount. Cancelled once it serves
	 * (ptd_ns_serve). */
	(void) signal(SIGALRM, SIG_DFL);
	(void) alarm((PTD_NS_SETUP_MAX_MS + 999) / 1000);
	(void) umask(077);
	/* Not to keep the starter's working directory (a step's, maybe on
	 * NFS) busy for the job's life. */
	if (chdir("/") < 0) {
		ptd_say(d->text, "chdir \"/\"");
		ptd_ns_abandon(h, -errno, d->text);
	}
}

int ptd_ns_elect(int dir_fd, const char *name, uid_t uid, bool hand_off,
		 const int *keep_fds, int n_keep, struct ptd_ns_holder *h,
		 struct ptd_detail *d)
{
	struct ptd_detach_how how = {
		.idle = false,
		.leave_job_cgroups = true,
	};
	int keep[PTD_NS_KEEP_MAX + 2], lock = -1, i, r;

	memset(h, 0, sizeof(*h));
	h->dir_fd = h->lock_fd = -1;
	if (!name_ok(name) || strlen(name) > PTD_NS_NAME_MAX) {
		ptd_say(d->text, "bad holder name \"%s\"", name);
		return -EINVAL;
	}
	if (n_keep < 0 || n_keep > PTD_NS_KEEP_MAX)
		return -E2BIG;
	r = ptd_ns_lock(dir_fd, name, PTD_NS_LOCK_TIMEOUT_MS, &lock, d);
	if (r < 0)
		return r;
	r = holder_running(dir_fd, name, uid, d);
	if (r != 0) {
		r = r > 0 ? PTD_NS_RUNNING : r;
		goto out;
	}
	h->dir_fd = dir_fd;
	h->uid = uid;
	snprintf(h->name, sizeof(h->name), "%s", name);
	if (hand_off) {
		h->pending = true;
		h->lock_fd = lock;
		return PTD_NS_FIRST;
	}
	for (i = 0; i < n_keep; i++)
		keep[i] = keep_fds[i];
	keep[n_keep] = dir_fd;
	keep[n_keep + 1] = lock;
	how.keep_fds = keep;
	how.n_keep_fds = n_keep + 2;
	r = ptd_detach_fork(&how);
	if (r == 1) {
		/* The holder: it holds the election lock (the same open file
		 * as its starter's) until its socket listens or it gives up. */
		h->lock_fd = lock;
		become_holder(h, d);
		return PTD_NS_IN_HOLDER;
	}
	if (r < 0) {
		ptd_say(d->text, "starting the holder");
		goto out;
	}
	/* Not waited for: a step that comes before it listens waits on the
	 * lock, one that comes after it gave up makes the namespace. */
	r = PTD_NS_STARTED;
out:
	cleanup_fd(&lock);
	return r;
}

int ptd_ns_hand_off(struct ptd_ns_holder *h, struct ptd_detail *d)
{
	struct ptd_detach_how how = {
		.idle = false,
		.leave_job_cgroups = true,
	};
	int keep[PTD_NS_SCRATCH_MAX + 2], n = 0, i, r;

	if (!h->pending)
		return -EINVAL;
	keep[n++] = h->dir_fd;
	keep[n++] = h->lock_fd;
	for (i = 0; i < h->n_scratch; i++)
		keep[n++] = h->scratch_fds[i];
	how.keep_fds = keep;
	how.n_keep_fds = n;
	r = ptd_detach_fork(&how);
	if (r == 1) {
		struct ptd_detail hd = { { 0 }, { 0 } };

		become_holder(h, &hd);
		ptd_ns_serve(h);
	}
	/* The holder has the lock's open file too: it stays locked until
	 * the holder listens, whatever this process does next. The tmpfs
	 * roots are the holder's to empty, not this step's to keep open. */
	ptd_ns_drop(h);
	if (r < 0) {
		ptd_say(d->text, "starting the holder");
		return r;
	}
	return 0;
}

void ptd_ns_drop(struct ptd_ns_holder *h)
{
	int i;

	if (!h->pending && !h->active)
		return;
	cleanup_fd(&h->lock_fd);
	for (i = 0; i < h->n_scratch; i++)
		cleanup_fd(&h->scratch_fds[i]);
	h->n_scratch = 0;
	h->pending = false;
}

/* A copy of the caller's mount table for the job, a recursive slave (as
 * bind.c's ptd_make_slave: the host's later mounts reach the job, the
 * job's binds never reach the host), then setup's binds. */
static int make_ns(ptd_ns_setup_fn setup, void *arg, struct ptd_detail *d)
{
	int r;

	if (unshare(CLONE_NEWNS) < 0) {
		r = -errno;
		ptd_say(d->text, "unshare(CLONE_NEWNS)");
		return r;
	}
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) {
		r = -errno;
		ptd_say(d->text, "mount(\"/\", MS_SLAVE|MS_REC)");
		return r;
	}
	return setup(arg, d);
}

int ptd_ns_start(const char *dir, const char *name, ptd_ns_setup_fn setup,
		 void *arg, bool hand_off, bool *ret_started,
		 struct ptd_detail *d)
{
	struct ptd_ns_holder h;
	int dir_fd = -1, r;

	*ret_started = false;
	r = ptd_ns_open_dir(dir, name, &dir_fd, d);
	if (r < 0)
		return r;
	r = ptd_ns_elect(dir_fd, name, 0, hand_off, NULL, 0, &h, d);
	if (r == PTD_NS_FIRST) {
		/* As a step does: the namespace made here, then handed off. */
		r = make_ns(setup, arg, d);
		if (r < 0)
			ptd_ns_drop(&h);
		else
			r = ptd_ns_hand_off(&h, d);
		if (r == 0)
			r = PTD_NS_STARTED;
	} else if (r == PTD_NS_IN_HOLDER) {
		r = make_ns(setup, arg, d);
		if (r < 0)
			ptd_ns_abandon(&h, r, d->text);
		ptd_ns_serve(&h);
	}
	close(dir_fd);
	if (r < 0)
		return r;
	*ret_started = r == PTD_NS_STARTED;
	return 0;
}
