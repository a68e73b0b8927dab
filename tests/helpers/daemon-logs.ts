// The lab daemons' logs: slurmd.log (where the plugin's lines land,
// SlurmdDebug=debug) read from a mark on, or once it says something; and the
// tails of both daemons' logs for error messages.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { SLURMCTLD_LOG, SLURMD_LOG } from "./lab.js";
import { waitFor } from "./wait.js";

/** Whole slurmd.log of the current cluster start ("" before the first). */
export function slurmdLog(): string {
  return existsSync(SLURMD_LOG) ? readFileSync(SLURMD_LOG, "utf8") : "";
}

/** A mark for logSince(): slurmd.log's current size in bytes. */
export function logMark(path: string = SLURMD_LOG): number {
  if (!existsSync(path)) return 0;
  const fd = openSync(path, "r");
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

/** slurmd.log from byte offset `mark` (from logMark()) on. Marks are valid
 * until the next startCluster() (which rotates the log). */
export function logSince(mark: number, path: string = SLURMD_LOG): string {
  if (!existsSync(path)) return "";
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (mark >= size) return "";
    const buf = Buffer.alloc(size - mark);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, mark + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** Last lines of slurmctld.log and slurmd.log, for error messages. */
export function logTails(lines = 30): string {
  return [SLURMCTLD_LOG, SLURMD_LOG]
    .map((p) => {
      const all = existsSync(p) ? readFileSync(p, "utf8").split("\n") : [];
      return `==> ${p} <==\n${all.slice(-lines - 1).join("\n")}`;
    })
    .join("\n");
}

/** slurmd's log since `mark`, once it matches `re`. A job's removal line
 * comes from the detached remover, which lets the job's end be reported
 * first (PTD_REMOVER_SETTLE_MS in native/entry/plugin.c): it lands after srun or
 * sbatch has returned. */
export async function logWhen(mark: number, re: RegExp, what: string, timeoutMs = 20_000): Promise<string> {
  return waitFor(
    () => {
      const log = logSince(mark);
      return re.test(log) && log;
    },
    timeoutMs,
    { what: `${what}: ${re.source}` },
  );
}
