// Which Slurm the lab runs (slurmd -V): some behaviour the tests check is
// only in some releases.
import { explain, run } from "./clients.js";

/** The Slurm release the tests run against (slurmd -V), as [major, minor],
 * e.g. [24, 11]: for behaviour that only some releases have. */
export function slurmVersion(): [number, number] {
  const r = run("slurmd", ["-V"], { timeoutMs: 15_000 });
  const m = /^slurm(?:-wlm)? (\d+)\.(\d+)\./.exec(r.stdout.trim());
  if (r.status !== 0 || !m) throw new Error(explain("slurmd -V", r));
  return [Number(m[1]), Number(m[2])];
}

/** "22.05", "24.11", ... */
export function slurmRelease(): string {
  const [a, b] = slurmVersion();
  return `${a}.${String(b).padStart(2, "0")}`;
}

/** True when the running Slurm is at least major.minor. */
export function slurmAtLeast(major: number, minor: number): boolean {
  const [a, b] = slurmVersion();
  return a > major || (a === major && b >= minor);
}
