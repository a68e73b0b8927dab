// Containers in a job (#24): a container a job starts sees the job's private
// /tmp, /var/tmp and tmpfs= mounts (here /dev/shm), never the host's, and
// leaves nothing on the node once the job is gone. Apptainer as Debian sid
// packages it (no setuid starter: it runs in a user namespace of the job's
// user) with its defaults, --contain, --containall and --workdir; rootless
// podman (trixie, sid). The image is made here, offline, from busybox-static
// (tests/helpers/busybox-image.ts); what each runtime does is in
// docs/workflows.md, "Containers".
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { runAs, run } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { type BatchResult, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { holdersOf, hostMountinfo, processesOfUid } from "../helpers/procfs.js";
import { skipOrFail } from "../helpers/root.js";
import { requirePackaged } from "../helpers/debian-release.js";
import { BUSYBOX, apptainerSif, busyboxRootfs, rootfsTarball } from "../helpers/busybox-image.js";

const LINE = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp", "tmpfs=/dev/shm", "size=64M"];
/** The source name of the plugin's tmpfs mounts in mountinfo. */
const SOURCE = "private-tmpdir";
const IMAGES = `${OUT_DIR}/containers`;
const PROBE = `${IMAGES}/probe.sh`;
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
const BEFORE = "for d in /tmp /var/tmp /dev/shm; do echo job-$SLURM_JOB_ID > $d/ptd-before; done";
/** In the job, after a container: which of its files the job sees. */
const seenAfter = (l: string): string =>
  `echo "${l} after $(cd / && ls tmp/ptd-inside-${l} var/tmp/ptd-inside-${l} dev/shm/ptd-inside-${l} 2>/dev/null | tr '\\n' ' ')"`;
/** The job waits here while the test looks at the node. */
const barrier = (tag: string): string =>
  `touch ${OUT_DIR}/ctr-${tag}.ready; i=0; until [ -e ${OUT_DIR}/ctr-${tag}.go ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i+1)); done`;

/** The value of the line "key value" of a job's output. */
function field(out: string, key: string): string {
  const l = out.split("\n").find((x) => x.startsWith(`${key} `));
  assert.ok(l !== undefined, `no "${key}" line in:\n${out}`);
  return l.slice(key.length + 1).trim();
}

interface Mount {
  dev: string;
  root: string;
  type: string;
  source: string;
  superOpts: string;
}

/** The mount on top at `point` as the container labelled `label` saw it. */
function mountAt(out: string, label: string, point: string): Mount | undefined {
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
interface NodeTraces {
  mounts: string[];
  session: string[];
  scratch: string[];
}

function traces(slurmdPid: number): NodeTraces {
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
async function atBarrier<T>(script: string, tag: string, look: (id: number) => T): Promise<[BatchResult, T]> {
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
async function nothingLeft(
  info: ClusterInfo,
  id: number,
  mark: number,
  before: NodeTraces,
  mayStay: (name: string) => boolean = () => false,
): Promise<string[]> {
  const uid = Number(runAs(ALICE, ["id", "-u"]).stdout.trim());
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
function userNamespacesOff(): string | undefined {
  const read = (p: string): string | undefined => (fs.existsSync(p) ? fs.readFileSync(p, "utf8").trim() : undefined);
  if (read("/proc/sys/user/max_user_namespaces") === "0") return "user.max_user_namespaces is 0";
  if (read("/proc/sys/kernel/unprivileged_userns_clone") === "0") return "kernel.unprivileged_userns_clone is 0";
  if (read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") === "1")
    return "kernel.apparmor_restrict_unprivileged_userns is 1";
  return undefined;
}

/** The image directory and probe, made afresh by root. */
function freshImages(): string {
  fs.rmSync(IMAGES, { recursive: true, force: true });
  fs.mkdirSync(IMAGES, { mode: 0o755 });
  fs.writeFileSync(PROBE, PROBE_SH, { mode: 0o644 });
  return busyboxRootfs(IMAGES);
}

describe("e2e: Apptainer in a job (sid's apptainer, unprivileged, in a user namespace)", function () {
  this.timeout(300_000);
  let info: ClusterInfo;
  let sif = "";
  before(function () {
    requireRootAndSlurm(this);
    requirePackaged(this, "/usr/bin/apptainer", "apptainer", ["sid"], "Debian packages apptainer in sid only");
    requirePackaged(this, BUSYBOX, "busybox-static", ["trixie", "sid"]);
    const off = userNamespacesOff();
    if (off) skipOrFail(this, `apptainer cannot run as a user here: ${off}`);
    // A SIF built from a local directory: apptainer build needs no network
    // for that (only mksquashfs, from squashfs-tools).
    sif = apptainerSif(freshImages(), `${IMAGES}/busybox.sif`);
    info = startCluster({ plugstackLines: [pluginLine(LINE)] });
  });
  after(() => stopCluster());

  const exec = (opts: string, label: string): string =>
    `apptainer -q exec ${opts} ${sif} sh -c "$(cat ${PROBE})" probe ${label}`;

  it("defaults: the container's /tmp, /var/tmp and /dev/shm are the job's; what it writes lands in the job's directories, never in the host's", async () => {
    const tag = `default-${process.pid}-${Date.now()}`;
    const mark = logMark();
    const before = traces(info.slurmdPid);
    const [r, host] = await atBarrier(
      [BEFORE, exec("", "default"), seenAfter("default"), barrier(tag)].join("\n"),
      tag,
      (id) => ({
        tmp: fs.readFileSync(`/tmp/slurm.${id}.0/tmp/ptd-inside-default`, "utf8"),
        varTmp: fs.readFileSync(`/tmp/slurm.${id}.0/var_tmp/ptd-inside-default`, "utf8"),
        owner: fs.statSync(`/tmp/slurm.${id}.0/tmp/ptd-inside-default`).uid,
        leaked: traces(info.slurmdPid).scratch,
      }),
    );
    assert.equal(r.state, "COMPLETED", r.output);
    const job = `job-${r.jobId}`;
    for (const d of ["/tmp", "/var/tmp", "/dev/shm"]) assert.equal(field(r.output, `default saw ${d}`), job, r.output);
    // The job sees what the container wrote, and so does the node, in the
    // job's own directories: on the node, not in the host's /tmp.
    assert.equal(
      field(r.output, "default after"),
      "dev/shm/ptd-inside-default tmp/ptd-inside-default var/tmp/ptd-inside-default",
    );
    assert.deepStrictEqual([host.tmp, host.varTmp], ["default/tmp\n", "default/var/tmp\n"]);
    assert.equal(host.owner, Number(runAs(ALICE, ["id", "-u"]).stdout.trim()), "written as the job's user");
    assert.deepStrictEqual(host.leaked, before.scratch, "nothing in the host's /tmp, /var/tmp or /dev/shm");
    const tmp = mountAt(r.output, "default", "/tmp"),
      varTmp = mountAt(r.output, "default", "/var/tmp"),
      shm = mountAt(r.output, "default", "/dev/shm");
    assert.ok(tmp && varTmp && shm, r.output);
    assert.ok(tmp.root.endsWith(`/slurm.${r.jobId}.0/tmp`), `/tmp: ${JSON.stringify(tmp)}`);
    assert.ok(varTmp.root.endsWith(`/slurm.${r.jobId}.0/var_tmp`), `/var/tmp: ${JSON.stringify(varTmp)}`);
    assert.deepStrictEqual([shm.type, shm.source], ["tmpfs", SOURCE], `/dev/shm: ${JSON.stringify(shm)}`);
    // Without squashfuse (Debian installs apptainer without it) an
    // unprivileged apptainer unpacks the SIF into $TMPDIR or /tmp: the job's.
    if (!fs.existsSync("/usr/bin/squashfuse"))
      assert.equal(field(r.output, "default image-copies"), "1", "the SIF unpacked in the job's /tmp");
    await nothingLeft(info, r.jobId, mark, before);
  });

  it("--contain and --containall: a /tmp, /var/tmp and /dev/shm of the container's own (tmpfs in its session, sessiondir max size), neither the job's nor the host's; gone with the container", async () => {
    const tag = `contain-${process.pid}-${Date.now()}`;
    const mark = logMark();
    const before = traces(info.slurmdPid);
    const [r, host] = await atBarrier(
      [
        BEFORE,
        exec("--contain", "contain"),
        seenAfter("contain"),
        exec("--containall", "containall"),
        seenAfter("containall"),
      ]
        .concat(barrier(tag))
        .join("\n"),
      tag,
      (id) => ({
        job: fs.readdirSync(`/tmp/slurm.${id}.0/tmp`).filter((n) => n.startsWith("ptd-inside")),
        leaked: traces(info.slurmdPid).scratch,
      }),
    );
    assert.equal(r.state, "COMPLETED", r.output);
    const conf = fs.readFileSync("/etc/apptainer/apptainer.conf", "utf8");
    const sessionMiB = Number(/^\s*sessiondir max size\s*=\s*(\d+)/m.exec(conf)?.[1]);
    for (const l of ["contain", "containall"]) {
      for (const d of ["/tmp", "/var/tmp", "/dev/shm"]) assert.equal(field(r.output, `${l} saw ${d}`), "nothing");
      assert.equal(field(r.output, `${l} image-copies`), "0", "the job's /tmp is not the container's");
      assert.equal(field(r.output, `${l} after`), "", "nothing the container wrote reached the job");
      const tmp = mountAt(r.output, l, "/tmp"),
        varTmp = mountAt(r.output, l, "/var/tmp"),
        shm = mountAt(r.output, l, "/dev/shm");
      assert.ok(tmp && varTmp && shm, r.output);
      // /tmp and /var/tmp: two directories of one tmpfs, the session's,
      // as large as apptainer.conf's sessiondir max size.
      assert.deepStrictEqual([tmp.type, tmp.root, varTmp.root], ["tmpfs", "/tmp", "/var/tmp"], JSON.stringify(tmp));
      assert.equal(varTmp.dev, tmp.dev);
      assert.ok(tmp.superOpts.split(",").includes(`size=${sessionMiB * 1024}k`), tmp.superOpts);
      // /dev/shm: a tmpfs of its own (a minimal /dev), not the job's tmpfs=.
      assert.equal(shm.type, "tmpfs");
      assert.notEqual(shm.source, SOURCE, JSON.stringify(shm));
      assert.notEqual(shm.dev, tmp.dev);
    }
    assert.deepStrictEqual(host.job, [], "in the job's /tmp on the node");
    assert.deepStrictEqual(host.leaked, before.scratch, "nothing in the host's /tmp, /var/tmp or /dev/shm");
    await nothingLeft(info, r.jobId, mark, before);
  });

  it("--contain --workdir in the job's /tmp: the container's /tmp and /var/tmp are directories there, kept for the job's next container, removed with the job", async () => {
    const tag = `workdir-${process.pid}-${Date.now()}`;
    const mark = logMark();
    const before = traces(info.slurmdPid);
    const wd = "--contain --workdir /tmp/ptd-work";
    const [r, host] = await atBarrier(
      [
        BEFORE,
        "mkdir /tmp/ptd-work",
        exec(wd, "workdir"),
        `apptainer -q exec ${wd} ${sif} cat /tmp/ptd-inside-workdir /var/tmp/ptd-inside-workdir | sed s/^/again:/`,
        barrier(tag),
      ].join("\n"),
      tag,
      (id) => ["tmp", "var_tmp"].map((d) => fs.existsSync(`/tmp/slurm.${id}.0/tmp/ptd-work/${d}/ptd-inside-workdir`)),
    );
    assert.equal(r.state, "COMPLETED", r.output);
    assert.equal(field(r.output, "workdir saw /tmp"), "nothing", "its own directory, not the job's /tmp itself");
    const tmp = mountAt(r.output, "workdir", "/tmp"),
      varTmp = mountAt(r.output, "workdir", "/var/tmp");
    assert.ok(tmp && varTmp, r.output);
    assert.ok(tmp.root.endsWith(`/slurm.${r.jobId}.0/tmp/ptd-work/tmp`), JSON.stringify(tmp));
    assert.ok(varTmp.root.endsWith(`/slurm.${r.jobId}.0/tmp/ptd-work/var_tmp`), JSON.stringify(varTmp));
    assert.match(r.output, /^again:workdir\/tmp\nagain:workdir\/var\/tmp$/m, "the next container found them");
    assert.deepStrictEqual(host, [true, true], "in the job's directory on the node");
    await nothingLeft(info, r.jobId, mark, before);
  });

  it("a job cancelled while its container runs leaves nothing: no process, no mount, no session, no unpacked image", async () => {
    const mark = logMark();
    const before = traces(info.slurmdPid);
    const id = submitBatch(
      ALICE,
      [BEFORE, `apptainer -q exec ${sif} sh -c 'touch /tmp/ptd-running; sleep 300'`].join("\n"),
    );
    const running = `/tmp/slurm.${id}.0/tmp/ptd-running`;
    await waitFor(() => fs.existsSync(running), 90_000, { what: `job ${id}'s container to run` });
    const r = run("scancel", [String(id)]);
    assert.equal(r.status, 0, r.stderr);
    const done = await waitBatch(id, 90_000);
    assert.equal(done.state, "CANCELLED", done.output);
    await nothingLeft(info, id, mark, before);
  });
});

/** podman's pause process: it keeps the user and mount namespaces podman
 * made for the user, for its later commands to join; it runs as the user,
 * detached, so it outlives a job whose processes Slurm finds by their
 * parents (proctrack/linuxproc, the lab's). */
const PAUSE = (name: string): boolean => name === "podman pause" || name === "catatonit";
// crun refuses a host whose cgroup v2 hierarchy has controllers while v1 is
// mounted too (hybrid, as this lab's); runc runs there. Pure v2: crun.
const RUNTIME = fs.existsSync("/sys/fs/cgroup/cgroup.controllers") ? "" : "--runtime runc";
const alice = (): number => Number(runAs(ALICE, ["id", "-u"]).stdout.trim());

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
