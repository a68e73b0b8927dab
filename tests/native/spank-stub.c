/* A stand-in for slurmstepd/slurmd around the plugin .so itself, for
 * tests/host/plugin-log.test.ts: it defines the few Slurm symbols the .so
 * imports (logging, spank_context, spank_get_item, spank_setenv,
 * spank_strerror), dlopens
 * the .so and calls one callback. Each log call prints "<level>: <message>"
 * on stdout, so the test sees what slurmd.log would get and at which level.
 *
 *   spank-stub <so> init <arg>...       slurm_spank_init (remote context)
 *   spank-stub <so> epilog <item>       slurm_spank_job_epilog, with
 *                                       spank_get_item failing for <item>
 *                                       (S_JOB_ID, S_JOB_UID or S_JOB_GID)
 *
 * Prints "rc=<n>" last. Linked with -rdynamic so the .so binds to these. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/spank.h>

static spank_context_t stub_ctx = S_CTX_REMOTE;
static int stub_failing = -1;

static void vlog(const char *level, const char *fmt, va_list ap)
{
	printf("%s: ", level);
	vprintf(fmt, ap);
	printf("\n");
}

#define STUB_LOG(name, level)                                                  \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		vlog(level, fmt, ap);                                          \
		va_end(ap);                                                    \
	}

STUB_LOG(slurm_info, "info")
STUB_LOG(slurm_error, "error")
STUB_LOG(slurm_verbose, "verbose")
STUB_LOG(slurm_debug, "debug")
STUB_LOG(slurm_debug2, "debug2")
STUB_LOG(slurm_debug3, "debug3")
STUB_LOG(slurm_spank_log, "spank_log")

spank_context_t spank_context(void)
{
	return stub_ctx;
}

const char *spank_strerror(spank_err_t err)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "stub spank error %d", (int) err);
	return buf;
}

/* tmpdir=: what the task's environment would get. */
spank_err_t spank_setenv(spank_t sp, const char *var, const char *val,
			 int overwrite)
{
	(void) sp;
	printf("setenv: %s=%s (overwrite %d)\n", var, val, overwrite);
	return ESPANK_SUCCESS;
}

/* The job's own options: offered (nothing to record here) and never
 * given, as for a job that asks none. */
spank_err_t spank_option_register(spank_t sp, struct spank_option *opt)
{
	(void) sp;
	(void) opt;
	return ESPANK_SUCCESS;
}

spank_err_t spank_option_getopt(spank_t sp, struct spank_option *opt,
				char **optarg)
{
	(void) sp;
	(void) opt;
	(void) optarg;
	return ESPANK_ERROR;
}

spank_err_t spank_get_item(spank_t sp, spank_item_t item, ...)
{
	va_list ap;
	uint32_t *p;

	(void) sp;
	if ((int) item == stub_failing)
		return ESPANK_NOT_AVAIL;
	if (item != S_JOB_ID && item != S_JOB_UID && item != S_JOB_GID)
		return ESPANK_BAD_ARG;
	/* uid_t, gid_t and the job id are all 32-bit unsigned on Linux. */
	va_start(ap, item);
	p = va_arg(ap, uint32_t *);
	va_end(ap);
	*p = 4242;
	return ESPANK_SUCCESS;
}

typedef int (*callback_t)(spank_t, int, char **);

int main(int argc, char **argv)
{
	void *so;
	callback_t cb;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: spank-stub <so> init|epilog ...\n");
		return 2;
	}
	so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!so) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	if (!strcmp(argv[2], "init")) {
		cb = (callback_t) dlsym(so, "slurm_spank_init");
		if (!cb)
			return 2;
		rc = cb(NULL, argc - 3, argv + 3);
	} else if (!strcmp(argv[2], "epilog") && argc == 4) {
		if (!strcmp(argv[3], "S_JOB_ID"))
			stub_failing = S_JOB_ID;
		else if (!strcmp(argv[3], "S_JOB_UID"))
			stub_failing = S_JOB_UID;
		else if (!strcmp(argv[3], "S_JOB_GID"))
			stub_failing = S_JOB_GID;
		else
			return 2;
		stub_ctx = S_CTX_JOB_SCRIPT;
		cb = (callback_t) dlsym(so, "slurm_spank_job_epilog");
		if (!cb)
			return 2;
		rc = cb(NULL, 0, NULL);
	} else {
		return 2;
	}
	printf("rc=%d\n", rc);
	fflush(stdout);
	return 0;
}
