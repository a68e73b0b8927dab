/* The holder process's life (nsholder.h): it becomes the holder (its
 * name, its bounds), makes or is handed the namespace, serves it until
 * 'Q' (server.c), empties the job's tmpfs mounts and exits; or it gives
 * up and says why. And ptd_ns_start, the election and a holder in one
 * call. */
#define _GNU_SOURCE
#include "ns/nsholder.h"
#include "ns/lock.h"
#include "ns/server.h"
#include "fs/disk.h"
#include "fs/tmpfs.h"
#include "util/fd.h"
#include "util/messages.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

void (*ptd_ns_log)(const char *line);
void (*ptd_ns_note)(const char *line);

void ptd_ns_become_holder(struct ptd_ns_holder *h, struct ptd_detail *d)
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

/* statfs of scratch i, less what was in use at its mount: what the job
 * left there, in blocks (bytes) and inodes. */
static void measure(const struct ptd_ns_holder *h, int i, struct ptd_usage *u)
{
	struct statfs sf;
	uint64_t used, inodes;

	if (fstatfs(h->scratch_fds[i], &sf) < 0)
		return;
	used = (uint64_t) (sf.f_blocks - sf.f_bfree) * (uint64_t) sf.f_bsize;
	inodes = (uint64_t) (sf.f_files - sf.f_ffree);
	u->measured = true;
	u->used = used > h->scratch_used0[i] ? used - h->scratch_used0[i] : 0;
	u->inodes = inodes > h->scratch_inodes0[i] ?
		    inodes - h->scratch_inodes0[i] : 0;
}

static void report_usage(const struct ptd_ns_holder *h,
			 const struct ptd_usage *u)
{
	char line[1024];

	if (!ptd_ns_note || !u->path)
		return;
	ptd_usage_line(line, sizeof(line), h->jobid, (uint32_t) h->uid, u);
	ptd_ns_note(line);
}

void ptd_ns_serve(struct ptd_ns_holder *h)
{
	struct ptd_detail d = { { 0 }, { 0 } };
	int listen_fd = -1, ns_fd = -1, quit, r;
	ino_t ino = 0;

	/* The namespace itself, to hand to joiners; it also keeps the
	 * namespace alive should this process's own membership ever be
	 * changed. */
	ns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		r = -errno;
		ptd_say(d.text, "open \"/proc/self/ns/mnt\"");
		ptd_ns_abandon(h, r, d.text);
	}
	/* Bound through the directory's descriptor, opened in the starter's
	 * namespace (slurmd's): the socket is an inode of that directory,
	 * where every later step and the epilog look it up. */
	r = ptd_ns_listen(h, &listen_fd, &ino, &d);
	if (r < 0) {
		close(ns_fd);
		ptd_ns_abandon(h, r, d.text);
	}
	(void) alarm(0);
	/* The socket listens under its name: whoever takes the lock next
	 * finds this holder running. */
	ptd_close_fd(&h->lock_fd);
	quit = ptd_ns_serve_clients(listen_fd, ns_fd, h->tag);
	/* Stop listening first: a starter that connects from now on is
	 * refused, takes the socket for stale and replaces it, and the inode
	 * check below then leaves its successor's socket alone. */
	close(listen_fd);
	ptd_ns_unlisten(h, ino, true);
	/* 'q': the socket is gone, the releaser goes on; tearing the
	 * namespace down (every mount of it, at this exit) is off its path. */
	if (quit >= 0) {
		(void) send(quit, "q", 1, MSG_NOSIGNAL);
		close(quit);
	}
	/* The job has ended: what is left in its tmpfs, and its disk's
	 * space, go now, not when the last descriptor on them closes. Off
	 * the node's path: this and the namespace's teardown at the exit
	 * (a disk of 300,000 files: 1.2 s of the kernel evicting them) yield
	 * the CPU to slurmd completing the job. Nice, not SCHED_IDLE: on a
	 * node whose CPUs are all busy it must still get to free the job's
	 * tmpfs memory. */
	(void) setpriority(PRIO_PROCESS, 0, 19);
	for (int i = 0; i < h->n_scratch; i++) {
		struct ptd_usage u = { .path = h->scratch_paths[i] };
		struct ptd_remove_stats s;

		/* What the job left, before it goes: the kernel keeps no peak
		 * of either (docs/deploying.md). */
		measure(h, i, &u);
		if (h->image_fds[i] >= 0) {
			u.kind = "disk";
			ptd_disk_release(h->scratch_fds[i], h->image_fds[i]);
			close(h->image_fds[i]);
		} else {
			u.kind = "tmpfs";
			ptd_tmpfs_empty(h->scratch_fds[i], h->uid, &s);
			/* Counted by the emptying that runs anyway; partly
			 * when it could not finish (its bounds). */
			u.walked = !s.skipped;
			u.bytes = s.bytes;
			u.files = s.files;
			u.dirs = s.dirs;
		}
		close(h->scratch_fds[i]);
		report_usage(h, &u);
	}
	close(ns_fd);
	_exit(0);
}

void ptd_ns_abandon(struct ptd_ns_holder *h, int r, const char *why)
{
	char tmp[PTD_NS_NAME_MAX + 16];
	char line[PTD_DETAIL_MAX + PTD_NS_NAME_MAX + 128];

	/* Still under the election lock: a ".new" socket is ours. */
	snprintf(tmp, sizeof(tmp), "%s.sock.new", h->name);
	(void) unlinkat(h->dir_fd, tmp, 0);
	/* Nobody waits for a holder: it says why itself. Its exit frees the
	 * lock, and the job's next step makes the namespace. */
	if (ptd_ns_log) {
		snprintf(line, sizeof(line), "private-tmpdir: the holder of \"%s\" gave up: %s: %s; the job's next step makes its namespace",
			 h->name, why, strerror(r < 0 ? -r : EIO));
		ptd_ns_log(line);
	}
	_exit(1);
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
