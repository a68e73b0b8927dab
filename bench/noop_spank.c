/* bench/noop_spank.c - a SPANK plugin that does nothing, for the
 * "noop" configuration of bench/job-latency.sh: what loading any plugin
 * costs a step (slurmstepd's dlopen and callbacks), the floor under
 * private-tmpdir's own cost. */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/mount.h>
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
#ifdef NOOP_JOB_EPILOG
	/* The floor's private /tmp in the fewest calls (the step's own
	 * namespace, a tmpfs on /tmp), in slurmstepd as root: the anchor
	 * bench checks that a plugin's job has /tmp mounted, and no private
	 * /tmp costs less. Nothing kept between steps, nothing to clean. */
	if (spank_remote(sp) &&
	    (unshare(CLONE_NEWNS) < 0 ||
	     mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
	     mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)) {
		slurm_error("noop: private /tmp: %m");
		return -1;
	}
#endif
	return 0;
}

#ifdef NOOP_JOB_EPILOG
/* bench/epilog-profile.sh's and bench/anchor-releases.sh's floor: slurmd
 * forks and execs a `slurmstepd spank epilog` process for any plugin that
 * has a job epilog, whatever it does. */
int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	(void) sp;
	(void) ac;
	(void) av;
	return 0;
}

#endif
