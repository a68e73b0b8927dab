// Suites that keep job directories (cleanup=no) remove them afterwards, so
// the lab machine's /tmp does not fill up across runs.
import * as fs from "node:fs";

// The seed base's job directories, its holding place, and what was moved aside.
const OURS = /^(slurm\.\d+\.\d+|slurm\.hold|\.ptd-site)(\.aside\.[0-9a-f]{16})?$/;

export function removeJobDirs(): void {
  for (const n of fs.readdirSync("/tmp")) {
    // Retried: the last job's epilog may still be writing its ended
    // marker (cleanup=no) into a directory while it is being removed.
    if (OURS.test(n)) fs.rmSync(`/tmp/${n}`, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
