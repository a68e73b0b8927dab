/* bench/core-run.c - the embedded core's cost per run, as slurmstepd pays
 * it, for bench/core-run.sh: each phase (the options check, the epilog's
 * and a step's plans, recorded, no system calls) run N times in a row
 * ("warm"), and N times as the first run after this process forked a child
 * that shares its pages copy-on-write ("after a fork"), as the extern
 * step's end runs once after it forked the namespace holder. Prints one
 * line per case and phase: the mean, in ms. */
#define _GNU_SOURCE
#include "core/core.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double run_once(enum ptd_phase phase, bool dry)
{
	char *av[] = { "base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp" };
	struct ptd_job job = { .jobid = 4242, .uid = 1001, .gid = 1001 };
	struct ptd_result res;
	double a = now_ms();

	if (ptd_core_run(phase, 3, av, &job, dry, &res) < 0) {
		fprintf(stderr, "%s\n", res.message);
		exit(1);
	}
	a = now_ms() - a;
	free(res.trace);
	return a;
}

/* One run, right after a fork whose child keeps every page shared. */
static double after_fork(enum ptd_phase phase, bool dry)
{
	pid_t child = fork();
	double t;

	if (child == 0) {
		pause();
		_exit(0);
	}
	if (child < 0)
		exit(1);
	t = run_once(phase, dry);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return t;
}

static void runs(int n)
{
	static const enum ptd_phase phases[] = {
		PTD_PHASE_CHECK, PTD_PHASE_EPILOG, PTD_PHASE_STEP,
	};
	static const char *const names[] = { "check", "epilog", "step" };
	for (int p = 0; p < 3; p++) {
		double warm = 0, forked = 0;

		for (int i = 0; i < n; i++)
			warm += run_once(phases[p], p > 0);
		for (int i = 0; i < n; i++)
			forked += after_fork(phases[p], p > 0);
		printf("warm\t%s\t%.4f\n", names[p], warm / n);
		printf("after a fork\t%s\t%.4f\n", names[p], forked / n);
	}
}

int main(int argc, char **argv)
{
	runs(argc > 1 ? atoi(argv[1]) : 1000);
	return 0;
}
