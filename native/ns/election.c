/* The election (nsholder.h): under the lock, a running holder of the job
 * is joined; else this process either makes the namespace itself and
 * hands it to a holder it forks (a step), or forks the holder that makes
 * it (the extern step). */
#define _GNU_SOURCE
#include "ns/nsholder.h"
#include "ns/connect.h"
#include "ns/lock.h"
#include "removal/detach.h"
#include "util/fd.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	if (!ptd_ns_name_ok(name) || strlen(name) > PTD_NS_NAME_MAX) {
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
		ptd_ns_become_holder(h, d);
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
	ptd_close_fd(&lock);
	return r;
}

int ptd_ns_hand_off(struct ptd_ns_holder *h, struct ptd_detail *d)
{
	struct ptd_detach_how how = {
		.idle = false,
		.leave_job_cgroups = true,
	};
	int keep[2 * PTD_NS_SCRATCH_MAX + 2], n = 0, i, r;

	if (!h->pending)
		return -EINVAL;
	keep[n++] = h->dir_fd;
	keep[n++] = h->lock_fd;
	for (i = 0; i < h->n_scratch; i++) {
		keep[n++] = h->scratch_fds[i];
		if (h->image_fds[i] >= 0)
			keep[n++] = h->image_fds[i];
	}
	how.keep_fds = keep;
	how.n_keep_fds = n;
	r = ptd_detach_fork(&how);
	if (r == 1) {
		struct ptd_detail hd = { { 0 }, { 0 } };

		ptd_ns_become_holder(h, &hd);
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
	ptd_close_fd(&h->lock_fd);
	for (i = 0; i < h->n_scratch; i++) {
		ptd_close_fd(&h->scratch_fds[i]);
		ptd_close_fd(&h->image_fds[i]);
		free(h->scratch_paths[i]);
		h->scratch_paths[i] = NULL;
	}
	h->n_scratch = 0;
	h->pending = false;
}
