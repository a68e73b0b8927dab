/*
 * plugstack-probe.c - a SPANK plugin that only reports the argv Slurm hands
 * it, so tests/e2e/plugstack-reading.test.ts can hold the CLI's reading of
 * a plugstack.conf against Slurm's own. Built by that test with the gcc and
 * <slurm/spank.h> of the release under test; loaded by `sbatch --version`,
 * which builds the plugin stack in allocator context without any daemon.
 *
 * Each slurm_spank_init call appends one line to $PTD_PROBE_OUT: "init",
 * then every argument as hex (the exact bytes: a CR, a byte that is not
 * UTF-8 or a cut word must survive the trip).
 */
#include <stdio.h>
#include <stdlib.h>

#include <slurm/spank.h>

SPANK_PLUGIN(ptd_plugstack_probe, 1);

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	const char *path = getenv("PTD_PROBE_OUT");
	FILE *f;
	int i;

	(void) sp;
	/* Only the client's reading matters; slurmd's never loads this. */
	if (spank_context() != S_CTX_LOCAL && spank_context() != S_CTX_ALLOCATOR)
		return 0;
	if (!path || !(f = fopen(path, "a")))
		return -1;
	fputs("init", f);
	for (i = 0; i < ac; i++) {
		const unsigned char *p;

		fputc(' ', f);
		for (p = (const unsigned char *) av[i]; *p; p++)
			fprintf(f, "%02x", *p);
	}
	fputc('\n', f);
	return fclose(f) == 0 ? 0 : -1;
}
