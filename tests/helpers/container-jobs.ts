// What the container tests (tests/e2e/containers*.test.ts) share: the
// plugstack line, the probe a container runs and the lines it prints, a job
// that waits at a barrier while the test looks at the node, and what must be
// gone from the node after the job.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { ALICE, OUT_DIR } from "./lab.js";
import { runAs } from "./clients.js";
import type { ClusterInfo } from "./cluster.js";
import { type BatchResult, submitBatch, waitBatch } from "./jobs.js";
import { logSince } from "./daemon-logs.js";
import { waitFor } from "./wait.js";
import { holdersOf, hostMountinfo, processesOfUid } from "./procfs.js";
import { busyboxRootfs } from "./busybox-image.js";

export const LINE = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp", "tmpfs=/dev/shm", "size=64M"];
/** The source name of the plugin's tmpfs mounts in mountinfo. */
export const SOURCE = "private-tmpdir";
export const IMAGES = `${OUT_DIR}/containers`;
export const PROBE = `${IMAGES}/probe.sh`;
/** Where Apptainer mounts a container's session (its own tmpfs, the image). */
const SESSION = "/var/lib/apptainer/mnt/session";
/** Names the probes and runtimes leave in a scratch directory. */
const LEFT = /^(ptd-|rootfs-|storage-run-|podman-run-|containers-user-)/;

// Inside the container (busybox sh; $1 a label): what it sees of the job's
// files, how many copies of a SIF Apptainer unpacked in its /tmp, a file
// written in each scratch directory, and the mounts there.
const PROBE_SH = `l=$1
for d in /tmp /var/tmp /dev/shm; do echo "$l saw $d $(cat $d/ptd-before 2>/dev/null || echo nothing)"; done
echo "$l image-copies $(ls -d /tmp/rootfs-* 2>/dev/null | wc -l)"
for d in /tmp /var/tmp /dev/shm; do echo "$l$d" > $d/ptd-inside-$l; done
awk -v l="$l" '$5=="/tmp" || $5=="/var/tmp" || $5=="/dev/shm" {print l, "mnt", $0}' /proc/self/mountinfo
`;
/** In the job, before its containers: a file in each scratch directory. */
export const BEFORE = "for d in /tmp /var/tmp /dev/shm; do echo job-$SLURM_JOB_ID > $d/ptd-before; done";
/** In the job, after a container: which of its files the job sees. */
export const seenAfter = (l: string): string =>
  `echo "${l} after $(cd / && ls tmp/ptd-inside-${l} var/tmp/ptd-inside-${l} dev/shm/ptd-inside-${l} 2>/dev/null | tr '\\n' ' ')"`;
/** The job waits here while the test looks at the node. */
export const barrier = (tag: string): string =>
  `touch ${OUT_DIR}/ctr-${tag}.ready; i=0; until [ -e ${OUT_DIR}/ctr-${tag}.go ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i+1)); done`;

/** The value of the line "key value" of a job's output. */
export function field(out: string, key: string): string {
  const l = out.split("\n").find((x) => x.startsWith(`${key} `));
  assert.ok(l !== undefined, `no "${key}" line in:\n${out}`);
  return l.slice(key.length + 1).trim();
}

export interface Mount {
  dev: string;
  root: string;
  type: string;
  source: string;
  superOpts: string;
}

/** The mount on top at `point` as the container labelled `label` saw it. */
export function mountAt(out: string, label: string, point: string): Mount | undefined {
  const f = out
    .split("\n")
    .filter((l) => l.startsWith(`${label} mnt `))
    .map((l) => l.slice(`${label} mnt `.length).split(" "))
    .filter((x) => x[4] === point)
    .pop();
  if (!f) return undefined;
  const dash = f.indexOf("-");
  return {
    dev: f[2] ?? "",
    root: f[3] ?? "",
    type: f[dash + 1] ?? "",
    source: f[dash + 2] ?? "",
    superOpts: f[dash + 3] ?? "",
  };
}

/** What of containers could stay on the node: slurmd's mounts, Apptainer's
 * session directory, and our names in the host's scratch directories. */
export interface NodeTraces {
  mounts: string[];
  session: string[];
  scratch: string[];
}

export function traces(slurmdPid: number): NodeTraces {
  return {
    mounts: hostMountinfo(slurmdPid),
    session: fs.existsSync(SESSION) ? fs.readdirSync(SESSION).sort() : [],
    scratch: ["/tmp", "/var/tmp", "/dev/shm"].flatMap((d) =>
      fs
        .readdirSync(d)
        .filter((n) => LEFT.test(n))
        .map((n) => `${d}/${n}`),
    ),
  };
}

/** Run a job of ALICE's that stops at barrier(tag); `look` at the node
 * meanwhile; then let it end. */
export async function atBarrier<T>(script: string, tag: string, look: (id: number) => T): Promise<[BatchResult, T]> {
  const id = submitBatch(ALICE, script);
  await waitFor(() => fs.existsSync(`${OUT_DIR}/ctr-${tag}.ready`), 90_000, { what: `job ${id} at its barrier` });
  let seen: T;
  try {
    seen = look(id);
  } finally {
    fs.writeFileSync(`${OUT_DIR}/ctr-${tag}.go`, "");
  }
  return [await waitBatch(id, 90_000), seen];
}

/** Once job `id` is gone: its holder gone, its directories removed (the
 * remover's line), the node as before it, and no process of its user but
 * those `mayStay` allows (returned, as "pid name"). */
export async function nothingLeft(
  info: ClusterInfo,
  id: number,
  mark: number,
  before: NodeTraces,
  mayStay: (name: string) => boolean = () => false,
): Promise<string[]> {
  const uid = alice();
  const others = (): string[] => processesOfUid(uid).filter((p) => !mayStay(p.slice(p.indexOf(" ") + 1)));
  await waitFor(() => holdersOf([id]).length === 0, 20_000, { what: `job ${id}'s namespace holder to exit` });
  await waitFor(() => others().length === 0, 20_000, { what: `no process of ${ALICE}` }).catch(() =>
    assert.fail(`left running after job ${id}: ${others().join(", ")}`),
  );
  await waitFor(() => new RegExp(`private-tmpdir: job ${id} uid \\d+: removed`).test(logSince(mark)), 30_000, {
    what: `the removal of job ${id}'s directories`,
  });
  assert.ok(!fs.existsSync(`/tmp/slurm.${id}.0`), `/tmp/slurm.${id}.0 is still there`);
  assert.deepStrictEqual(traces(info.slurmdPid), before, "the node after the job");
  return processesOfUid(uid);
}

/** Why unprivileged user namespaces are off, if they are: Debian's
 * apptainer has no setuid starter, rootless podman needs them too. */
export function userNamespacesOff(): string | undefined {
  const read = (p: string): string | undefined => (fs.existsSync(p) ? fs.readFileSync(p, "utf8").trim() : undefined);
  if (read("/proc/sys/user/max_user_namespaces") === "0") return "user.max_user_namespaces is 0";
  if (read("/proc/sys/kernel/unprivileged_userns_clone") === "0") return "kernel.unprivileged_userns_clone is 0";
  if (read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") === "1")
    return "kernel.apparmor_restrict_unprivileged_userns is 1";
  return undefined;
}

/** The image directory and probe, made afresh by root. */
export function freshImages(): string {
  fs.rmSync(IMAGES, { recursive: true, force: true });
  fs.mkdirSync(IMAGES, { mode: 0o755 });
  fs.writeFileSync(PROBE, PROBE_SH, { mode: 0o644 });
  return busyboxRootfs(IMAGES);
}

/** The lab user the container tests run as, by uid. */
export const alice = (): number => Number(runAs(ALICE, ["id", "-u"]).stdout.trim());
