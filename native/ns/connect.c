/* Reaching a holder (connect.h). */
#define _GNU_SOURCE
#include "ns/connect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

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

int ptd_ns_socket(struct ptd_detail *d)
{
	int fd, r;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		ptd_say(d->text, "socket");
		return r;
	}
	return fd;
}

int ptd_ns_set_timeouts(int fd, int timeout_ms)
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
	fd = ptd_ns_socket(d);
	if (fd < 0)
		return fd;
	r = ptd_ns_set_timeouts(fd, timeout_ms);
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
