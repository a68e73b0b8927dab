// Runs the admin CLI (dist/ts/host/cli.js) as an admin would, for the host
// tests: a child process, its status and both streams.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../host/cli.js", import.meta.url));

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(...args: string[]): Ran {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
