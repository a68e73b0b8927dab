/* The embedded planning core (assembly/, translated by wasm2c): one fresh
 * instance per call, every entry into it guarded, traps fail closed. */
#ifndef PTD_CORE_H
#define PTD_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ops.h"

#define PTD_MESSAGE_MAX 1024

/* A job's own option as Slurm handed it over (its value the user's, parsed
 * by the core alone): given, with value NULL when given without one. */
struct ptd_user_opt {
	bool given;
	const char *value;
};

struct ptd_job {
	uint32_t jobid, restart, uid, gid;
	/* For tmpfs= sizes given as a share: the job's memory on this node
	 * as Slurm allocated it (0: none allocated), and the node's. */
	uint32_t mem_mb, node_mem_mb;
	/* For disk= sizes given as a share: the job's cores on this node and
	 * the node's (0: unknown). */
	uint32_t cores, node_cores;
	/* For a disk= with request: the job's own --tmp in MiB (0: none, or
	 * not known), as INIT's JOB_REQUEST got it (ptd_job_request). */
	uint32_t request_mb;
	/* SET_ENV (tmpdir=, and a step's PRIVATE_TMPDIR_HOST_<NAME> for each
	 * mount=): sets a variable for the job's tasks or the session; NULL
	 * where the phase has none. */
	int (*set_env)(void *ctx, const char *name, const char *value,
		       bool overwrite);
	void *set_env_ctx;
	/* --keep-tmpdir and --private-tmpdir (#26): refused by the core
	 * unless plugstack.conf offers them. */
	struct ptd_user_opt keep, private_tmp;
};

/* This node's memory in MiB (0 if unknown). */
uint32_t ptd_node_mem_mb(void);

/* This node's cores, as Slurm counts them for a job's allocation (online
 * CPUs over the threads of a core; 0 if unknown). */
uint32_t ptd_node_cores(void);

/* The CPUs or cores in a list such as "0-3,8" (-1 if malformed). */
long ptd_count_cpu_list(const char *s);

struct ptd_result {
	char code[32];		/* the core's error name, or TRAP / NO_MEMORY */
	char message[PTD_MESSAGE_MAX];
	char notice[sizeof(((struct ptd_detail *) 0)->notice)];
	struct ptd_remove_stats removed;
	int ns_how;		/* enum ptd_ns_how (ops.h): the step's namespace */
	uint32_t session_job;	/* SESSION: the job whose namespace it joined */
	char *trace;		/* dry run only; the caller frees it */
};

/* Test-only: make the next import call trap, to prove a trap fails closed. */
extern bool ptd_core_test_trap;
/* Test-only: a countdown, decremented by every import call; the call that
 * takes it to 0 traps (1: the first import; 0: off). A trap at every N shows
 * that what the first N-1 calls did is all that is left. */
extern unsigned ptd_core_test_trap_at;
/* Test-only: called with the import's name before each import call, so a
 * test can change the filesystem between two operations of one plan. */
extern void (*ptd_core_test_before)(const char *op);

/*
 * Validates argv (plugstack arguments), plans the phase for job and carries
 * the plan out (or records it, dry_run). Returns 0, or -1 with res->code and
 * res->message saying what failed and why.
 */
int ptd_core_run(enum ptd_phase phase, int argc, char *const argv[],
		 const struct ptd_job *job, bool dry_run,
		 struct ptd_result *res);

#endif
