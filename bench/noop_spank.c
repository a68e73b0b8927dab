/* bench/noop_spank.c - a SPANK plugin that does nothing, for the
 * "noop" configuration of bench/job-latency.sh: what loading any plugin
 * costs a step (slurmstepd's dlopen and callbacks), the floor under
 * private-tmpdir's own cost. */
#include <slurm/spank.h>

SPANK_PLUGIN(noop, 1);

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	(void) sp;
	(void) ac;
	(void) av;
	return 0;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	(void) sp;
	(void) ac;
	(void) av;
	return 0;
}

#ifdef NOOP_JOB_EPILOG
/* bench/epilog-profile.sh's floor: slurmd forks and execs a `slurmstepd
 * spank epilog` process for any plugin that has a job epilog, whatever it
 * does. */
int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	(void) sp;
	(void) ac;
	(void) av;
	return 0;
}
#endif
