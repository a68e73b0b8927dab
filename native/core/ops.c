/* Slot bookkeeping around the filesystem operations (native/fs/), and the
 * dry-run trace the tests compare with the Node host's. */
#define _GNU_SOURCE
#include "core/ops.h"
#include "removal/hold.h"
#include "removal/kept.h"
#include "ns/dir.h"
#include "ns/nsjoin.h"
#include "fs/disk.h"
#include "fs/tmpfs.h"
#include "fs/share.h"
#include "fs/output.h"

#include <errno.h>
#include <sys/vfs.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool ptd_ops_holders = true;

void ptd_ops_init(struct ptd_ops *o, bool dry_run)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < PTD_MAX_SLOTS; i++)
		o->fds[i] = -1;
	o->dry_run = dry_run;
}

void ptd_ops_done(struct ptd_ops *o)
{
	int i;

	/* A step that failed before it could hand its namespace off: the
	 * election is lost with the lock. */
	ptd_ns_drop(&o->ns);
	for (i = 0; i < PTD_MAX_SLOTS; i++) {
		if (o->fds[i] >= 0)
			close(o->fds[i]);
		o->fds[i] = -1;
	}
	free(o->trace);
	o->trace = NULL;
	o->trace_len = o->trace_cap = 0;
}

static int record(struct ptd_ops *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int record(struct ptd_ops *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (o->trace_len + n + 1 > o->trace_cap) {
		size_t cap = (o->trace_cap ? o->trace_cap * 2 : 4096) + n + 1;
		char *t = realloc(o->trace, cap);

		if (!t)
			return -ENOMEM;
		o->trace = t;
		o->trace_cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(o->trace + o->trace_len, o->trace_cap - o->trace_len, fmt,
		  ap);
	va_end(ap);
	o->trace_len += n;
	return 0;
}

#include "ptd_ops_trace.inc"

/* Every op starts with no reason, so none can carry an earlier op's. */
static struct ptd_ops *begin(struct ptd_ops *o)
{
	o->detail.text[0] = '\0';
	return o;
}

/* The first failure owns the reason reported with it. */
static int done(struct ptd_ops *o, int r)
{
	if (r < 0 && !o->failed) {
		o->failed = true;
		snprintf(o->failure, sizeof(o->failure), "%s", o->detail.text);
	}
	return r;
}

/* A slot the op is about to fill: in range and still empty. */
static bool new_slot(const struct ptd_ops *o, int slot)
{
	return slot >= 0 && slot < PTD_MAX_SLOTS && o->fds[slot] < 0;
}

/* A slot an earlier op filled (any valid slot in a dry run). */
static bool used_slot(const struct ptd_ops *o, int slot)
{
	return slot >= 0 && slot < PTD_MAX_SLOTS &&
	       (o->dry_run || o->fds[slot] >= 0);
}

static int op_open_trusted(struct ptd_ops *o, int slot, const char *path,
			   unsigned mode, int flags)
{
	if (!new_slot(o, slot))
		return -EBADF;
	if (o->dry_run)
		return trace_open_trusted(o, slot, path, mode, flags);
	return ptd_open_trusted(path, mode, flags & PTD_F_CREATE,
				&o->fds[slot], &o->detail);
}

static int op_mkdir_at(struct ptd_ops *o, int parent, int slot,
		       const char *name, const char *path, unsigned mode,
		       unsigned uid, unsigned gid, int flags)
{
	if (!used_slot(o, parent) || !new_slot(o, slot))
		return -EBADF;
	if (o->dry_run)
		return trace_mkdir_at(o, parent, slot, name, path, mode, uid,
				      gid, flags);
	return ptd_mkdir_at(o->fds[parent], name, mode, uid, gid,
			    flags & PTD_F_ASIDE, flags & PTD_F_WIPE_ENDED,
			    &o->fds[slot], &o->detail);
}

static int op_unshare_mount_ns(struct ptd_ops *o)
{
	if (o->dry_run)
		return trace_unshare_mount_ns(o);
	return ptd_unshare_mount_ns(&o->detail);
}

static int op_make_slave(struct ptd_ops *o)
{
	if (o->dry_run)
		return trace_make_slave(o);
	return ptd_make_slave(&o->detail);
}

static int op_open_private(struct ptd_ops *o, int slot, int expect,
			   const char *path, unsigned uid)
{
	if (!new_slot(o, slot) || !used_slot(o, expect))
		return -EBADF;
	if (o->dry_run)
		return trace_open_private(o, slot, expect, path, uid);
	return ptd_open_private(path, uid, o->fds[expect], &o->fds[slot],
				&o->detail);
}

static int op_open_target(struct ptd_ops *o, int slot, const char *path)
{
	if (!new_slot(o, slot))
		return -EBADF;
	if (o->dry_run)
		return trace_open_target(o, slot, path);
	return ptd_open_target(path, &o->fds[slot], &o->detail);
}

static int op_bind(struct ptd_ops *o, int source, int target,
		   const char *target_path, const char *source_path)
{
	if (!used_slot(o, source) || !used_slot(o, target))
		return -EBADF;
	if (o->dry_run)
		return trace_bind(o, source, target, target_path, source_path);
	return ptd_bind(o->fds[source], o->fds[target], target_path,
			&o->detail);
}

/* A holder's new tmpfs= or disk= (its root in scratch_fds[n_scratch]),
 * kept with what its usage line needs (nsholder.h): the plan's mount path
 * and what is in use before the job writes (one fstatfs). */
static void keep_scratch(struct ptd_ops *o, const char *path)
{
	struct ptd_ns_holder *h = &o->ns;
	int i = h->n_scratch++;
	struct statfs sf;

	h->jobid = o->jobid;
	h->scratch_paths[i] = strdup(path);
	h->scratch_used0[i] = h->scratch_inodes0[i] = 0;
	if (fstatfs(h->scratch_fds[i], &sf) == 0) {
		h->scratch_used0[i] = (uint64_t) (sf.f_blocks - sf.f_bfree) *
				      (uint64_t) sf.f_bsize;
		h->scratch_inodes0[i] = (uint64_t) (sf.f_files - sf.f_ffree);
	}
}

static int op_mount_tmpfs(struct ptd_ops *o, int slot, const char *path,
			  uint32_t size_mb, uint32_t inodes, unsigned mode,
			  unsigned uid, unsigned gid, int flags)
{
	if (!used_slot(o, slot))
		return -EBADF;
	if (o->dry_run)
		return trace_mount_tmpfs(o, slot, path, size_mb, inodes, mode,
					 uid, gid, flags);
	/* A holder keeps the tmpfs's root, to empty it at the job's end
	 * (a step that makes the namespace hands it over with it). */
	bool keep = (o->ns.active || o->ns.pending) &&
		    o->ns.n_scratch < PTD_NS_SCRATCH_MAX;
	int r = ptd_mount_tmpfs(o->fds[slot], path, size_mb, inodes, mode,
				(uid_t) uid,
				(gid_t) gid, flags & PTD_F_NOEXEC,
				keep ? &o->ns.scratch_fds[o->ns.n_scratch] : NULL,
				&o->detail);

	if (r == 0 && keep) {
		o->ns.image_fds[o->ns.n_scratch] = -1;
		keep_scratch(o, path);
	}
	return r;
}

static int op_measure_disk(struct ptd_ops *o, int dir, const char *path)
{
	if (!used_slot(o, dir))
		return -EBADF;
	if (o->dry_run)
		return trace_measure_disk(o, dir, path);
	return ptd_measure_disk(o->fds[dir], &o->detail);
}

static int op_mount_disk(struct ptd_ops *o, int slot, int dir,
			 const char *program, const char *path,
			 uint32_t size_mb, uint32_t inodes, unsigned mode,
			 unsigned uid, unsigned gid, int flags)
{
	struct ptd_disk disk = {
		.program = program, .size_mb = size_mb, .inodes = inodes,
		.mode = mode, .uid = (uid_t) uid, .gid = (gid_t) gid,
		.noexec = flags & PTD_F_NOEXEC,
	};

	if (!used_slot(o, slot) || !used_slot(o, dir))
		return -EBADF;
	if (o->dry_run)
		return trace_mount_disk(o, slot, dir, program, path, size_mb,
					inodes, mode, uid, gid, flags);
	disk.dir_fd = o->fds[dir];
	/* A holder keeps its root and image, to give the space back at the
	 * job's end (a step that makes the namespace hands them over). */
	bool keep = (o->ns.active || o->ns.pending) &&
		    o->ns.n_scratch < PTD_NS_SCRATCH_MAX;
	int r = ptd_mount_disk(o->fds[slot], path, &disk,
			       keep ? &o->ns.scratch_fds[o->ns.n_scratch] : NULL,
			       keep ? &o->ns.image_fds[o->ns.n_scratch] : NULL,
			       &o->detail);

	if (r == 0 && keep)
		keep_scratch(o, path);
	return r;
}

int (*ptd_job_request)(uint32_t jobid, uint32_t *ret_mb,
		       struct ptd_detail *d);

/* Never fails the plan: a job whose request cannot be known gets the
 * admin's rule, and a notice says why. */
static int op_job_request(struct ptd_ops *o)
{
	uint32_t mb = 0;
	int r;

	if (o->dry_run)
		return trace_job_request(o);
	if (!ptd_job_request)
		return 0;
	r = ptd_job_request(o->jobid, &mb, &o->detail);
	if (r < 0) {
		ptd_note(&o->detail, "the job's --tmp could not be asked of Slurm's controller (%s: %s): its disk= is sized by the rule of plugstack.conf",
			 o->detail.text[0] ? o->detail.text : "no reason given",
			 strerror(-r));
		return 0;
	}
	return mb > INT32_MAX ? INT32_MAX : (int) mb;
}

int (*ptd_job_failed)(uint32_t jobid, struct ptd_detail *d);

static int op_keep_ask(struct ptd_ops *o, int dir, const char *name,
		       const char *path, int mode)
{
	if (!used_slot(o, dir))
		return -EBADF;
	if (o->dry_run)
		return trace_keep_ask(o, dir, name, path, mode);
	return ptd_keep_ask(o->fds[dir], name, mode, &o->detail);
}

static int op_keep_asked(struct ptd_ops *o, int dir, const char *name,
			 const char *path)
{
	if (!used_slot(o, dir))
		return -EBADF;
	if (o->dry_run)
		return trace_keep_asked(o, dir, name, path);
	return ptd_keep_asked(o->fds[dir], name, &o->detail);
}

/* Never fails the end: what cannot be told is kept (the core's rule), and
 * a notice says why. */
static int op_job_failed(struct ptd_ops *o)
{
	int r;

	if (o->dry_run)
		return trace_job_failed(o);
	r = ptd_job_failed ? ptd_job_failed(o->jobid, &o->detail) : -ENOSYS;
	if (r < 0) {
		ptd_note(&o->detail, "whether the job failed is not known (%s): its directories are kept as with --keep-tmpdir=always",
			 o->detail.text[0] ? o->detail.text : strerror(-r));
		return 2;
	}
	return r;
}

static int op_keep_at(struct ptd_ops *o, int kept, int parent,
		      const char *prefix, const char *path, unsigned uid,
		      int ttl)
{
	int r;

	if (!used_slot(o, kept) || !used_slot(o, parent) || ttl <= 0)
		return -EBADF;
	if (o->dry_run)
		return trace_keep_at(o, kept, parent, prefix, path, uid, ttl);
	r = ptd_keep_at(o->fds[kept], o->fds[parent], prefix, path,
			(uid_t) uid, ttl, &o->detail);
	if (r > 0)
		o->removed.kept += (uint64_t) r;
	return r < 0 ? r : 0;
}

static int op_kept_sweep(struct ptd_ops *o, int kept, int hold,
			 const char *path, int ttl, uint32_t max, int flags)
{
	if (!used_slot(o, kept) || !used_slot(o, hold) || ttl <= 0)
		return -EBADF;
	if (o->dry_run)
		return trace_kept_sweep(o, kept, hold, path, ttl, max, flags);
	return ptd_kept_sweep(o->fds[kept], o->fds[hold], path, ttl, max,
			      flags & PTD_F_SHARE, &o->detail);
}

/* The holder listens on "<name>.sock" in the namespace directory (root's,
 * 0700: nobody else can make that name). */
static int op_ns_held(struct ptd_ops *o, int dir, const char *name,
		      const char *path)
{
	char sock[PTD_NS_NAME_MAX + 8];

	if (!used_slot(o, dir))
		return -EBADF;
	if (o->dry_run)
		return trace_ns_held(o, dir, name, path);
	if ((size_t) snprintf(sock, sizeof(sock), "%s.sock", name) >= sizeof(sock))
		return -ENAMETOOLONG;
	if (faccessat(o->fds[dir], sock, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

static int op_disk_fits(struct ptd_ops *o, int dir, const char *path,
			uint32_t total_mb)
{
	if (!used_slot(o, dir))
		return -EBADF;
	if (o->dry_run)
		return trace_disk_fits(o, dir, path, total_mb);
	return ptd_disk_fits(o->fds[dir], total_mb, &o->detail);
}

static int op_need_program(struct ptd_ops *o, const char *path,
			   const char *option)
{
	if (o->dry_run)
		return trace_need_program(o, path, option);
	return ptd_need_program(path, &o->detail);
}

static int op_open_shared(struct ptd_ops *o, int slot, const char *path)
{
	if (!new_slot(o, slot))
		return -EBADF;
	if (o->dry_run)
		return trace_open_shared(o, slot, path);
	return ptd_open_shared(path, &o->fds[slot], &o->detail);
}

/* The source slot is empty when OPEN_SHARED found nothing to share. */
static int op_bind_shared(struct ptd_ops *o, int source, const char *path,
			  unsigned uid, unsigned gid, int flags)
{
	if (source < 0 || source >= PTD_MAX_SLOTS)
		return -EBADF;
	if (o->dry_run)
		return trace_bind_shared(o, source, path, uid, gid, flags);
	return ptd_bind_shared(o->fds[source], path, (uid_t) uid, (gid_t) gid,
			       flags & PTD_F_READONLY, &o->detail);
}

static int op_keep_output(struct ptd_ops *o, int dir, const char *mount_point,
			  const char *path, unsigned uid, unsigned gid)
{
	if (!used_slot(o, dir))
		return -EBADF;
	if (o->dry_run)
		return trace_keep_output(o, dir, mount_point, path, uid, gid);
	return ptd_keep_output(o->fds[dir], mount_point, path, (uid_t) uid,
			       (gid_t) gid, &o->detail);
}

static int op_set_env(struct ptd_ops *o, const char *name, const char *value,
		      int flags)
{
	if (o->dry_run)
		return trace_set_env(o, name, value, flags);
	if (!o->set_env) {
		ptd_say(o->detail.text, "this host cannot set a task's environment");
		return -ENOSYS;
	}
	/* PTD_F_IF_UNSET: a value the environment has is left as it is. */
	return o->set_env(o->set_env_ctx, name, value,
			  !(flags & PTD_F_IF_UNSET));
}

static int op_mark_ended(struct ptd_ops *o, int parent, const char *name,
			 const char *path, unsigned uid)
{
	int r;

	if (!used_slot(o, parent))
		return -EBADF;
	if (o->dry_run)
		return trace_mark_ended(o, parent, name, path, uid);
	r = ptd_mark_ended(o->fds[parent], name, uid, &o->detail);
	if (r == 0)
		o->removed.marked++;
	return r;
}

static int op_remove_at(struct ptd_ops *o, int parent, int hold,
			const char *name, const char *path, unsigned uid,
			int flags)
{
	bool every = flags & PTD_F_EVERY_RESTART, defer = flags & PTD_F_DEFER;
	struct ptd_remove_stats s = { 0 };
	int r;

	if (!used_slot(o, parent) || (defer && !used_slot(o, hold)) ||
	    (defer && !every))
		return -EBADF;
	if (o->dry_run)
		return trace_remove_at(o, parent, hold, name, path, uid, flags);
	if (every)
		r = ptd_hold_take(o->fds[parent], defer ? o->fds[hold] : -1,
				  name, uid, defer, &s, &o->detail);
	else
		r = ptd_remove_tree(o->fds[parent], name, uid, &s,
				    o->detail.text, sizeof(o->detail.text));
	o->removed.bytes += s.bytes;
	o->removed.files += s.files;
	o->removed.dirs += s.dirs;
	o->removed.skipped += s.skipped;
	o->removed.deferred += s.deferred;
	o->removed.covered += s.covered;
	return r;
}

/* Kept for the drain or continue that follows (hold.h), which forget
 * them after it: the remover's usage lines name each private directory by
 * the plan's mount path. As "<name>\t<path>\n" lines: neither holds a
 * control byte (options.ts). */
static int op_usage_path(struct ptd_ops *o, const char *name,
			 const char *path)
{
	size_t had = ptd_usage_paths ? strlen(ptd_usage_paths) : 0;
	size_t n = strlen(name), l = strlen(path);
	char *p;

	if (o->dry_run)
		return trace_usage_path(o, name, path);
	p = realloc(ptd_usage_paths, had + n + l + 3);
	if (!p)
		return -ENOMEM;
	snprintf(p + had, n + l + 3, "%s\t%s\n", name, path);
	ptd_usage_paths = p;
	return 0;
}

/* After the removal they were for. */
static void forget_usage_paths(void)
{
	free(ptd_usage_paths);
	ptd_usage_paths = NULL;
}

static int op_drain_at(struct ptd_ops *o, int hold, int parent,
		       const char *prefix, const char *path, int budget,
		       int flags)
{
	struct ptd_remove_stats s = { 0 };
	int r;

	if (!used_slot(o, hold) || !used_slot(o, parent) || budget <= 0)
		return -EBADF;
	if (o->dry_run)
		return trace_drain_at(o, hold, parent, prefix, path, budget,
				      flags);
	r = ptd_hold_drain(o->fds[hold], o->fds[parent], prefix, path, budget,
			   flags & PTD_F_SWEEP, &s, &o->detail);
	forget_usage_paths();
	o->removed.bytes += s.bytes;
	o->removed.files += s.files;
	o->removed.dirs += s.dirs;
	o->removed.skipped += s.skipped;
	return r;
}

static int op_continue_at(struct ptd_ops *o, int parent, const char *name,
			  const char *path, int budget)
{
	if (!used_slot(o, parent) || budget <= 0)
		return -EBADF;
	if (o->dry_run)
		return trace_continue_at(o, parent, name, path, budget);
	ptd_hold_continue(o->fds[parent], name, path, budget);
	forget_usage_paths();
	return 0;
}

/* A holder still setting the namespace up makes joiners wait; its setup
 * is a few system calls per mount point, far below this. */
#define NS_JOIN_TIMEOUT_MS 10000
/* The epilog waits this long for the holder to exit. */
#define NS_RELEASE_TIMEOUT_MS 5000

/* An ssh session: the user's one job with a holder here, joined, or the
 * reason it cannot be (no fallback: the session is refused). */
static int ns_enter_session(struct ptd_ops *o, int dir, const char *prefix,
			    const char *path)
{
	char name[PTD_NS_NAME_MAX + 1];
	uint32_t job;
	int r, ns_fd = -1;

	r = ptd_ns_find_user_job(o->fds[dir], prefix, o->uid, "/proc/self/cgroup",
				 &job, name, sizeof(name), &o->detail);
	if (r < 0)
		return r;
	/* Whatever options the job's namespace was made from: the session
	 * is to see the job's, not what this module would have made. */
	r = ptd_ns_fetch_at(o->fds[dir], name, NS_JOIN_TIMEOUT_MS, &ns_fd,
			    NULL, &o->detail);
	if (r < 0)
		return r;
	r = ptd_ns_enter(ns_fd, &o->detail);
	close(ns_fd);
	if (r < 0)
		return r;
	o->session_job = job;
	o->ns_how = PTD_NS_JOINED;
	(void) path;
	return 1;
}

static int op_ns_enter(struct ptd_ops *o, int dir, const char *name,
		       const char *path, int flags)
{
	int keep[PTD_MAX_SLOTS], n = 0, i, r, ns_fd = -1;
	bool no_join = flags & PTD_F_NO_JOIN;
	uint64_t tag = 0;

	if (!used_slot(o, dir))
		return -EBADF;
	/* Recorded, a step is the job's first (0: on into the namespace
	 * records) and a session joins (1). */
	if (o->dry_run) {
		r = trace_ns_enter(o, dir, name, path, flags);
		return r < 0 ? r : (flags & PTD_F_SESSION) ? 1 : 0;
	}
	r = ptd_ns_check_dir(o->fds[dir], path, &o->detail);
	if (r < 0)
		return r;
	if (flags & PTD_F_SESSION)
		return ns_enter_session(o, dir, name, path);
	/* Silent: only tests run a step's plan through the addon. */
	if (!ptd_ops_holders)
		return no_join ? 1 : 0;
	/* A step makes the job's namespace itself and hands it to a holder
	 * it does not wait for (ptd_ns_hand_off at NS_READY). The extern
	 * step stays in the host's namespace: a holder goes on with this
	 * plan there, and the slots it will use (and OPEN_PRIVATE's identity
	 * checks against them) stay open in it. */
	if (no_join)
		for (i = 0; i < PTD_MAX_SLOTS; i++)
			if (o->fds[i] >= 0)
				keep[n++] = o->fds[i];
	r = ptd_ns_elect(o->fds[dir], name, o->uid, !no_join, keep, n,
			 &o->ns, &o->detail);
	if (r == PTD_NS_FIRST || r == PTD_NS_IN_HOLDER) {
		o->ns.tag = o->config_tag;
		o->ns_how = PTD_NS_MADE;
		return 0;
	}
	if (r < 0)
		goto fallback;
	o->ns_how = r == PTD_NS_STARTED ? PTD_NS_MADE : PTD_NS_JOINED;
	if (no_join)
		return 1;
	r = ptd_ns_fetch_at(o->fds[dir], name, NS_JOIN_TIMEOUT_MS, &ns_fd,
			    &tag, &o->detail);
	if (r < 0)
		goto fallback;
	/* The plugstack line changed while the job runs: its namespace lacks
	 * what the new options make private (a new mount=, a tmpfs=), so
	 * this step makes its own from them. 0: a holder older than tags. */
	if (tag != 0 && tag != o->config_tag) {
		close(ns_fd);
		ptd_note(&o->detail, "the job's namespace \"%s\" was made from other plugstack.conf options (changed since the job started): this step makes its own from the current ones",
			 path);
		o->ns_how = PTD_NS_OWN;
		return 0;
	}
	/* No fallback past here: the thread may already be in the job's
	 * namespace, so the step fails instead. */
	r = ptd_ns_enter(ns_fd, &o->detail);
	close(ns_fd);
	return r < 0 ? r : 1;
fallback:
	/* Never the shared /tmp: the step still gets its own namespace and
	 * binds, as every step did before namespaces were kept. */
	ptd_note(&o->detail, "cannot keep the job's namespace \"%s\" (%s%s%s): %s",
		 path, o->detail.text, o->detail.text[0] ? ": " : "",
		 strerror(-r), no_join ? "its steps make their own" :
		 "this step makes its own");
	o->detail.text[0] = '\0';
	o->ns_how = PTD_NS_OWN;
	return no_join ? 1 : 0;
}

static int op_ns_ready(struct ptd_ops *o)
{
	int i, r;

	if (o->dry_run)
		return trace_ns_ready(o);
	if (o->ns.pending) {
		/* Never a reason to fail the step: it is in the namespace it
		 * made, with its binds; only later steps cannot join it. */
		r = ptd_ns_hand_off(&o->ns, &o->detail);
		if (r < 0) {
			ptd_note(&o->detail, "cannot hand the job's namespace to a holder (%s: %s): later steps make their own",
				 o->detail.text, strerror(-r));
			o->detail.text[0] = '\0';
		}
		return 0;
	}
	if (!o->ns.active)
		return 0;
	/* A holder's notices reach no step's log: it says them itself. */
	if (o->detail.notice[0] && ptd_ns_note) {
		char line[sizeof(o->detail.notice) + PTD_NS_NAME_MAX + 64];

		snprintf(line, sizeof(line), "private-tmpdir: the holder of \"%s\": %s",
			 o->ns.name, o->detail.notice);
		ptd_ns_note(line);
	}
	/* The binds are made: nothing of the plan is needed any more but
	 * the directory the socket is in. */
	for (i = 0; i < PTD_MAX_SLOTS; i++) {
		if (o->fds[i] >= 0 && o->fds[i] != o->ns.dir_fd)
			close(o->fds[i]);
		o->fds[i] = -1;
	}
	ptd_ns_serve(&o->ns);
}

static int op_ns_release(struct ptd_ops *o, int dir, const char *name,
			 const char *path, int flags)
{
	int r;

	if (!used_slot(o, dir))
		return -EBADF;
	if (o->dry_run)
		return trace_ns_release(o, dir, name, path, flags);
	r = ptd_ns_check_dir(o->fds[dir], path, &o->detail);
	if (r < 0)
		return r;
	if (flags & PTD_F_SWEEP)
		return ptd_ns_sweep(o->fds[dir], name, ptd_job_ended,
				    NS_RELEASE_TIMEOUT_MS, &o->detail);
	return ptd_ns_release_at(o->fds[dir], name, NS_RELEASE_TIMEOUT_MS,
				 &o->detail);
}

#include "ptd_ops_calls.inc"
