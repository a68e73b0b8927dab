/* One mount namespace per job on a node (#12), kept alive by a holder
 * process, not by an nsfs bind: a bind of /proc/<pid>/ns/mnt fails with
 * EINVAL on 6.x kernels for about half the jobs when slurmd runs in a
 * non-initial namespace (per-CPU namespace ids), and always on a shared
 * mount (docs/namespace-per-job.md).
 *
 * The holder is found by a unix SOCK_SEQPACKET socket <dir>/<name>.sock in a
 * root-only directory: no pid, no pid file (a pid can be reused by a decoy,
 * and means nothing across PID namespaces). Both ends check that the other
 * is root (SO_PEERCRED). Protocol, one byte per connection:
 *   'J'  the holder answers with its /proc/self/ns/mnt by SCM_RIGHTS and
 *        'J' followed by its tag (8 bytes, host order): what the namespace
 *        was made from (the plugstack options); a holder of 0.1.0 sends
 *        'J' alone
 *   'Q'  the holder removes its socket, answers 'q' and exits
 *   EOF  nothing (ptd_ns_start's "is one running?")
 * Joining is nsjoin.h. The parts: dir.h (the directory and its names),
 * lock.h (the election lock), connect.h (reaching a holder), fdpass.h
 * (the namespace passed by SCM_RIGHTS), server.h (the holder's socket
 * server); election.c and holder.c implement what is declared here. */
#ifndef PTD_NSHOLDER_H
#define PTD_NSHOLDER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fs/detail.h"
#include "ns/dir.h"

/* The holder's process name (comm), as ps and the tests see it. */
#define PTD_NS_HOLDER_COMM "ptd-nsholder"

/* Runs in the holder, inside its new namespace, after "/" was made a
 * recursive slave: the plugin's binds. 0 or -errno, the reason in d. */
typedef int (*ptd_ns_setup_fn)(void *arg, struct ptd_detail *d);

/*
 * Makes sure a holder for name runs: 0 with *ret_started true when this
 * call started it (setup succeeded), false when one was running already;
 * or -errno, the reason in d->text (setup's own reason when setup failed;
 * no holder is left then). Concurrent callers agree: the election is an
 * flock on <dir>/<name>.lock, and the socket appears only once it listens.
 * A socket nobody listens on (its holder was killed) is removed and
 * replaced, under the lock.
 * hand_off: as a step, the caller's own thread makes the namespace (and
 * stays in it) and hands it to a holder it does not wait for; else, as the
 * extern step, a holder makes it; the caller waits for neither (a holder
 * that gives up says why through ptd_ns_log).
 * dir: absolute, symlink-free, every directory trusted (root's), the last
 * one root's and mode 0700 (group and others nothing). The socket is bound
 * in the caller's mount namespace, before any unshare.
 * The caller may be multi-threaded; the holder is a double-forked,
 * session-leading grandchild (detach.h) with every inherited descriptor
 * closed, that has left any Slurm job's cgroups: it must outlive the step
 * that starts it, until ptd_ns_release. setup must be async-signal-safe
 * enough for a fork's child of a threaded process (system calls, malloc).
 */
int ptd_ns_start(const char *dir, const char *name, ptd_ns_setup_fn setup,
		 void *arg, bool hand_off, bool *ret_started,
		 struct ptd_detail *d);

/* The election behind ptd_ns_start, for a holder that goes on with its
 * starter's own code (the plugin's plan: docs/namespace-per-job.md). */

/* tmpfs= mounts a holder empties at the job's end (the core allows 16). */
#define PTD_NS_SCRATCH_MAX 32

/* Descriptors (the plan's slots) a holder may keep from its starter. */
#define PTD_NS_KEEP_MAX 128

struct ptd_ns_holder {
	bool active;		/* this process is the job's holder */
	/* This process won the election and makes the namespace itself; it
	 * holds the lock until ptd_ns_hand_off gives both to a holder. */
	bool pending;
	int dir_fd;		/* the directory of its socket */
	int lock_fd;		/* the election lock, until it listens */
	uid_t uid;		/* the job's user: its socket's owner */
	uint64_t tag;		/* sent with the namespace (see 'J') */
	/* The roots of the job's own filesystems (tmpfs=, disk=), and for a
	 * disk= its image (-1 for a tmpfs): at 'Q' a tmpfs is emptied, a
	 * disk shut down and its space given back (ptd_disk_release). */
	int scratch_fds[PTD_NS_SCRATCH_MAX];
	int image_fds[PTD_NS_SCRATCH_MAX];
	int n_scratch;
	/* For the usage lines at 'Q' (#26): each one's mount path as the
	 * plan names it (malloc'd; NULL: no line), and its blocks (bytes) and
	 * inodes in use when it was mounted, which are the filesystem's own,
	 * not the job's (an ext4's journal, lost+found; a tmpfs's root). */
	char *scratch_paths[PTD_NS_SCRATCH_MAX];
	uint64_t scratch_used0[PTD_NS_SCRATCH_MAX];
	uint64_t scratch_inodes0[PTD_NS_SCRATCH_MAX];
	uint32_t jobid;
	char name[PTD_NS_NAME_MAX + 1];
};

enum {
	PTD_NS_RUNNING = 1,	/* a holder answered: join it */
	PTD_NS_STARTED = 2,	/* this call started one, it listens: join it */
	PTD_NS_IN_HOLDER = 3,	/* this process is the new holder */
	PTD_NS_FIRST = 4,	/* no holder: this process makes the namespace
				 * and hands it off (ptd_ns_hand_off) */
};

/*
 * Under the election lock <name>.lock in dir_fd (checked): PTD_NS_RUNNING
 * when a root holder of uid's job answers. Else:
 *  - hand_off (a step): PTD_NS_FIRST, *h pending, still under the lock:
 *    the caller makes the namespace in its own thread (unshare, slave,
 *    binds) and then gives it, with the lock, to a holder it does not wait
 *    for (ptd_ns_hand_off); nothing of another process is on its path;
 *  - else (the extern step, which stays in the host's namespace): forks
 *    the holder (detach.h: its own session, out of a job's cgroups, every
 *    descriptor closed but keep_fds, dir_fd and the lock) and returns
 *    twice: in the holder, PTD_NS_IN_HOLDER with *h active, still under
 *    the lock: it makes the namespace (unshare, slave, binds), then
 *    ptd_ns_serve(h), or ptd_ns_abandon(h, ...) if it cannot; it must
 *    never return into its starter's code; in the caller, at once,
 *    PTD_NS_STARTED: nobody waits for a holder (one that gives up says
 *    why through ptd_ns_log, and frees the lock for the next step).
 * -errno, reason in d, when no holder can be had.
 */
int ptd_ns_elect(int dir_fd, const char *name, uid_t uid, bool hand_off,
		 const int *keep_fds, int n_keep, struct ptd_ns_holder *h,
		 struct ptd_detail *d);

/* After PTD_NS_FIRST, once the caller's thread is in the namespace it made
 * (its binds and tmpfs mounts done, their roots in h->scratch_fds): forks
 * the holder from it (so the holder is in that namespace), which listens,
 * releases the lock and serves; returns once it is forked, without waiting
 * for it. Later steps that come before it listens wait on the lock, as for
 * any holder. h is not pending afterwards, whatever the result; 0 or
 * -errno (no holder: later steps make one of their own). */
int ptd_ns_hand_off(struct ptd_ns_holder *h, struct ptd_detail *d);

/* Closes what a pending h holds (the lock: the election is lost, another
 * step may win it) when the caller cannot make the namespace. */
void ptd_ns_drop(struct ptd_ns_holder *h);

/* Where a holder that gives up says why (nobody waits for it): slurm_error
 * in the plugin; NULL: nowhere. */
extern void (*ptd_ns_log)(const char *line);

/* Where a holder says what it did that an admin should see (a share= left
 * out, a squatter moved aside) before it serves: slurm_info in the plugin;
 * NULL: nowhere. */
extern void (*ptd_ns_note)(const char *line);

/* In the holder: listens on <name>.sock, releases the
 * lock and serves until 'Q'; exits, never returns. */
__attribute__((noreturn)) void ptd_ns_serve(struct ptd_ns_holder *h);

/* In the holder, when it cannot make the namespace: says why (r, why;
 * ptd_ns_log) and exits. */
__attribute__((noreturn)) void ptd_ns_abandon(struct ptd_ns_holder *h, int r,
					      const char *why);

/* In a new holder, still under the election lock (election.c forks it,
 * holder.c has its life): its name, its bounds (an alarm until it
 * serves), and nothing of its starter's kept busy; gives up (exits) if it
 * cannot leave the starter's working directory. */
void ptd_ns_become_holder(struct ptd_ns_holder *h, struct ptd_detail *d);

#endif
