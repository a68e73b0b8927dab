// Jobs the sweep tests need to have ended, and asked about, for real.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { SLURM_CONF, logMark, logSince, runAs, waitFor } from "./slurm.js";

/** slurmctld's state of a job ("RUNNING", "COMPLETED", ...). */
export function jobState(id: number): string {
  const out = execFileSync("scontrol", ["-o", "show", "job", String(id)], { env: { ...process.env, SLURM_CONF }, encoding: "utf8" });
  return /JobState=(\S+)/.exec(out)?.[1] ?? "?";
}

/** A job of user's that has run (srun with srunArgs) and ended: COMPLETED,
 * its epilog done and its own removal logged. Its id. */
export async function endedJob(user: string, srunArgs: readonly string[] = []): Promise<number> {
  const mark = logMark();
  const r = runAs(user, ["srun", "-N1", ...srunArgs, "bash", "-c", "echo $SLURM_JOB_ID"]);
  assert.equal(r.status, 0, r.stderr);
  const id = Number(r.stdout.trim());
  await waitFor(() => jobState(id) === "COMPLETED" && new RegExp(`private-tmpdir: job ${id} uid \\d+: removed`).test(logSince(mark)), 60_000,
    { what: `job ${id}'s end and removal` });
  return id;
}

/** An allocation with no shell and no step (salloc --no-shell): its id. */
export function allocate(user: string, args: readonly string[] = []): number {
  const r = runAs(user, ["salloc", "--no-shell", "-N1", ...args]);
  const m = /Granted job allocation (\d+)/.exec(r.stderr);
  assert.ok(r.status === 0 && m, `salloc: ${r.stderr}`);
  return Number(m[1]);
}
