// Commands run the way the lab's Slurm clients need: as root (run) or as a
// lab user (runAs, spawnAs), from $PTD_LAB/out, in a small environment with
// SLURM_CONF, and their status, signal and both streams.
import { spawn, spawnSync } from "node:child_process";
import { OUT_DIR, SLURM_CONF } from "./lab.js";

/** Where commands are looked up: this process's PATH, or the usual one. */
export const PATH = process.env["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface RunResult {
  /** Exit status; null when killed by a signal (see `signal`). */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

interface RunOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
  input?: string;
}

/** Environment for Slurm clients: small and predictable (srun exports it
 * to the job), with SLURM_CONF so no /etc/slurm/slurm.conf is needed. */
function clientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH, LANG: "C.UTF-8", SLURM_CONF, ...extra };
}

/** Run `cmd` as this process's user with the clients' environment (plus
 * `env`), cwd "/" unless given. Default timeout 60 s (then SIGTERM; timedOut
 * is true); throws only when it cannot start. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? "/",
    env: clientEnv(opts.env),
    input: opts.input ?? "",
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: "SIGTERM",
    maxBuffer: 64 * 1024 * 1024,
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT";
  if (r.error && !timedOut) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    timedOut,
  };
}

/** How a command ended and what it printed, for error messages. */
export function explain(what: string, r: RunResult): string {
  const how = r.timedOut ? "timed out" : r.signal ? `killed by ${r.signal}` : `exited ${r.status}`;
  return `${what} ${how}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Run `args` as `user` (runuser -u user -- args), cwd $PTD_LAB/out, with
 * SLURM_CONF set. Default timeout 60 s (then SIGTERM; timedOut is true). */
export function runAs(
  user: string,
  args: readonly string[],
  opts: { timeoutMs?: number; env?: Record<string, string>; cwd?: string; input?: string } = {},
): RunResult {
  return run("runuser", ["-u", user, "--", ...args], { cwd: OUT_DIR, ...opts });
}

/** Like runAs, but returns at once: for jobs that must overlap. */
export function spawnAs(user: string, args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("runuser", ["-u", user, "--", ...args], {
      cwd: OUT_DIR,
      env: clientEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "",
      stderr = "",
      timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, timedOut });
    });
  });
}
