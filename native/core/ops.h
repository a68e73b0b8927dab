/* One plan operation at a time, on a table of descriptors the plan names by
 * slot. Shared by the slurmstepd/slurmd host (imports.c) and the Node addon,
 * so both run the very same code. */
#ifndef PTD_OPS_H
#define PTD_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fs/bind.h"
#include "fs/detail.h"
#include "fs/dirs.h"
#include "fs/walk.h"
#include "ns/nsholder.h"
#include "removal/remove.h"
/* Generated from assembly/abi.ts (gen-abi.sh): the core's ABI version,
 * checked at every run, guards the pairing. */
#include "ptd_abi.h"

struct ptd_ops {
	int fds[PTD_MAX_SLOTS];
	bool dry_run;		/* record the calls instead of making them */
	char *trace;		/* dry run: one tab-separated line per call */
	size_t trace_len, trace_cap;
	struct ptd_detail detail;	/* the current op's; cleared per op */
	/* The reason of the first failed op, kept as it was when that op
	 * failed: the core reports that op, and no later op may change why. */
	bool failed;
	char failure[PTD_DETAIL_MAX];
	struct ptd_remove_stats removed;
	/* Active in a job's namespace holder (NS_ENTER forked it): it runs
	 * the rest of the step's plan and must never return to slurmstepd. */
	struct ptd_ns_holder ns;
	/* What ns_enter did, for the step's log line. */
	enum ptd_ns_how { PTD_NS_NONE, PTD_NS_JOINED, PTD_NS_MADE, PTD_NS_OWN } ns_how;
	/* The job's user (a holder's socket is theirs; a session joins a
	 * job of theirs); set by ptd_core_run from its job. */
	uid_t uid;
	/* A session's NS_ENTER: the job whose namespace it joined. */
	uint32_t session_job;
	/* What the plan was made from (a hash of the plugstack options, set
	 * by ptd_core_run): a step joins only a namespace made from the same
	 * options, or a namespace of an older holder that sends none. */
	uint64_t config_tag;
	/* SET_ENV: how this host sets a variable for the job's tasks
	 * (spank_setenv) or the session (pam_putenv); NULL: it cannot. */
	int (*set_env)(void *ctx, const char *name, const char *value);
	void *set_env_ctx;
};

/* False in a host that must never fork a namespace holder: the Node addon
 * (a holder would be a copy of Node). Its ns_enter then does what a step
 * does when no holder can be had. */
extern bool ptd_ops_holders;

void ptd_ops_init(struct ptd_ops *o, bool dry_run);
/* Closes every descriptor and frees the trace. */
void ptd_ops_done(struct ptd_ops *o);

int ptd_ops_open_trusted(struct ptd_ops *o, int slot, const char *path,
			 unsigned mode, int flags);
int ptd_ops_mkdir_at(struct ptd_ops *o, int parent, int slot,
		     const char *name, const char *path, unsigned mode,
		     unsigned uid, unsigned gid, int flags);
int ptd_ops_unshare_mount_ns(struct ptd_ops *o);
int ptd_ops_make_slave(struct ptd_ops *o);
int ptd_ops_open_private(struct ptd_ops *o, int slot, int expect,
			 const char *path, unsigned uid);
int ptd_ops_open_target(struct ptd_ops *o, int slot, const char *path);
int ptd_ops_bind(struct ptd_ops *o, int source, int target,
		 const char *target_path, const char *source_path);
/* flags: PTD_F_NOEXEC. */
int ptd_ops_mount_tmpfs(struct ptd_ops *o, int slot, const char *path,
			uint32_t size_mb, uint32_t inodes, unsigned mode,
			unsigned uid, unsigned gid, int flags);
int ptd_ops_set_env(struct ptd_ops *o, const char *name, const char *value);
int ptd_ops_mark_ended(struct ptd_ops *o, int parent, const char *name,
		       const char *path, unsigned uid);
/* flags: PTD_F_EVERY_RESTART (name is "<name>.<jobid>."), PTD_F_DEFER
 * (into the holding place in slot hold); see hold.h. */
int ptd_ops_remove_at(struct ptd_ops *o, int parent, int hold,
		      const char *name, const char *path, unsigned uid,
		      int flags);
int ptd_ops_drain_at(struct ptd_ops *o, int hold, int parent,
		     const char *prefix, const char *path, int budget,
		     int flags);
/* Never fails the step: a remover that cannot start is only logged. */
int ptd_ops_continue_at(struct ptd_ops *o, int parent, const char *name,
			const char *path, int budget);

/* 1: joined the job's kept namespace (or flags has PTD_F_NO_JOIN and a
 * holder runs), 0: go on (in a holder just forked, or in a step that must
 * make its own namespace: the reason is a notice), or -errno. */
int ptd_ops_ns_enter(struct ptd_ops *o, int dir, const char *name,
		     const char *path, int flags);
/* In a holder: serve, never returns. Elsewhere nothing. */
int ptd_ops_ns_ready(struct ptd_ops *o);
/* flags: PTD_F_SWEEP, name is the prefix "job.": every holder of a job
 * that no longer runs on the node (hold.h's ptd_job_running). */
int ptd_ops_ns_release(struct ptd_ops *o, int dir, const char *name,
		       const char *path, int flags);

#endif
