/* Reaching a holder: its socket's address in the holders' directory, the
 * timeouts of a connection, and a connection checked to be root's
 * (nsholder.h has the protocol). */
#ifndef PTD_NS_CONNECT_H
#define PTD_NS_CONNECT_H

#include <sys/socket.h>
#include <sys/un.h>

#include "fs/detail.h"

/* How long a connect to a socket that answers nothing may take. */
#define PTD_NS_CONNECT_TIMEOUT_MS 2000

/* "/proc/self/fd/<dir_fd>/<name><suffix>": a path that resolves through
 * the opened directory, so nothing between "/" and it is looked up again
 * (bind and connect have no *at form). */
int ptd_ns_sockaddr(int dir_fd, const char *name, const char *suffix,
		    struct sockaddr_un *ret_addr, struct ptd_detail *d);

/* A socket of the protocol (unix, SOCK_SEQPACKET, close-on-exec), for a
 * holder to listen on or a client to connect with: the descriptor or
 * -errno. */
int ptd_ns_socket(struct ptd_detail *d);

/* SO_SNDTIMEO (which also bounds a unix connect() on a full backlog) and
 * SO_RCVTIMEO (every recv) of timeout_ms; nothing for timeout_ms <= 0.
 * 0 or -errno. */
int ptd_ns_set_timeouts(int fd, int timeout_ms);

/*
 * Connects to the holder's socket and checks that its listener is root;
 * *ret_fd is the connection, *ret_peer the listener's credentials.
 * -ENOENT: no socket; -ECONNREFUSED: a socket nobody listens on (stale);
 * -EPERM: the listener is not root; -ETIMEDOUT after timeout_ms (> 0).
 */
int ptd_ns_connect(int dir_fd, const char *name, int timeout_ms,
		   int *ret_fd, struct ucred *ret_peer, struct ptd_detail *d);

#endif
