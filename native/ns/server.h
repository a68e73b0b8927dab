/* The holder's socket server: <name>.sock, listened on, served one
 * connection at a time, removed at the end (nsholder.h has the protocol;
 * holder.c runs it). */
#ifndef PTD_NS_SERVER_H
#define PTD_NS_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fs/detail.h"
#include "ns/nsholder.h"

/*
 * Binds and listens on <name>.sock.new in h's directory, the socket the
 * job's user's, then renames it to <name>.sock: whoever finds the socket
 * finds it listening (a bound, not yet listening socket would look
 * stale). The caller holds the lock, so ".new" is ours; a leftover one is
 * from a starter that died. *ret_ino: the socket's inode.
 */
int ptd_ns_listen(const struct ptd_ns_holder *h, int *ret_fd, ino_t *ret_ino,
		  struct ptd_detail *d);

/* Answers root's connections on listen_fd ('J': ns_fd and tag) until 'Q',
 * then returns that connection, not answered yet; or -1 after an error it
 * cannot go on after. */
int ptd_ns_serve_clients(int listen_fd, int ns_fd, uint64_t tag);

/* Removes <name>.sock if it still is the holder's own (ino), so it never
 * removes a successor's. take_lock: under the election lock; false while
 * the starter holds it for us (setup failed), or we would wait on it
 * forever. */
void ptd_ns_unlisten(const struct ptd_ns_holder *h, ino_t ino,
		     bool take_lock);

#endif
