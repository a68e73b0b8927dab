// Jobs for the tests, for real: batch jobs submitted and waited for (to
// their epilog's end), allocations without a step, jobs that have run and
// ended, and slurmctld's state of a job.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { explain, run, runAs } from "./clients.js";
import { nodeState } from "./cluster.js";
import { logMark, logSince, logTails } from "./daemon-logs.js";
import { OUT_DIR, SLURM_CONF } from "./lab.js";
import { sleepMs, waitFor } from "./wait.js";

export interface BatchResult {
  jobId: number;
  /** The job's exit code; 128+signal when a signal ended it. */
  status: number;
  /** Final JobState: COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, ... */
  state: string;
  /** The job's stdout+stderr ($PTD_LAB/out/<jobId>.out). */
  output: string;
}

const FINAL_STATES = new Set([
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "BOOT_FAIL",
  "DEADLINE",
  "PREEMPTED",
]);

/** Submit `script` as `user` (sbatch, -o $PTD_LAB/out/%j.out) and wait until
 * the job is finished, epilog included (JobState leaves COMPLETING only after
 * the SPANK epilog ran). A script without "#!" gets "#!/bin/bash".
 *
 * Waits by polling scontrol every 50 ms rather than `sbatch --wait`, whose
 * own polling took 10 s per job on 22.05. On timeout the job is cancelled
 * and this throws (check nodeState(): a failed batch launch drains it). */
export function sbatchWait(
  user: string,
  script: string,
  opts: { args?: readonly string[]; timeoutMs?: number; env?: Record<string, string> } = {},
): BatchResult {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const jobId = submitBatch(user, script, opts.args ?? [], opts.env);

  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const r = run("scontrol", ["-o", "show", "job", String(jobId)], { timeoutMs: 15_000 });
    last = r.stdout;
    const state = /\bJobState=(\S+)/.exec(r.stdout)?.[1];
    if (r.status === 0 && state !== undefined && FINAL_STATES.has(state)) return batchResult(jobId, r.stdout);
    if (Date.now() > deadline) {
      run("scancel", [String(jobId)], { timeoutMs: 15_000 });
      throw new Error(
        `batch job ${jobId} not finished after ${timeoutMs} ms (node ${nodeState()}):\n${last}\n${logTails()}`,
      );
    }
    sleepMs(50);
  }
}

/** Submit without waiting: for tests that act on the host while the job
 * runs. `env`: more of sbatch's environment (see runAs). */
export function submitBatch(
  user: string,
  script: string,
  args: readonly string[] = [],
  env?: Record<string, string>,
): number {
  const body = script.startsWith("#!") ? script : `#!/bin/bash\n${script}`;
  const sub = runAs(user, ["sbatch", "--parsable", "-o", join(OUT_DIR, "%j.out"), ...args], {
    input: body,
    timeoutMs: 30_000,
    ...(env ? { env } : {}),
  });
  const m = /^(\d+)/.exec(sub.stdout.trim());
  if (sub.status !== 0 || !m?.[1]) throw new Error(explain("sbatch", sub));
  return Number(m[1]);
}

/** Wait (without blocking the event loop) until a batch job is finished. */
export async function waitBatch(jobId: number, timeoutMs = 60_000): Promise<BatchResult> {
  const show = await waitFor(
    () => {
      const r = run("scontrol", ["-o", "show", "job", String(jobId)], { timeoutMs: 15_000 });
      const st = /\bJobState=(\S+)/.exec(r.stdout)?.[1];
      return st !== undefined && FINAL_STATES.has(st) ? r.stdout : undefined;
    },
    timeoutMs,
    { what: `batch job ${jobId}`, intervalMs: 50 },
  );
  return batchResult(jobId, show);
}

/** A finished batch job's result from its `scontrol -o show job` line and
 * its output file. */
function batchResult(jobId: number, show: string): BatchResult {
  const ec = /\bExitCode=(\d+):(\d+)/.exec(show);
  const code = Number(ec?.[1] ?? 255);
  const sig = Number(ec?.[2] ?? 0);
  const outFile = join(OUT_DIR, `${jobId}.out`);
  return {
    jobId,
    status: sig !== 0 ? 128 + sig : code,
    state: /\bJobState=(\S+)/.exec(show)?.[1] ?? "",
    output: existsSync(outFile) ? readFileSync(outFile, "utf8") : "",
  };
}

/** slurmctld's state of a job ("RUNNING", "COMPLETED", ...). */
export function jobState(id: number): string {
  const out = execFileSync("scontrol", ["-o", "show", "job", String(id)], {
    env: { ...process.env, SLURM_CONF },
    encoding: "utf8",
  });
  return /JobState=(\S+)/.exec(out)?.[1] ?? "?";
}

/** A job of user's that has run (srun with srunArgs) and ended: COMPLETED,
 * its epilog done and its own removal logged. Its id. */
export async function endedJob(user: string, srunArgs: readonly string[] = []): Promise<number> {
  const mark = logMark();
  const r = runAs(user, ["srun", "-N1", ...srunArgs, "bash", "-c", "echo $SLURM_JOB_ID"]);
  assert.equal(r.status, 0, r.stderr);
  const id = Number(r.stdout.trim());
  await waitFor(
    () =>
      jobState(id) === "COMPLETED" && new RegExp(`private-tmpdir: job ${id} uid \\d+: removed`).test(logSince(mark)),
    60_000,
    { what: `job ${id}'s end and removal` },
  );
  return id;
}

/** An allocation with no shell and no step (salloc --no-shell): its id. */
export function allocate(user: string, args: readonly string[] = []): number {
  const r = runAs(user, ["salloc", "--no-shell", "-N1", ...args]);
  const m = /Granted job allocation (\d+)/.exec(r.stderr);
  assert.ok(r.status === 0 && m, `salloc: ${r.stderr}`);
  return Number(m[1]);
}
