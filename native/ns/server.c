/* The holder's socket server (server.h). */
#define _GNU_SOURCE
#include "ns/server.h"
#include "ns/connect.h"
#include "ns/fdpass.h"
#include "ns/lock.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long the holder waits for a root client's one byte before it drops
 * the connection: it serves one connection at a time, so a client that
 * connects and says nothing must not stall every other step's join. */
#define HOLDER_RECV_TIMEOUT_MS 2000

int ptd_ns_listen(const struct ptd_ns_holder *h, int *ret_fd, ino_t *ret_ino,
		  struct ptd_detail *d)
{
	char tmp[PTD_NS_NAME_MAX + 16], final[PTD_NS_NAME_MAX + 16];
	struct sockaddr_un addr;
	struct stat st;
	int fd, r;

	snprintf(tmp, sizeof(tmp), "%s.sock.new", h->name);
	snprintf(final, sizeof(final), "%s.sock", h->name);
	r = ptd_ns_sockaddr(h->dir_fd, h->name, ".sock.new", &addr, d);
	if (r < 0)
		return r;
	if (unlinkat(h->dir_fd, tmp, 0) < 0 && errno != ENOENT) {
		r = -errno;
		ptd_say(d->text, "unlink \"%s\"", tmp);
		return r;
	}
	fd = ptd_ns_socket(d);
	if (fd < 0)
		return fd;
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
	if (fchmodat(h->dir_fd, tmp, 0600, 0) < 0 ||
	    fchownat(h->dir_fd, tmp, h->uid, 0, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		ptd_say(d->text, "chown \"%s\" to uid %u", tmp,
			(unsigned) h->uid);
		goto fail_unlink;
	}
	/* Its inode: on 'Q' the holder removes the socket only if the name
	 * still is this one. */
	if (fstatat(h->dir_fd, tmp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		ptd_say(d->text, "stat \"%s\"", tmp);
		goto fail_unlink;
	}
	if (renameat(h->dir_fd, tmp, h->dir_fd, final) < 0) {
		r = -errno;
		ptd_say(d->text, "rename \"%s\"", tmp);
		goto fail_unlink;
	}
	*ret_fd = fd;
	*ret_ino = st.st_ino;
	return 0;
fail_unlink:
	(void) unlinkat(h->dir_fd, tmp, 0);
fail:
	close(fd);
	return r;
}

void ptd_ns_unlisten(const struct ptd_ns_holder *h, ino_t ino, bool take_lock)
{
	char final[PTD_NS_NAME_MAX + 16];
	struct ptd_detail d = { { 0 }, { 0 } };
	struct stat st;
	int lock = -1;

	snprintf(final, sizeof(final), "%s.sock", h->name);
	if (take_lock && ptd_ns_lock(h->dir_fd, h->name,
				     PTD_NS_LOCK_TIMEOUT_MS, &lock, &d) < 0)
		lock = -1;	/* still remove it: a stale one is worse */
	if (fstatat(h->dir_fd, final, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_ino == ino)
		(void) unlinkat(h->dir_fd, final, 0);
	ptd_close_fd(&lock);
}

/* Sends ns_fd with 'J' (so that the client's recvmsg never reads a bare
 * EOF as an answer) and the tag. */
static void send_ns(int conn, int ns_fd, uint64_t tag)
{
	char answer[1 + sizeof(tag)] = { 'J' };

	memcpy(answer + 1, &tag, sizeof(tag));
	/* A client that went away meanwhile (EPIPE, no SIGPIPE) just does
	 * not get it; nothing else to do. */
	(void) ptd_fd_send(conn, ns_fd, answer, sizeof(answer));
}

static bool accept_error_is_transient(int e)
{
	return e == EINTR || e == ECONNABORTED || e == EPROTO ||
	       e == ENOMEM || e == ENOBUFS || e == EMFILE || e == ENFILE ||
	       e == EAGAIN;
}

int ptd_ns_serve_clients(int listen_fd, int ns_fd, uint64_t tag)
{
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
			return -1;
		}
		/* Only root's connections: the directory is root's 0700, so
		 * this only matters if someone loosened it; then a user must
		 * still never get the job's namespace, or stop it. */
		if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 ||
		    peer.uid != 0 ||
		    ptd_ns_set_timeouts(conn, HOLDER_RECV_TIMEOUT_MS) < 0) {
			close(conn);
			continue;
		}
		do
			n = recv(conn, &cmd, 1, 0);
		while (n < 0 && errno == EINTR);
		if (n == 1 && cmd == 'Q')
			return conn;
		if (n == 1 && cmd == 'J')
			send_ns(conn, ns_fd, tag);
		close(conn);
	}
}
