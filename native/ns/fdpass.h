/* One descriptor passed over a unix socket (SCM_RIGHTS), with a few bytes
 * beside it: how a holder hands its namespace to a joiner (nsholder.h). */
#ifndef PTD_NS_FDPASS_H
#define PTD_NS_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* Sends fd with the len bytes at data (at least one: a receiver never
 * reads a bare EOF as an answer), MSG_NOSIGNAL. 0 or -errno. */
int ptd_fd_send(int sock, int fd, const void *data, size_t len);

/*
 * Receives one message into buf (len bytes at most), retried on EINTR,
 * descriptors close-on-exec. -errno (-EAGAIN: the socket's SO_RCVTIMEO
 * passed); 0 at EOF, nothing looked at; else the bytes received, with
 * *ret_fd the one descriptor it carried, or -1 when it carried none or
 * more than one (every one closed: a stray one would keep a namespace
 * alive in slurmstepd).
 */
ssize_t ptd_fd_recv(int sock, void *buf, size_t len, int *ret_fd);

#endif
