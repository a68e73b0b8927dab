/* Trap driver for tests/e2e/runtime-guarantees.test.ts: linked with the very
 * objects that make the plugin .so under test (core, imports, ops, walk, dirs, bind, detail,
 * remove, core_wasm, wasm_runtime; not plugin.o) and compiled with the same
 * -include w2c_config.h.
 *
 *   1. a trap in the core (ptd_core_test_trap: the next import traps) must
 *      fail the call closed: -1, res.code "TRAP";
 *   2. the next call must succeed: the runtime's trap state recovered;
 *   3. and then, in this process: the SIGSEGV/SIGBUS dispositions, the
 *      alternate signal stack, the largest mapping of /proc/self/maps and
 *      VmPeak/VmSize (a transient guard-page reservation shows in VmPeak).
 *
 * Prints key=value lines. With --wait it then prints "ready" and blocks
 * until stdin closes, so that the test can read /proc/<pid> itself. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

static const char *disposition(int sig)
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa) != 0)
		return "error";
	if (sa.sa_flags & SA_SIGINFO)
		return "handler";
	if (sa.sa_handler == SIG_DFL)
		return "default";
	if (sa.sa_handler == SIG_IGN)
		return "ignored";
	return "handler";
}

static void largest_mapping(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096], best[4096] = "";
	uint64_t max = 0;

	if (!f) {
		printf("largest_mapping_bytes=error\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t lo, hi;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2 &&
		    hi - lo > max) {
			max = hi - lo;
			snprintf(best, sizeof(best), "%s", line);
		}
	}
	fclose(f);
	best[strcspn(best, "\n")] = '\0';
	printf("largest_mapping_bytes=%" PRIu64 "\n", max);
	printf("largest_mapping=%s\n", best);
}

static void status_field(const char *key, const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[512];
	size_t n = strlen(key);

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			printf("%s=%ld\n", name, strtol(line + n + 1, NULL, 10));
	fclose(f);
}

static void oneline(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static int call(const char *what, enum ptd_phase phase, int argc,
		char *const argv[], bool dry_run)
{
	const struct ptd_job job = { .jobid = 4242, .uid = getuid(), .gid = getgid() };
	struct ptd_result res;
	size_t lines = 0;
	int rc;

	rc = ptd_core_run(phase, argc, argv, &job, dry_run, &res);
	oneline(res.code);
	oneline(res.message);
	if (res.trace)
		for (const char *p = res.trace; *p; p++)
			lines += *p == '\n';
	printf("%s.rc=%d\n%s.code=%s\n%s.message=%s\n%s.trace_lines=%zu\n",
	       what, rc, what, res.code, what, res.message, what, lines);
	free(res.trace);
	return rc;
}

int main(int argc, char **argv)
{
	char *opts[] = { "base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp" };
	char *bad[] = { "mount=var/tmp" };
	stack_t ss;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A dry run of the step's plan: the core calls its imports (recorded,
	 * nothing is done to this machine), so the first one traps. */
	ptd_core_test_trap = true;
	call("trap", PTD_PHASE_STEP, 3, opts, true);
	printf("trap.hook_consumed=%s\n", ptd_core_test_trap ? "no" : "yes");
	ptd_core_test_trap = false;
	call("recover", PTD_PHASE_STEP, 3, opts, true);
	/* Errors as values still come back as such after a trap. */
	call("bad_option", PTD_PHASE_CHECK, 1, bad, false);

	printf("sigsegv=%s\n", disposition(SIGSEGV));
	printf("sigbus=%s\n", disposition(SIGBUS));
	if (sigaltstack(NULL, &ss) == 0)
		printf("altstack=%s\n",
		       ss.ss_flags & SS_DISABLE ? "disabled" : "enabled");
	else
		printf("altstack=error\n");
	largest_mapping();
	status_field("VmPeak", "vmpeak_kib");
	status_field("VmSize", "vmsize_kib");

	if (argc > 1 && !strcmp(argv[1], "--wait")) {
		char buf[64];

		printf("ready\n");
		while (read(0, buf, sizeof(buf)) > 0)
			;
	}
	return 0;
}
