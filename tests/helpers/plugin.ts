// The plugin under test as the lab loads it: where its builds are, the
// plugstack.conf line that loads it, and what srun says when it fails a step.
import { dirname, join } from "node:path";
import { REPO_ROOT } from "./repo.js";

/** The plugin as `make` builds it; never under /tmp (jobs could not see it).
 * Inside a release root (tests/slurm/release-root.sh) it is the .so built
 * there from the source tarball against that release's Slurm. */
export const PLUGIN_SO = process.env["PTD_PLUGIN_SO"] ?? join(REPO_ROOT, "dist", "native", "private-tmpdir.so");
/** Its build without a job epilog, for PrologFlags=Contain: installed and
 * built beside it. */
export const CONTAIN_SO = join(dirname(PLUGIN_SO), "private-tmpdir-contain.so");

/** A plugstack.conf line loading our plugin with the given arguments. */
export function pluginLine(
  args: readonly string[] = [],
  kind: "required" | "optional" = "required",
  so: string = PLUGIN_SO,
): string {
  return [kind, so, ...args].join(" ");
}

/** What srun prints when a required plugin fails the step: 22.05 and 24.11
 * say "Plugin initialization failed", 26.05 "Unspecified error" (or, for a
 * failing slurm_spank_init, "Spank plugin failure, job failed"). srun may
 * still exit 0, so tests look for this (and for the plugin's own log line). */
export const LAUNCH_FAILED =
  /task \d+ launch failed: (Plugin initialization failed|Unspecified error|Spank plugin failure, job failed)/;
