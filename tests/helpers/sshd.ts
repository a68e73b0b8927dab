// A real sshd on a loopback port for the ssh-session tests (#12), driven
// through tests/slurm/sshd.sh (which documents its layout): Debian's
// openssh-server with pam_slurm_adopt and our PAM session module.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "./repo.js";
import { PLUGIN_SO } from "./plugin.js";
import { LAB, SLURM_CONF } from "./lab.js";
import { runAs, type RunResult } from "./clients.js";

const SSHD_SH = join(REPO_ROOT, "tests", "slurm", "sshd.sh");
export const SSHD_PORT = Number(process.env["PTD_SSHD_PORT"] ?? 6822);
const SSH_DIR = join(LAB, "ssh");

/** Our PAM module: beside the plugin as `make` builds it; inside a release
 * root, where tests/slurm/release-root.sh installed it. */
export const PAM_SO = process.env["PTD_PAM_SO"] ?? join(dirname(PLUGIN_SO), "pam_private_tmpdir.so");

/** What the tests need that sshd.sh does not check itself. */
export function sshMissing(): string[] {
  const need: Array<[string, string]> = [
    ["/usr/sbin/sshd", "openssh-server"],
    ["/usr/bin/ssh", "openssh-client"],
    [PAM_SO, "our PAM module (make -C native)"],
  ];
  return need.filter(([p]) => !existsSync(p)).map(([p, what]) => `${p} (${what})`);
}

export function startSshd(pamArgs: readonly string[]): void {
  const r = spawnSync("bash", [SSHD_SH, "start"], {
    encoding: "utf8",
    env: {
      ...process.env,
      PTD_LAB: LAB,
      SSHD_PORT: String(SSHD_PORT),
      PAM_SO,
      PAM_ARGS: pamArgs.join(" "),
      SLURM_CONF,
    },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`sshd.sh start failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

export function stopSshd(): void {
  spawnSync("bash", [SSHD_SH, "stop"], { env: { ...process.env, PTD_LAB: LAB }, timeout: 30_000 });
}

/** sshd's own log (sshd -e): PAM's verdicts on sessions land here. */
export function sshdLog(): string {
  const r = spawnSync("cat", [join(SSH_DIR, "sshd.log")], { encoding: "utf8" });
  return r.stdout ?? "";
}

/** `ssh user@127.0.0.1 command` as user, with the user's lab key. */
export function sshAs(user: string, command: string): RunResult {
  return runAs(
    user,
    [
      "ssh",
      "-i",
      join(SSH_DIR, "users", user, "id"),
      "-p",
      String(SSHD_PORT),
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "ConnectTimeout=20",
      `${user}@127.0.0.1`,
      command,
    ],
    { timeoutMs: 60_000 },
  );
}
