// `private-tmpdir cleanup`: the plugin's epilog, run by hand. The wasm core
// plans the EPILOG phase and every operation goes to the addon, i.e. the
// plugin's own C (ops.c, walk.c, dirs.c, remove.c): the same checks (owned by the
// job's uid, never follow a symlink, never leave the filesystem) as slurmd's.
import { loadAddon, type Addon, type RemoveStats } from "./addon.js";
import { Core, type Job } from "./core.js";
import { type HostImports, NODE_IMPORTS, type NodeImports } from "./imports.gen.js";
import type { PluginLine } from "./plugstack.js";

export interface CleanupResult {
  line: PluginLine;
  /** undefined on success; otherwise the message the plugin would log. */
  error?: string;
  removed: RemoveStats;
  seconds: number;
}

/** The addon's ops as the core's imports, with a hook before each removal
 * (the only step that can take long: a job may leave millions of files). */
function importsOf(a: Addon, beforeRemove: (path: string) => void): HostImports {
  const own = Object.fromEntries(NODE_IMPORTS.map((name) => [name, a[name]])) as NodeImports;
  return {
    ...own,
    remove_at: (parent, hold, name, path, uid, flags) => {
      beforeRemove(path);
      return a.remove_at(parent, hold, name, path, uid, flags);
    },
    // The epilog's plan has neither: a step's join and its holder belong in
    // slurmstepd, never in this process. EOPNOTSUPP, should a plan ask.
    ns_enter: () => -95,
    ns_ready: () => -95,
    ns_held: () => -95,
    job_request: () => -95,
    keep_ask: () => -95,
    // Nor does it mount, share a host directory, keep a step's output or
    // give tasks an environment.
    mount_tmpfs: () => -95,
    open_shared: () => -95,
    bind_shared: () => -95,
    keep_output: () => -95,
    set_env: () => -95,
  };
}

/** Runs the EPILOG phase of one plugstack line for job. */
export function cleanupLine(l: PluginLine, job: Job, beforeRemove: (path: string) => void = () => {}): CleanupResult {
  const addon = loadAddon();
  const t0 = process.hrtime.bigint();
  // Fresh descriptor slots for this run; reset again after, so no directory
  // stays open in this process.
  addon.opsReset();
  try {
    const fail = new Core().run("EPILOG", l.args, job, importsOf(addon, beforeRemove));
    const detail = addon.opsDetail();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const removed = { ...detail.removed };
    if (!fail) return { line: l, removed, seconds };
    const error = fail.code === "HOST" ? addon.failure(fail.message, detail.text, fail.errno) : fail.message;
    return { line: l, error, removed, seconds };
  } finally {
    addon.opsReset();
  }
}

/** The plugin's epilog log line, worded by the plugin's own C
 * (native/util/messages.c), for --verbose. */
export function summaryLine(job: Job, r: CleanupResult): string {
  return loadAddon().summary(job.jobid, job.uid, r.removed, r.seconds);
}
