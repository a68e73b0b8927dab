// A tiny container image made here, offline: a root filesystem of Debian's
// busybox-static in the lab (never under /tmp, which jobs do not share with
// the host), as a SIF for Apptainer and a tarball for `podman import`.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";

/** Debian's busybox-static (merged /usr: also /usr/bin/busybox). */
export const BUSYBOX = "/bin/busybox";

function must(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.error?.message ?? ""}${r.stderr}`);
  return r.stdout;
}

/** `dir`/rootfs: busybox and its applets, the usual mount points (/tmp and
 * /var/tmp sticky, as in any image), and the /etc files runtimes add to or
 * bind over. A directory image for Charliecloud as it is. Returns its path. */
export function busyboxRootfs(dir: string): string {
  const root = join(dir, "rootfs");
  fs.rmSync(root, { recursive: true, force: true });
  for (const d of ["bin", "etc", "dev", "proc", "sys", "home", "root", "run", "tmp", "var/tmp"])
    fs.mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  for (const d of ["tmp", "var/tmp"]) fs.chmodSync(join(root, d), 0o1777);
  fs.copyFileSync(BUSYBOX, join(root, "bin", "busybox"));
  fs.chmodSync(join(root, "bin", "busybox"), 0o755);
  for (const applet of must(BUSYBOX, ["--list"]).split("\n"))
    if (/^[\w.[-]+$/.test(applet) && applet !== "busybox") fs.symlinkSync("busybox", join(root, "bin", applet));
  fs.writeFileSync(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n", { mode: 0o644 });
  fs.writeFileSync(join(root, "etc", "group"), "root:x:0:\n", { mode: 0o644 });
  // Charliecloud binds the host's over these: they must exist in the image.
  for (const f of ["hosts", "resolv.conf"]) fs.writeFileSync(join(root, "etc", f), "", { mode: 0o644 });
  return root;
}

/** A SIF of `rootfs` (apptainer build from a local directory: no network),
 * readable by every user. */
export function apptainerSif(rootfs: string, sif: string): string {
  must("apptainer", ["-q", "build", "--force", sif, rootfs]);
  fs.chmodSync(sif, 0o644);
  return sif;
}

/** A tarball of `rootfs` for `podman import`, readable by every user. */
export function rootfsTarball(rootfs: string, tar: string): string {
  must("tar", ["-C", rootfs, "--numeric-owner", "-cf", tar, "."]);
  fs.chmodSync(tar, 0o644);
  return tar;
}
