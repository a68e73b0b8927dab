/* The SPANK callbacks: where each phase of the plan runs. Each callback
 * names its context and returns early in any other. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <slurm/slurm_version.h>
#include <slurm/spank.h>
#include <slurm/slurm.h>

#include "core/core.h"
#include "core_sha256.h"
#include "removal/detach.h"
#include "removal/hold.h"
#include "ns/nsholder.h"
#include "util/messages.h"
#include "jobs/ended.h"
#include "jobs/request.h"
#include "jobs/outcome.h"
#include "removal/kept.h"
#include "util/threadids.h"
#include "fs/output.h"

#define PTD_VERSION "0.2.0"

/* private-tmpdir-contain.so (native/Makefile builds it from this file with
 * PTD_CONTAIN_ONLY): the same plugin without slurm_spank_job_epilog. That
 * symbol alone makes slurmd fork and exec `slurmstepd spank epilog` after
 * every job, whatever the callback does (docs/benchmarks.md, "the floor").
 * Under PrologFlags=Contain the extern step's end is the job's end on each
 * node and removes the directories already (slurm_spank_exit), so there the
 * epilog process is pure cost. Without Contain nothing else knows the job
 * ended: this build refuses to run a step there (contain_missing). */
#ifdef PTD_CONTAIN_ONLY
#define PTD_FLAVOUR "/contain"
#define PTD_WHO_ELSE_REMOVES "the sweep at the next job's end on the node (or slurmd's start) removes the directories"
#else
#define PTD_FLAVOUR ""
#define PTD_WHO_ELSE_REMOVES "the epilog removes the directories"
#endif

/* ms the remover of a job's end lets pass after the process that started
 * it (the epilog, the extern step) has exited, before its first unlink:
 * slurmd's report that the job is done goes first (docs/benchmarks.md,
 * "Cleanup off the job's path"). The bench
 * builds other values to compare them in one run. */
#ifndef PTD_REMOVER_SETTLE_MS
#define PTD_REMOVER_SETTLE_MS 100
#endif
/* How long a remover started at a job's end stays for the next jobs'
 * directories (hold.h): back to back jobs start one between them, not one
 * each (its start costs the node about 7 ms of COMPLETING per job,
 * docs/benchmarks.md). Only at a job's end: slurmd's start and a step's
 * continuation have no next job's end to wait for, and their lines would
 * name the wrong starter. */
#ifndef PTD_REMOVER_LINGER_MS
#define PTD_REMOVER_LINGER_MS 2000
#endif
/* The longest a kept place's waiter sleeps before it looks again: a kept
 * tree goes at most this long after its time. */
#define KEPT_NAP_S 30
/* Bound on waiting for that process: it only has to return to slurmd. */
#define STARTER_EXIT_WAIT_MS 10000
/* Bound on the extern step's end waiting for remove_in_child: taking the
 * job's directories out of reach is a few renames and a fork. */
#define CHILD_REMOVAL_BUDGET_MS 10000

#pragma GCC visibility push(default)
SPANK_PLUGIN(private-tmpdir, 1);
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 5, 0)
/* Slurm 25.05+: a failing slurm_spank_init fails the job instead of
 * draining the node. A bad plugstack line is the admin's mistake; one that
 * took every node out of service would turn it into an outage. */
int slurm_spank_init_failure_mode = ESPANK_JOB_FAILURE;
#endif

static int keep_option(int val, const char *optarg, int remote);
static int private_option(int val, const char *optarg, int remote);

#pragma GCC visibility pop

/* The job's own options (#26), in sbatch --help: registered by
 * slurm_spank_init (Slurm reads no static spank_options table in sbatch and
 * salloc, the allocator context). Offered whatever the plugstack line says, so that a job asking what this cluster does not
 * allow is refused at submission, naming what is missing, rather than
 * told the option does not exist. */
static struct spank_option job_options[] = {
	{ "keep-tmpdir", "failed|always",
	  "Keep this job's private directories (its /tmp) on each node after it ends, if it failed (the default) or always, for its user to look at for as long as the cluster keeps them (private-tmpdir kept)",
	  2, 0, keep_option },
	{ "private-tmpdir", "off",
	  "Run this job's steps with the node's shared /tmp, where the cluster allows it (optout=yes)",
	  1, 0, private_option },
	SPANK_OPTIONS_TABLE_END
};
/* The plugstack arguments, as slurm_spank_init got them (Slurm keeps them
 * for the plugin's life): the option callbacks of sbatch, srun and salloc
 * check a job's options against them. */
static int plugin_ac;
static char **plugin_av;

/* The job's own options as Slurm handed them over (ptd_job.keep and
 * .private_tmp): sbatch's, srun's and salloc's, or a step's (remote). */
static struct ptd_user_opt user_keep, user_private;

/* Takes a job option's value (NULL or "": given without one); in sbatch,
 * srun and salloc checks it against the plugstack line at once, so a job
 * asks nothing the cluster does not allow. A step finds out in its plan. */
static int take_option(struct ptd_user_opt *o, const char *optarg, int remote)
{
	static const struct ptd_job none = { .jobid = 0 };
	struct ptd_result res;
	struct ptd_job job = none;
	char *v = NULL;

	/* "(null)": given without a value, as Slurm passes it on through
	 * the job's environment (spank.c _option_setenv). */
	if (optarg && !strcmp(optarg, "(null)"))
		optarg = NULL;
	if (optarg && *optarg && !(v = strdup(optarg))) {
		slurm_error("private-tmpdir: out of memory");
		return -1;
	}
	free((char *) o->value);
	o->given = true;
	o->value = v;
	if (remote || !plugin_av)
		return 0;
	job.keep = user_keep;
	job.private_tmp = user_private;
	if (ptd_core_run(PTD_PHASE_CHECK, plugin_ac, plugin_av, &job, false,
			 &res) < 0) {
		slurm_error("private-tmpdir: %s", res.message);
		return -1;
	}
	return 0;
}

static void register_options(spank_t sp)
{
	struct spank_option *o;

	for (o = job_options; o->name; o++) {
		spank_err_t e = spank_option_register(sp, o);

		if (e != ESPANK_SUCCESS)
			slurm_error("private-tmpdir: cannot offer --%s: %s",
				    o->name, spank_strerror(e));
	}
}

static int keep_option(int val, const char *optarg, int remote)
{
	(void) val;
	return take_option(&user_keep, optarg, remote);
}

static int private_option(int val, const char *optarg, int remote)
{
	(void) val;
	return take_option(&user_private, optarg, remote);
}

/* The configuration slurmstepd runs with, as slurmd handed it over; Slurm's
 * own namespace plugins read their type from it too. No SPANK item carries
 * it, and re-reading slurm.conf would miss include files and configless
 * nodes. Weak: a process without libslurmfull still loads us. */
extern slurm_conf_t slurm_conf __attribute__((weak));

/* Slurm 25.11+ NamespaceType, before it JobContainerType: anything but none
 * gives the job a mount namespace of its own, which defeats ours.
 * namespace/linux starts every step's slurmstepd inside it, where /tmp is
 * already the job's (user-owned) directory; namespace/tmpfs (and
 * job_container/tmpfs before it) makes each task setns() into the namespace
 * it keeps bound at BasePath/<job>/.ns, a bind our unshare() does not copy,
 * so every task fails (seen on 26.05). */
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 11, 0)
#define PTD_NS_OPTION "NamespaceType"
#define PTD_NS_FIELD namespace_plugin
#else
#define PTD_NS_OPTION "JobContainerType"
#define PTD_NS_FIELD job_container_plugin
#endif

/* The conflicting plugin's type, or NULL. */
static const char *namespace_type(void)
{
	const char *t;
	size_t n;

	if (!&slurm_conf)
		return NULL;
	t = slurm_conf.PTD_NS_FIELD;
	if (!t || !t[0])
		return NULL;
	n = strlen(t);
	if (n >= 5 && !strcmp(t + n - 5, "/none"))
		return NULL;
	return t;
}

#ifdef PTD_CONTAIN_ONLY
#ifdef PROLOG_FLAG_RUN_IN_JOB
#define PTD_EXTERN_FLAGS (PROLOG_FLAG_CONTAIN | PROLOG_FLAG_RUN_IN_JOB)
#else
#define PTD_EXTERN_FLAGS PROLOG_FLAG_CONTAIN
#endif
/* Why this build cannot clean up after a job here, or NULL. The extern
 * step exists with Contain (and with RunInJob, which implies it). */
static const char *contain_missing(void)
{
	if (!&slurm_conf)
		return "slurm.conf cannot be read from the plugin";
	if (!(slurm_conf.prolog_flags & PTD_EXTERN_FLAGS))
		return "slurm.conf has no PrologFlags=Contain";
	return NULL;
}
#endif

/* The plugstack arguments, space separated, in a string of their own
 * length: the load line shows every option, however long. NULL when out of
 * memory. */
static char *join_args(int ac, char **av)
{
	size_t len = 1, n = 0;
	char *s;
	int i;

	for (i = 0; i < ac; i++)
		len += strlen(av[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < ac; i++) {
		size_t k = strlen(av[i]);

		if (i)
			s[n++] = ' ';
		memcpy(s + n, av[i], k);
		n += k;
	}
	s[n] = '\0';
	return s;
}

/* Logs which job item Slurm did not give, and Slurm's reason; returns -1.
 * jobid is 0 while the job id itself is unknown. */
static int item_error(uint32_t jobid, const char *what, const char *item,
		      spank_err_t e)
{
	if (jobid)
		slurm_error("private-tmpdir: job %u: cannot get the %s (%s): %s",
			    jobid, what, item, spank_strerror(e));
	else
		slurm_error("private-tmpdir: cannot get the %s (%s): %s", what,
			    item, spank_strerror(e));
	return -1;
}

static int job_facts(spank_t sp, struct ptd_job *job)
{
	uint64_t mem = 0;
	char *cores = NULL;
	long n_cores;
	spank_err_t e;
	uid_t uid;
	gid_t gid;

	memset(job, 0, sizeof(*job));
	e = spank_get_item(sp, S_JOB_ID, &job->jobid);
	if (e != ESPANK_SUCCESS)
		return item_error(0, "job id", "S_JOB_ID", e);
	e = spank_get_item(sp, S_JOB_UID, &uid);
	if (e != ESPANK_SUCCESS)
		return item_error(job->jobid, "job's uid", "S_JOB_UID", e);
	e = spank_get_item(sp, S_JOB_GID, &gid);
	if (e != ESPANK_SUCCESS)
		return item_error(job->jobid, "job's gid", "S_JOB_GID", e);
	job->uid = uid;
	job->gid = gid;
	/* Not available in the epilog: then 0, as slurmstepd also reports
	 * after a requeue on 22.05. A requeued run starts clean anyway: the
	 * epilog removed the directory, or (cleanup=no) marked it ended. */
	if (spank_get_item(sp, S_SLURM_RESTART_COUNT, &job->restart) !=
	    ESPANK_SUCCESS)
		job->restart = 0;
	/* MiB on this node (slurmstepd only; 0: Slurm allocated none). */
	if (spank_get_item(sp, S_JOB_ALLOC_MEM, &mem) != ESPANK_SUCCESS)
		mem = 0;
	job->mem_mb = mem > UINT32_MAX ? UINT32_MAX : (uint32_t) mem;
	job->node_mem_mb = ptd_node_mem_mb();
	/* The job's cores on this node (slurmstepd only), for disk= shares. */
	if (spank_get_item(sp, S_JOB_ALLOC_CORES, &cores) == ESPANK_SUCCESS &&
	    cores && (n_cores = ptd_count_cpu_list(cores)) > 0)
		job->cores = (uint32_t) n_cores;
	job->node_cores = ptd_node_cores();
	return 0;
}

/* SET_ENV in a step: into the environment slurmstepd gives every task.
 * Without overwrite (tmpdir_var=), a value the job's environment has (sbatch
 * --export, a variable exported in the script before srun) stays: Slurm
 * answers ESPANK_ENV_EXISTS and sets nothing. */
static int step_set_env(void *ctx, const char *name, const char *value,
			bool overwrite)
{
	spank_err_t e = spank_setenv((spank_t) ctx, name, value,
				     overwrite ? 1 : 0);

	if (e == ESPANK_ENV_EXISTS && !overwrite) {
		slurm_debug("private-tmpdir: %s left as the job's environment has it",
			    name);
		return 0;
	}
	if (e != ESPANK_SUCCESS) {
		slurm_error("private-tmpdir: spank_setenv(%s): %s", name,
			    spank_strerror(e));
		return -EINVAL;
	}
	return 0;
}

/* The extern step (PrologFlags=Contain) runs no task of the job; the batch
 * step and salloc's interactive step run the shell a user types sbcast in.
 * A step id Slurm does not give is an ordinary step. */
static enum ptd_phase step_phase(spank_t sp)
{
	uint32_t step;

	if (spank_get_item(sp, S_JOB_STEPID, &step) != ESPANK_SUCCESS)
		return PTD_PHASE_STEP;
	if (step == SLURM_EXTERN_CONT)
		return PTD_PHASE_EXTERN;
	if (step == SLURM_BATCH_SCRIPT || step == SLURM_INTERACTIVE_STEP)
		return PTD_PHASE_SCRIPT;
	return PTD_PHASE_STEP;
}

/* retried: the caller runs it once more elsewhere if it fails (a debug
 * line, not an error). */
static int run_phase(enum ptd_phase phase, int ac, char **av,
		     const struct ptd_job *job, bool retried,
		     struct ptd_result *res)
{
	int r = ptd_core_run(phase, ac, av, job, false, res);

	if (res->notice[0])
		slurm_info("private-tmpdir: job %u: %s", job->jobid,
			   res->notice);
	if (r < 0 && !retried)
		slurm_error("private-tmpdir: job %u: %s", job->jobid,
			    res->message);
	if (r < 0 && retried)
		slurm_debug("private-tmpdir: job %u: %s; once more in a child of its own",
			    job->jobid, res->message);
	return r;
}

static void start_remover(int ac, char **av, const char *where, bool settle);

/* The job's --tmp as INIT asked it (JOB_REQUEST, a disk= with request), for
 * the same step's init_post_opt: its namespace's maker never asks. */
static uint32_t job_request_mb;

static int ask_job_request(uint32_t jobid, uint32_t *ret_mb,
			   struct ptd_detail *d)
{
	struct timespec t0, t1;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = ptd_slurm_job_request(jobid, ret_mb, d);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	job_request_mb = r == 0 ? *ret_mb : 0;
	/* What the question cost the job's start (docs/benchmarks.md). */
	if (r == 0)
		slurm_debug("private-tmpdir: job %u: --tmp %u MiB, asked of slurmctld in %.3f ms",
			    jobid, *ret_mb,
			    (t1.tv_sec - t0.tv_sec) * 1e3 +
			    (t1.tv_nsec - t0.tv_nsec) / 1e6);
	return r;
}

#pragma GCC visibility push(default)

/* slurmstepd and the epilog process: validate the options once, so a bad
 * plugstack line is reported with the option named before anything is
 * made. Only slurmstepd fails on it: every step of every job then fails,
 * never running with the shared /tmp. The epilog only logs it, because a
 * failing epilog of a required plugin drains the node. srun, sbatch and
 * slurmd itself go on, so the error lands in the slurmd log per job. */
int slurm_spank_init(spank_t sp, int ac, char **av)
{
	static const struct ptd_job none = { .jobid = 0 };
	spank_context_t ctx = spank_context();
	struct ptd_result res;
	struct ptd_job job = { .jobid = 0 };
	char *opts;
	int r;

	plugin_ac = ac;
	plugin_av = av;
	if (ctx == S_CTX_LOCAL || ctx == S_CTX_ALLOCATOR || ctx == S_CTX_REMOTE)
		register_options(sp);
	/* slurmd starting: whatever a crash, a reboot or a missed epilog left
	 * (holding places, job directories of jobs gone) is removed, off
	 * slurmd's path. */
	if (ctx == S_CTX_SLURMD) {
#ifdef PTD_CONTAIN_ONLY
		if (contain_missing())
			slurm_error("private-tmpdir: private-tmpdir-contain.so removes a job's directories at its extern step's end, but %s: every step on this node fails until it has (or plugstack.conf names private-tmpdir.so, which has a job epilog)",
				    contain_missing());
#endif
		/* What the node lacks for these options (disk='s mke2fs) is
		 * said at slurmd's start too, before any job fails on it;
		 * slurmd goes on. */
		if (ptd_core_run(PTD_PHASE_CHECK, ac, av, &none, false, &res) < 0)
			slurm_error("private-tmpdir: bad plugstack.conf option: %s; every step on this node fails until it is fixed",
				    res.message);
		start_remover(ac, av, "slurmd start", false);
		return 0;
	}
	if (ctx != S_CTX_REMOTE && ctx != S_CTX_JOB_SCRIPT)
		return 0;
	/* A step checks its job's disk= room here too (Phase INIT): where
	 * Slurm 25.05+ fails the job and keeps the node, as it does not for a
	 * failure in init_post_opt. */
	ptd_job_request = ask_job_request;
	if (ctx == S_CTX_REMOTE && job_facts(sp, &job) == 0)
		r = ptd_core_run(PTD_PHASE_INIT, ac, av, &job, false, &res);
	else
		r = ptd_core_run(PTD_PHASE_CHECK, ac, av, &none, false, &res);
	/* INIT makes the directories it looks in: a squatter it moved aside
	 * is said here, as a step says it. */
	if (res.notice[0])
		slurm_info("private-tmpdir: job %u: %s", job.jobid, res.notice);
	if (r < 0 && !strcmp(res.code, "HOST")) {
		/* The options are fine; the node cannot give the job what they
		 * ask for (no room, no mke2fs). */
		slurm_error("private-tmpdir: job %u: %s", job.jobid, res.message);
		return -1;
	}
	if (r < 0) {
		slurm_error("private-tmpdir: bad plugstack.conf option: %s",
			    res.message);
		return ctx == S_CTX_REMOTE ? -1 : 0;
	}
	opts = join_args(ac, av);
	/* Verbose, not info: it is written for every step of every job. The
	 * tests prove the plugin ran by it (SlurmdDebug=debug shows it). */
	slurm_verbose("private-tmpdir: loaded %s core sha256 %s; options: %s",
		      PTD_VERSION PTD_FLAVOUR, PTD_CORE_SHA256,
		      opts ? opts : "(not shown: out of memory)");
	free(opts);
	/* Refused before anything is made: a job that runs at all has its
	 * private directories. The epilog goes on (it finds nothing). */
	if (ctx == S_CTX_REMOTE && namespace_type()) {
		slurm_error("private-tmpdir: refusing to run with " PTD_NS_OPTION "=%s: Slurm's own plugin already gives the job its own mount namespace and /tmp, and this plugin cannot work inside it; use one of the two (remove " PTD_NS_OPTION " from slurm.conf or private-tmpdir from plugstack.conf)",
			    namespace_type());
		return -1;
	}
#ifdef PTD_CONTAIN_ONLY
	/* Refused before anything is made: nothing would remove it. */
	if (ctx == S_CTX_REMOTE && contain_missing()) {
		slurm_error("private-tmpdir: private-tmpdir-contain.so removes a job's directories at its extern step's end, but %s: add it to slurm.conf, or name private-tmpdir.so (which has a job epilog) in plugstack.conf",
			    contain_missing());
		return -1;
	}
#endif
	return 0;
}

/* The remover's lines, in the log of the process it was detached from. */
static void report_info(const char *line)
{
	slurm_info("%s", line);
}

/* The kept-output lines of every file (fs/output.h). */
static void report_debug(const char *line)
{
	slurm_debug("%s", line);
}

/* A namespace holder's, when it gives up (nobody waits for it). */
static void report_error(const char *line)
{
	slurm_error("%s", line);
}

struct remover_args {
	int ac;
	char **av;
	const char *where;
	int starter_fd;		/* pidfd of the process that started it, or -1 */
	bool at_job_end;	/* settles first and lingers after */
};

/* The pidfd the remover's settle waits on (-1: none). */
static int settle_fd = -1;

/* Lets the starter exit and slurmd report the job's end before the
 * removal takes the disk and the journal. Runs under the holding place's
 * lock (ptd_drain_settle), so epilogs and steps that come meanwhile leave
 * their directories to this remover instead of starting one. */
static void settle(void)
{
	struct pollfd p = { .fd = settle_fd, .events = POLLIN };
	struct timespec ts = {
		PTD_REMOVER_SETTLE_MS / 1000,
		(PTD_REMOVER_SETTLE_MS % 1000) * 1000000L,
	};
	int r;

	if (settle_fd < 0)
		return;
	do
		r = poll(&p, 1, STARTER_EXIT_WAIT_MS);
	while (r < 0 && errno == EINTR);
	close(settle_fd);
	settle_fd = -1;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A remover that became a kept place's waiter (kept.h) stays, asleep,
 * until the next kept tree is due, and sweeps again then: no kept tree
 * outlives its time on a node where no job ends. One such process per
 * kept place; slurmd's start makes one again after a reboot. */
static void wait_for_kept(const struct remover_args *a)
{
	static const struct ptd_job none = { .jobid = 0 };
	struct ptd_result res;

	ptd_drain_settle = NULL;
	ptd_drain_linger_ms = 0;
	ptd_report_where = "kept trees' expiry";
	while (ptd_kept_timer_fd >= 0 && ptd_kept_wake) {
		/* A nap at most: a tree kept meanwhile under a shorter keep=
		 * (slurmd restarted with a new plugstack line) is due before
		 * the one this waiter knows of. */
		time_t nap = time(NULL) + KEPT_NAP_S;
		struct timespec due = {
			ptd_kept_wake + 1 < nap ? ptd_kept_wake + 1 : nap, 0
		};

		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &due,
				       NULL) == EINTR)
			;
		ptd_kept_wake = 0;
		if (ptd_core_run(PTD_PHASE_DRAIN, a->ac, a->av, &none, false,
				 &res) < 0)
			slurm_error("private-tmpdir: remover: %s", res.message);
	}
}

/* The detached remover (detach.h): empties every base's holding place, one
 * line per job directory when it is gone, one when work stays pending. */
static void remover(void *arg)
{
	static const struct ptd_job none = { .jobid = 0 };
	const struct remover_args *a = arg;
	struct ptd_result res;

	settle_fd = a->starter_fd;
	ptd_drain_settle = settle;
	ptd_drain_linger_ms = a->at_job_end ? PTD_REMOVER_LINGER_MS : 0;
	ptd_report = report_info;
	ptd_report_where = a->where;
	ptd_job_ended = ptd_job_known_ended;
	if (ptd_core_run(PTD_PHASE_DRAIN, a->ac, a->av, &none, false, &res) < 0)
		slurm_error("private-tmpdir: remover: %s", res.message);
	/* What the sweep did besides removing (a holder of a job no longer on
	 * the node released): an admin should see it. */
	if (res.notice[0])
		slurm_info("private-tmpdir: remover (%s): %s", a->where,
			   res.notice);
	wait_for_kept(a);
}

/* The process whose exit the remover waits for: this one, or (0) the one
 * the extern step's removal runs for (remove_in_child). */
static pid_t remover_starter;

/* settle: at a job's end, not at slurmd's start (slurmd goes on). A
 * kernel without pidfd_open (< 5.3) gets no wait, as before. */
static void start_remover(int ac, char **av, const char *where, bool settle)
{
	struct remover_args a = { ac, av, where, -1, settle };
	int r;

	if (settle)
		a.starter_fd = (int) syscall(SYS_pidfd_open, remover_starter ?
					     remover_starter : getpid(), 0);
	r = ptd_detach(remover, &a, a.starter_fd);
	if (a.starter_fd >= 0)
		close(a.starter_fd);
	if (r < 0)
		slurm_error("private-tmpdir: cannot start the remover: %s; a later epilog or slurmd's start goes on",
			    strerror(-r));
}

struct continue_args {
	int hold_fd;
	const char *hold_path;
	int budget;
};

/* A remover started by a step: goes on with the one holding place the
 * step found work in (no sweep: that is the epilog's and slurmd's). */
static void continuer(void *arg)
{
	const struct continue_args *a = arg;
	struct ptd_remove_stats s = { 0 };
	struct ptd_detail d = { { 0 }, { 0 } };

	ptd_report = report_info;
	ptd_report_where = "step";
	if (ptd_hold_drain(a->hold_fd, -1, "", a->hold_path, a->budget, false,
			   &s, &d) < 0)
		slurm_error("private-tmpdir: remover: %s: %s", a->hold_path,
			    d.text);
}

/* hold.h's ptd_continue, from a step, before its own namespace exists:
 * the remover must see the host's mount table, where the holding place is. */
static int continue_removal(int hold_fd, const char *hold_path, int budget)
{
	struct continue_args a = { hold_fd, hold_path, budget };

	return ptd_detach(continuer, &a, hold_fd);
}

/* Takes the job's directories (every restart count) out of reach into the
 * holding place at once and leaves their removal to a detached remover:
 * the job is COMPLETED without waiting for it, however large the tree.
 * Marks them ended instead with cleanup=no. Never fails its caller: one
 * user's leftovers must not drain a node. */
static int remove_job_dirs(int ac, char **av, const struct ptd_job *job,
			   const char *where, bool retried)
{
	struct ptd_result res;
	struct timespec t0, t1;
	char line[512];
	double secs;

	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ptd_defer_removal = true;
	r = run_phase(PTD_PHASE_EPILOG, ac, av, job, retried, &res);
	ptd_defer_removal = false;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r < 0 && retried)
		return r;
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* A kept tree is measured, and its time watched, by a remover. */
	if (res.removed.kept && !res.removed.deferred) {
		start_remover(ac, av, where, true);
		return r;
	}
	if (res.removed.deferred) {
		/* The per-job line comes from the remover, once it is gone. */
		slurm_debug("private-tmpdir: job %u: %llu directories taken out of reach in %.3f s; removal continues after the %s%s",
			    job->jobid, (unsigned long long) res.removed.deferred,
			    secs, where,
			    res.removed.covered == res.removed.deferred ?
			    ", by the remover already at work" : "");
		/* No fork on the job's end while a remover is at work: it
		 * takes these too. */
		if (res.removed.covered < res.removed.deferred ||
		    res.removed.kept)
			start_remover(ac, av, where, true);
		return r;
	}
	ptd_summary(line, sizeof(line), job->jobid, job->uid, &res.removed,
		    secs, where);
	slurm_info("%s", line);
	return r;
}

/* The tests and an admin reading the log tell from this how a step got its
 * namespace (docs/namespace-per-job.md). */
static const char *ns_words(int how, bool ext)
{
	switch (how) {
	case PTD_NS_JOINED:
		return ext ? "the job's namespace is held" :
			     "in the job's namespace";
	case PTD_NS_MADE:
		return ext ? "the job's namespace started" :
			     "in the job's namespace, started by this step";
	case PTD_NS_OWN:
		return ext ? "no job namespace kept" :
			     "in a namespace of its own (none kept for the job)";
	default:
		return "namespace not looked at";
	}
}

/* slurmstepd, once per step (extern and batch steps included), before any
 * task starts: the directories, a new mount namespace, and the binds. Any
 * failure fails the step.
 *
 * The extern step (PrologFlags=Contain) only makes the directories, in the
 * host's namespace: it runs no task of the job, and it must still see them
 * at its end (slurm_spank_exit), where it removes them.
 *
 * There is deliberately no slurm_spank_job_prolog: its mere presence makes
 * slurmd fork a SPANK prolog process for every job, which measured 13-15 ms
 * of a 44 ms job launch (docs/benchmarks.md); making the directories here
 * costs well under a millisecond and is race-free between concurrent steps. */
int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	enum ptd_phase phase;
	struct ptd_result res;
	struct ptd_job job;
	bool ext;

	if (spank_context() != S_CTX_REMOTE)
		return 0;
	if (job_facts(sp, &job) < 0)
		return -1;
	phase = step_phase(sp);
	ext = phase == PTD_PHASE_EXTERN;
	job.request_mb = job_request_mb;
	job.set_env = step_set_env;
	job.set_env_ctx = sp;
	job.keep = user_keep;
	job.private_tmp = user_private;
	ptd_continue = continue_removal;
	ptd_ns_log = report_error;
	ptd_ns_note = report_info;
	if (run_phase(phase, ac, av, &job, false, &res) < 0)
		return -1;
	if (user_private.given && !ext && res.ns_how == PTD_NS_NONE) {
		slurm_info("private-tmpdir: job %u: --private-tmpdir=%s: this step runs with the node's shared directories (optout=yes)",
			   job.jobid, user_private.value ? user_private.value : "");
		return 0;
	}
	slurm_debug("private-tmpdir: job %u: %s, %s", job.jobid,
		    ext ? "private directories made (extern step)" :
			  "private directories mounted",
		    ns_words(res.ns_how, ext));
	return 0;
}

/* The extern step's removal when this thread could not do it (below), in a
 * child of its own with root's ids: it has ids of its own, which no other
 * thread's set*id reaches. What it cannot do comes back through a pipe and
 * is logged here, within CHILD_REMOVAL_BUDGET_MS (fs/output.h); its end is
 * told by that pipe, not waitpid: slurmstepd may reap it first. */
static void remove_in_child(int ac, char **av, const struct ptd_job *job)
{
	static const struct ptd_output_log log = {
		.debug = report_debug,
		.info = report_info,
		.error = report_error,
	};
	char what[64];
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		slurm_error("private-tmpdir: job %u: pipe: %m; " PTD_WHO_ELSE_REMOVES,
			    job->jobid);
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		/* The uid first: forked while another thread had made the
		 * process the job's user (seen on 24.11), the child has no
		 * capability to change its groups or gids before it. */
		if (setresuid(0, 0, 0) < 0 || setresgid(0, 0, 0) < 0 ||
		    setgroups(0, NULL) < 0) {
			ptd_child_say(fds[1], 'E', "private-tmpdir: job %u: cannot take root's ids to remove the job's directories: %s; " PTD_WHO_ELSE_REMOVES,
				      job->jobid, strerror(errno));
			_exit(1);
		}
		remover_starter = getppid();
		remove_job_dirs(ac, av, job, "extern step", false);
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		slurm_error("private-tmpdir: job %u: fork: %m; " PTD_WHO_ELSE_REMOVES,
			    job->jobid);
		return;
	}
	snprintf(what, sizeof(what), "job %u: the extern step's removal",
		 job->jobid);
	ptd_child_relay(fds[0], pid, CHILD_REMOVAL_BUDGET_MS, what, &log);
	close(fds[0]);
}

/* slurmstepd, after forking each of the step's tasks (as root, in the job's
 * namespace, every task's output file open): once per step, output the
 * step writes under a private mount is linked at its path on the host
 * (fs/output.h). Never fails the step: on 22.05 and 24.11 a failure here
 * drains the node; what cannot be kept is logged. */
int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
	static const struct ptd_output_log log = {
		.debug = report_debug,
		.info = report_info,
		.error = report_error,
	};
	static bool done;
	uint32_t jobid = 0;
	gid_t *groups = NULL;
	int n_groups = 0;

	(void) ac;
	(void) av;
	if (spank_context() != S_CTX_REMOTE || done)
		return 0;
	done = true;
	if (spank_get_item(sp, S_JOB_ID, &jobid) != ESPANK_SUCCESS)
		jobid = 0;
	/* The job's own groups, as slurmstepd opened its output with. */
	if (spank_get_item(sp, S_JOB_SUPPLEMENTARY_GIDS, &groups, &n_groups) !=
	    ESPANK_SUCCESS || n_groups < 0) {
		groups = NULL;
		n_groups = 0;
	}
	ptd_link_outputs(jobid, groups, n_groups, &log);
	return 0;
}

/* The job's outcome as the extern step's end asked it, for JOB_FAILED. */
static int outcome_r = -ENOSYS;
static struct ptd_detail outcome_d;

static int known_outcome(uint32_t jobid, struct ptd_detail *d)
{
	(void) jobid;
	memcpy(d->text, outcome_d.text, sizeof(d->text));
	return outcome_r;
}

/* Whether the line lets a job be kept (keep=): the only lines whose job's
 * end needs the job's outcome. The core parses the value. */
static bool offers_keep(int ac, char **av)
{
	int i;

	for (i = 0; i < ac; i++)
		if (!strncmp(av[i], "keep=", 5))
			return true;
	return false;
}

/* slurmstepd at the end of a step: the extern step ends with the job, on
 * every node of it. Under PrologFlags=RunInJob (Slurm 24.05+) slurmd runs
 * no SPANK job epilog at all (seen on 24.11 and 26.05), so this is where the
 * directories go; otherwise the epilog below finds nothing left. */
int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	struct ptd_thread_ids saved;
	struct ptd_job job;
	int r;

	if (spank_context() != S_CTX_REMOTE)
		return 0;
	/* A step that forked no task kept its directories until now. */
	ptd_output_forget();
	if (step_phase(sp) != PTD_PHASE_EXTERN)
		return 0;
	if (job_facts(sp, &job) < 0)
		return 0;
	/* Asked here, before this thread blocks every signal to be root
	 * (below): on 24.11 the controller's answer never came to a thread
	 * that did (the extern step hung in COMPLETING). Only where a job may
	 * be kept at all; the core still decides whether it is. */
	outcome_r = offers_keep(ac, av) ?
		ptd_slurm_job_failed(job.jobid, &outcome_d) : -ENOSYS;
	ptd_job_failed = known_outcome;
	/* In this thread, as root: its ids alone (threadids.h). Other
	 * slurmstepd threads switch the process's effective ids to the job's
	 * user for work of their own, and glibc's set*id changes every
	 * thread's: seen on 24.11 during the extern step's end (egid 1000 in
	 * this callback; opening a root-only file failing with EACCES: the
	 * X11 shutdown slurmstepd 24.11 runs beside this callback). Such a
	 * switch waits until this thread is back (threadids.h); if the work
	 * fails all the same, it is done again in a child. Not in a child
	 * first: slurmd looks for the job's steps to have ended 20 ms after
	 * signalling them, then 50 and 100 ms later (22.05's
	 * _pause_for_job_completion), and a fork of slurmstepd with the
	 * copy-on-write it costs measured 2 to 9 ms, so a millisecond here
	 * can keep the node 50 ms longer (docs/benchmarks.md). */
	r = ptd_thread_become_root(&saved);
	if (r == 0) {
		r = remove_job_dirs(ac, av, &job, "extern step", true);
		ptd_thread_restore(&saved);
		if (r == 0)
			return 0;
	} else {
		slurm_debug("private-tmpdir: job %u: cannot become root in this thread (%s); in a child of its own",
			    job.jobid, strerror(-r));
	}
	remove_in_child(ac, av, &job);
	return 0;
}

#ifndef PTD_CONTAIN_ONLY
/* slurmd's epilog process (root, host namespace). */
int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	struct ptd_job job;
	char *arg = NULL;

	if (spank_context() != S_CTX_JOB_SCRIPT)
		return 0;
	if (job_facts(sp, &job) < 0)
		return 0;
	/* The job's --keep-tmpdir: the epilog has every option of the job
	 * (Slurm passes them in its environment), on every node. */
	if (spank_option_getopt(sp, &job_options[0], &arg) == ESPANK_SUCCESS) {
		job.keep.given = true;
		/* Slurm writes an option given without a value into the
		 * job's environment as "(null)" (spank.c _option_setenv). */
		job.keep.value = arg && *arg && strcmp(arg, "(null)") ? arg : NULL;
	}
	ptd_job_failed = ptd_slurm_job_failed;
	remove_job_dirs(ac, av, &job, "epilog", false);
	return 0;
}
#endif

#pragma GCC visibility pop
