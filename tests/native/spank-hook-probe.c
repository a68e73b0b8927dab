/*
 * spank-hook-probe.c - a second SPANK plugin beside private-tmpdir, for
 * tests/e2e/workflows-hooks.test.ts: which /tmp does each callback of another
 * site plugin see? Built by that test with the gcc and <slurm/spank.h> of
 * the release under test, twice (-DPROBE_NAME=...): one listed before
 * private-tmpdir in plugstack.conf, one after it.
 *
 * In every callback of a job's step or of slurmd's job prolog/epilog
 * process, it creates /tmp/ptd-probe.<job>.<step>.<name>.<callback> (as
 * whoever runs the callback) and logs one line to slurmd.log:
 *
 *   ptd-probe <name> <callback> job <job> step <step> euid <uid> tmp <root> dir <yes|no>
 *
 * where <root> is the root, in its filesystem, of the mount the callback
 * sees on /tmp (field 4 of /proc/self/mountinfo, the last line for /tmp),
 * or "-" when /tmp is no mount point of its own. The job's bind shows as
 * .../slurm.<job>.0/tmp: the test tells the host's /tmp from the job's by
 * it, and finds the files where the log says they went. <dir> is whether
 * the callback sees the job's directory <base>.<job>.0 (the argument
 * base=<base>, as private-tmpdir's), as a site's epilog would look for it.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <slurm/spank.h>

#ifndef PROBE_NAME
#define PROBE_NAME ptd_probe
#endif
/* Through a second macro, so that PROBE_NAME is expanded before
 * SPANK_PLUGIN turns its argument into the plugin's name string. */
#define PROBE_PLUGIN(n) SPANK_PLUGIN(n, 1)
#define PROBE_STR2(n) #n
#define PROBE_STR(n) PROBE_STR2(n)

PROBE_PLUGIN(PROBE_NAME);

/* The root of the topmost mount on /tmp, or "-". */
static void tmp_root(char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "r");

	snprintf(out, len, "-");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char root[2048], point[2048];

		/* id parent major:minor root mount-point ... */
		if (sscanf(line, "%*s %*s %*s %2047s %2047s", root, point) != 2)
			continue;
		if (!strcmp(point, "/tmp"))
			snprintf(out, len, "%s", root);
	}
	fclose(f);
}

/* base= of the plugstack line, or "" */
static const char *base_of(int ac, char **av)
{
	int i;

	for (i = 0; i < ac; i++)
		if (!strncmp(av[i], "base=", 5))
			return av[i] + 5;
	return "";
}

static void probe(spank_t sp, int ac, char **av, const char *callback)
{
	uint32_t job = 0, step = 0;
	char root[2048], path[256], dir[256];
	int fd;

	if (spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS)
		job = 0;
	/* Not an item of slurmd's prolog and epilog process. */
	if (spank_get_item(sp, S_JOB_STEPID, &step) != ESPANK_SUCCESS)
		step = 0xffffffffu;
	tmp_root(root, sizeof(root));
	snprintf(path, sizeof(path), "/tmp/ptd-probe.%u.%u.%s.%s", job, step,
		 PROBE_STR(PROBE_NAME), callback);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0)
		close(fd);
	snprintf(dir, sizeof(dir), "%s.%u.0", base_of(ac, av), job);
	slurm_info("ptd-probe %s %s job %u step %u euid %u tmp %s dir %s%s",
		   PROBE_STR(PROBE_NAME), callback, job, step,
		   (unsigned) geteuid(), root,
		   access(dir, F_OK) == 0 ? "yes" : "no",
		   fd < 0 ? " (not written)" : "");
}

/* Only where a job runs: slurmstepd (remote) and slurmd's job prolog and
 * epilog process (job script); never srun, sbatch or slurmd itself. */
static int in_job(void)
{
	spank_context_t c = spank_context();

	return c == S_CTX_REMOTE || c == S_CTX_JOB_SCRIPT;
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	if (spank_context() == S_CTX_REMOTE)
		probe(sp, ac, av, "init");
	return 0;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	if (spank_context() == S_CTX_REMOTE)
		probe(sp, ac, av, "init_post_opt");
	return 0;
}

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
	probe(sp, ac, av, "user_init");
	return 0;
}

int slurm_spank_task_init_privileged(spank_t sp, int ac, char **av)
{
	probe(sp, ac, av, "task_init_privileged");
	return 0;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	probe(sp, ac, av, "task_init");
	return 0;
}

int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
	probe(sp, ac, av, "task_post_fork");
	return 0;
}

int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
	probe(sp, ac, av, "task_exit");
	return 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	if (spank_context() == S_CTX_REMOTE)
		probe(sp, ac, av, "exit");
	return 0;
}

int slurm_spank_job_prolog(spank_t sp, int ac, char **av)
{
	if (in_job())
		probe(sp, ac, av, "job_prolog");
	return 0;
}

int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	if (in_job())
		probe(sp, ac, av, "job_epilog");
	return 0;
}
