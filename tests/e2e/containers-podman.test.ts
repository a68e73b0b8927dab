// Rootless podman in a job (#24; trixie, sid): a container's own /tmp is
// its own, -v /tmp:/tmp is the job's, and podman's run directory, with the
// pid of its pause process, follows the job's /tmp unless the node or the
// job's environment gives it another (XDG_RUNTIME_DIR, /run/user/<uid>):
// then every job of the user joins the first one's namespace. A site's
// TaskProlog keeps them apart (docs/workflows.md, "Containers").
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { type BatchResult, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { processesOfUid } from "../helpers/procfs.js";
import { skipOrFail } from "../helpers/root.js";
import { requirePackaged } from "../helpers/debian-release.js";
import { BUSYBOX, rootfsTarball } from "../helpers/busybox-image.js";
import {
  BEFORE,
  IMAGES,
  LINE,
  PROBE,
  SOURCE,
  alice,
  atBarrier,
  barrier,
  field,
  freshImages,
  mountAt,
  nothingLeft,
  seenAfter,
  traces,
  userNamespacesOff,
} from "../helpers/container-jobs.js";

/** podman's pause process: it keeps the user and mount namespaces podman
 * made for the user, for its later commands to join; it runs as the user,
 * detached, so it outlives a job whose processes Slurm finds by their
 * parents (proctrack/linuxproc, the lab's). */
const PAUSE = (name: string): boolean => name === "podman pause" || name === "catatonit";
// crun refuses a host whose cgroup v2 hierarchy has controllers while v1 is
// mounted too (hybrid, as this lab's); runc runs there. Pure v2: crun.
const RUNTIME = fs.existsSync("/sys/fs/cgroup/cgroup.controllers") ? "" : "--runtime runc";

/** Pause processes a job left: each is in a copy of the job's mount
 * namespace, where the job's /tmp and /dev/shm hold nothing of the job now
 * (the plugin removed the one and emptied the other). Only podman's own
 * lock may be back in /dev/shm: conmon, detached too, runs `podman
 * container cleanup` when a container exits, which may come after the
 * plugin emptied the tmpfs; the pause process keeps that tmpfs alive. Then
 * ended by their pids, as a site's epilog would. */
async function endPauses(pauses: readonly string[]): Promise<void> {
  const podmanLock = `libpod_rootless_lock_${alice()}`;
  for (const p of pauses) {
    const pid = Number(p.split(" ")[0]);
    for (const d of ["tmp", "dev/shm"]) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(`/proc/${pid}/root/${d}`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
      assert.deepStrictEqual(
        names.filter((n) => n !== podmanLock),
        [],
        `/${d} as ${p} sees it after the job`,
      );
    }
    process.kill(pid, "SIGKILL");
  }
  await waitFor(() => processesOfUid(alice()).length === 0, 10_000, { what: "the pause processes to end" });
}

/** What a failed test left running of ALICE's (our jobs' podman): ended by
 * pid, so that the next test counts only its own. */
function endLeftovers(): void {
  for (const p of processesOfUid(alice())) process.kill(Number(p.split(" ")[0]), "SIGKILL");
}

/** Rootless podman's prerequisites and the image; its storage in $HOME
 * removed (podman records its run directory there: a test with another one
 * starts from none). */
function podmanSetup(ctx: Mocha.Context): string {
  requirePackaged(ctx, "/usr/bin/podman", "podman", ["trixie", "sid"]);
  requirePackaged(ctx, "/usr/bin/newuidmap", "uidmap", ["trixie", "sid"]);
  requirePackaged(ctx, BUSYBOX, "busybox-static", ["trixie", "sid"]);
  if (RUNTIME) requirePackaged(ctx, "/usr/sbin/runc", "runc", ["trixie", "sid"]);
  const off = userNamespacesOff();
  if (off) skipOrFail(ctx, `rootless podman cannot run here: ${off}`);
  // useradd gives every new user subordinate ids (login.defs SUB_UID_COUNT);
  // rootless podman maps the container's other users onto them.
  assert.match(fs.readFileSync("/etc/subuid", "utf8"), new RegExp(`^${ALICE}:\\d+:\\d+$`, "m"), "/etc/subuid");
  return rootfsTarball(freshImages(), `${IMAGES}/busybox.tar`);
}

function resetPodmanStorage(): void {
  const home = runAs(ALICE, ["sh", "-c", "echo $HOME"]).stdout.trim();
  for (const d of [".local/share/containers", ".config/containers"])
    fs.rmSync(`${home}/${d}`, { recursive: true, force: true });
}

/** A job that runs the probe in a container of its own and in one given
 * the job's /tmp, /var/tmp and /dev/shm (-v); no network (none needed: no
 * pasta or slirp4netns). */
function podmanJob(tar: string, tag: string): string {
  const run = `podman run --rm --network none ${RUNTIME}`;
  return [
    "export PODMAN_IGNORE_CGROUPSV1_WARNING=1",
    BEFORE,
    "echo runroot $(podman info --format '{{.Store.RunRoot}}')",
    `podman import -q ${tar} localhost/ptd-busybox >/dev/null`,
    `${run} localhost/ptd-busybox sh -c "$(cat ${PROBE})" probe own`,
    seenAfter("own"),
    `${run} -v /tmp:/tmp -v /var/tmp:/var/tmp -v /dev/shm:/dev/shm localhost/ptd-busybox sh -c "$(cat ${PROBE})" probe bound`,
    seenAfter("bound"),
    barrier(tag),
  ].join("\n");
}

describe("e2e: rootless podman in a job (trixie, sid)", function () {
  this.timeout(300_000);
  let info: ClusterInfo;
  let tar = "";
  before(function () {
    requireRootAndSlurm(this);
    tar = podmanSetup(this);
    info = startCluster({ plugstackLines: [pluginLine(LINE)] });
  });
  beforeEach(resetPodmanStorage);
  afterEach(endLeftovers);
  after(() => {
    stopCluster();
    resetPodmanStorage();
  });

  it("a container's own /tmp is its own; -v /tmp:/tmp is the job's; podman's run directory is in the job's /tmp; only its pause process outlives the job, holding nothing of it", async () => {
    const tag = `podman-${process.pid}-${Date.now()}`;
    const mark = logMark();
    const before = traces(info.slurmdPid);
    const [r, host] = await atBarrier(podmanJob(tar, tag), tag, (id) => ({
      job: fs.readdirSync(`/tmp/slurm.${id}.0/tmp`).sort(),
      leaked: traces(info.slurmdPid).scratch,
    }));
    assert.equal(r.state, "COMPLETED", r.output);
    const job = `job-${r.jobId}`;
    for (const d of ["/tmp", "/var/tmp", "/dev/shm"]) {
      assert.equal(field(r.output, `own saw ${d}`), "nothing", r.output);
      assert.equal(field(r.output, `bound saw ${d}`), job, r.output);
    }
    assert.equal(field(r.output, "own after"), "", "what the container wrote in its own /tmp stays in it");
    assert.equal(
      field(r.output, "bound after"),
      "dev/shm/ptd-inside-bound tmp/ptd-inside-bound var/tmp/ptd-inside-bound",
    );
    // Its own /tmp and /var/tmp are directories of its root filesystem (no
    // mount there); its /dev/shm a tmpfs podman makes (--shm-size).
    assert.equal(mountAt(r.output, "own", "/tmp"), undefined, r.output);
    const ownShm = mountAt(r.output, "own", "/dev/shm");
    assert.ok(ownShm && ownShm.type === "tmpfs" && ownShm.source !== SOURCE, JSON.stringify(ownShm));
    const tmp = mountAt(r.output, "bound", "/tmp"),
      shm = mountAt(r.output, "bound", "/dev/shm");
    assert.ok(tmp && shm, r.output);
    assert.ok(tmp.root.endsWith(`/slurm.${r.jobId}.0/tmp`), JSON.stringify(tmp));
    assert.deepStrictEqual([shm.type, shm.source], ["tmpfs", SOURCE], JSON.stringify(shm));
    // With neither XDG_RUNTIME_DIR nor /run/user/<uid>, podman keeps its run
    // directory (locks, the pause process's pid) in $TMPDIR or /tmp: the job's.
    const runroot = field(r.output, "runroot");
    assert.match(runroot, /^\/tmp\/storage-run-\d+\//, r.output);
    assert.ok(host.job.includes(runroot.split("/")[2] ?? ""), `${runroot} in the job's /tmp: ${host.job.join(" ")}`);
    assert.ok(host.job.includes("ptd-inside-bound") && !host.job.includes("ptd-inside-own"), host.job.join(" "));
    assert.deepStrictEqual(host.leaked, before.scratch, "nothing in the host's /tmp, /var/tmp or /dev/shm");
    const left = await nothingLeft(info, r.jobId, mark, before, PAUSE);
    assert.equal(left.length, 1, `one pause process: ${left.join(", ")}`);
    await endPauses(left);
  });

  it("the user's next job: its podman sees that job's /tmp, not the first job's, whose pause process still runs", async () => {
    const left: string[] = [];
    for (const n of [1, 2]) {
      const tag = `podman-next-${n}-${process.pid}-${Date.now()}`;
      const mark = logMark();
      const before = traces(info.slurmdPid);
      const [r] = await atBarrier(podmanJob(tar, tag), tag, () => undefined);
      assert.equal(r.state, "COMPLETED", r.output);
      assert.equal(field(r.output, "bound saw /tmp"), `job-${r.jobId}`, r.output);
      left.splice(0, left.length, ...(await nothingLeft(info, r.jobId, mark, before, PAUSE)));
    }
    assert.equal(left.length, 2, `each job its own pause process: ${left.join(", ")}`);
    await endPauses(left);
  });
});

// Where a node has /run/user/<uid> (logind makes it for a user's login
// session, or lingering) or jobs inherit XDG_RUNTIME_DIR, every job of the
// user shares podman's pause process, and with it the mount namespace of
// the job that started it. A site's TaskProlog that gives each job a
// runtime directory in its own /tmp keeps them apart.
describe("e2e: rootless podman, two jobs of one user at once, /run/user/<uid> on the node", function () {
  this.timeout(300_000);
  let tar = "";
  let made = false;
  const taskProlog = `${IMAGES}/task-prolog.sh`;
  before(function () {
    requireRootAndSlurm(this);
    tar = podmanSetup(this);
    const dir = `/run/user/${alice()}`;
    if (!fs.existsSync(dir)) {
      fs.mkdirSync("/run/user", { recursive: true, mode: 0o755 });
      fs.mkdirSync(dir, { mode: 0o700 });
      fs.chownSync(dir, alice(), alice());
      made = true;
    }
    // The site's TaskProlog (docs/workflows.md): it runs as the job's user
    // in the job's namespace, before each task; what it prints as
    // "export NAME=value" is in the task's environment.
    fs.writeFileSync(
      taskProlog,
      '#!/bin/sh\nd=/tmp/.run-$(id -u)\nmkdir -p -m 0700 "$d" && echo "export XDG_RUNTIME_DIR=$d"\n',
      { mode: 0o755 },
    );
  });
  beforeEach(resetPodmanStorage);
  afterEach(endLeftovers);
  after(() => {
    stopCluster();
    resetPodmanStorage();
    if (made) fs.rmSync(`/run/user/${alice()}`, { recursive: true, force: true });
  });

  /** Job A runs its containers and waits at its barrier; then job B runs
   * its; then both end. */
  async function twoJobs(): Promise<{ a: BatchResult; b: BatchResult }> {
    const t = `${process.pid}-${Date.now()}`;
    const a = submitBatch(ALICE, podmanJob(tar, `a-${t}`), ["-n1", "-O"]);
    try {
      await waitFor(() => fs.existsSync(`${OUT_DIR}/ctr-a-${t}.ready`), 90_000, { what: `job ${a} at its barrier` });
      const b = submitBatch(ALICE, podmanJob(tar, `b-${t}`), ["-n1", "-O"]);
      await waitFor(() => fs.existsSync(`${OUT_DIR}/ctr-b-${t}.ready`), 90_000, { what: `job ${b} at its barrier` });
      for (const x of ["a", "b"]) fs.writeFileSync(`${OUT_DIR}/ctr-${x}-${t}.go`, "");
      return { a: await waitBatch(a, 90_000), b: await waitBatch(b, 90_000) };
    } finally {
      for (const x of ["a", "b"]) fs.writeFileSync(`${OUT_DIR}/ctr-${x}-${t}.go`, "");
    }
  }

  it("with the site's TaskProlog (XDG_RUNTIME_DIR in the job's /tmp): each job's podman sees its own job's /tmp", async () => {
    startCluster({ plugstackLines: [pluginLine(LINE)], extraConf: `TaskProlog=${taskProlog}` });
    const { a, b } = await twoJobs();
    for (const r of [a, b]) {
      assert.equal(r.state, "COMPLETED", r.output);
      assert.equal(field(r.output, "runroot"), `/tmp/.run-${alice()}/containers`, r.output);
      assert.equal(field(r.output, "bound saw /tmp"), `job-${r.jobId}`, r.output);
      assert.ok(mountAt(r.output, "bound", "/tmp")?.root.endsWith(`/slurm.${r.jobId}.0/tmp`), r.output);
    }
    const left = processesOfUid(alice()).filter((p) => PAUSE(p.slice(p.indexOf(" ") + 1)));
    assert.equal(left.length, 2, `each job its own pause process: ${left.join(", ")}`);
    await endPauses(left);
  });

  it("without it (what docs/workflows.md warns of): the second job's podman joins the first's pause process and its container gets the first job's /tmp", async () => {
    startCluster({ plugstackLines: [pluginLine(LINE)] });
    const { a, b } = await twoJobs();
    assert.equal(a.state, "COMPLETED", a.output);
    assert.equal(field(a.output, "runroot"), `/run/user/${alice()}/containers`, a.output);
    assert.equal(field(b.output, "bound saw /tmp"), `job-${a.jobId}`, b.output);
    assert.ok(mountAt(b.output, "bound", "/tmp")?.root.endsWith(`/slurm.${a.jobId}.0/tmp`), b.output);
    const left = processesOfUid(alice()).filter((p) => PAUSE(p.slice(p.indexOf(" ") + 1)));
    assert.equal(left.length, 1, `one pause process for both jobs: ${left.join(", ")}`);
    await endPauses(left);
  });
});
