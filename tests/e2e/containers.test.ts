// Containers in a job (#24): a container a job starts sees the job's private
// /tmp, /var/tmp and tmpfs= mounts (here /dev/shm), never the host's, and
// leaves nothing on the node once the job is gone. Apptainer as Debian sid
// packages it (no setuid starter: it runs in a user namespace of the job's
// user) with its defaults, --contain, --containall and --workdir, its image
// FUSE-mounted or unpacked; Charliecloud's ch-run (trixie, sid). Rootless
// podman: containers-podman.test.ts. The image is made here, offline, from
// busybox-static (tests/helpers/busybox-image.ts); what each runtime does is
// in docs/workflows.md, "Containers".
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE } from "../helpers/lab.js";
import { runAs, run } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { skipOrFail } from "../helpers/root.js";
import { requirePackaged } from "../helpers/debian-release.js";
import { BUSYBOX, apptainerSif } from "../helpers/busybox-image.js";
import {
  BEFORE,
  IMAGES,
  LINE,
  PROBE,
  SOURCE,
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

describe("e2e: Apptainer in a job (sid's apptainer, unprivileged, in a user namespace)", function () {
  this.timeout(300_000);
  let info: ClusterInfo;
  let sif = "";
  let fuseMode = -1;
  // With squashfuse installed (charliecloud-runtime depends on it) an
  // unprivileged apptainer mounts the SIF with FUSE; without it, or with
  // --unsquash, it unpacks the SIF into a sandbox in $TMPDIR or /tmp.
  const squashfuse = fs.existsSync("/usr/bin/squashfuse_ll") || fs.existsSync("/usr/bin/squashfuse");
  before(function () {
    requireRootAndSlurm(this);
    requirePackaged(this, "/usr/bin/apptainer", "apptainer", ["sid"], "Debian packages apptainer in sid only");
    requirePackaged(this, BUSYBOX, "busybox-static", ["trixie", "sid"]);
    const off = userNamespacesOff();
    if (off) skipOrFail(this, `apptainer cannot run as a user here: ${off}`);
    // A SIF built from a local directory: apptainer build needs no network
    // for that (only mksquashfs, from squashfs-tools).
    sif = apptainerSif(freshImages(), `${IMAGES}/busybox.sif`);
    if (squashfuse && fs.existsSync("/dev/fuse")) {
      fuseMode = fs.statSync("/dev/fuse").mode & 0o777;
      fs.chmodSync("/dev/fuse", 0o666); // as Debian installs it; this machine has 0600
    }
    info = startCluster({ plugstackLines: [pluginLine(LINE)] });
  });
  after(() => {
    stopCluster();
    if (fuseMode >= 0) fs.chmodSync("/dev/fuse", fuseMode);
  });

  const exec = (opts: string, label: string): string =>
    `apptainer -q exec ${opts} ${sif} sh -c "$(cat ${PROBE})" probe ${label}`;

  it("defaults: the container's /tmp, /var/tmp and /dev/shm are the job's; what it writes lands in the job's directories, never in the host's", async () => {
    const tag = `default-${process.pid}-${Date.now()}`;
    const mark = logMark();
    const before = traces(info.slurmdPid);
    const [r, host] = await atBarrier(
      [BEFORE, exec("", "default"), seenAfter("default"), exec("--unsquash", "unsquash"), barrier(tag)].join("\n"),
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
    for (const l of ["default", "unsquash"])
      for (const d of ["/tmp", "/var/tmp", "/dev/shm"]) assert.equal(field(r.output, `${l} saw ${d}`), job, r.output);
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
    // An unpacked SIF is in the job's /tmp (so the container sees it there).
    assert.equal(field(r.output, "unsquash image-copies"), "1", "the SIF unpacked in the job's /tmp");
    assert.equal(field(r.output, "default image-copies"), squashfuse ? "0" : "1", `squashfuse: ${squashfuse}`);
    for (const d of ["/tmp", "/var/tmp"])
      assert.ok(
        mountAt(r.output, "unsquash", d)?.root.endsWith(`/slurm.${r.jobId}.0/${d.slice(1).replace("/", "_")}`),
        r.output,
      );
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

  it("a job cancelled while its containers run (a FUSE-mounted SIF, an unpacked one) leaves nothing: no process, no mount, no session, no unpacked image", async () => {
    const mark = logMark();
    const before = traces(info.slurmdPid);
    const id = submitBatch(
      ALICE,
      [
        BEFORE,
        `apptainer -q exec ${sif} sh -c 'touch /tmp/ptd-running-default; sleep 300' &`,
        `apptainer -q exec --unsquash ${sif} sh -c 'touch /tmp/ptd-running-unsquash; sleep 300' &`,
        "wait",
      ].join("\n"),
    );
    const running = ["default", "unsquash"].map((l) => `/tmp/slurm.${id}.0/tmp/ptd-running-${l}`);
    await waitFor(() => running.every((f) => fs.existsSync(f)), 90_000, { what: `job ${id}'s containers to run` });
    assert.ok(
      fs.readdirSync(`/tmp/slurm.${id}.0/tmp`).some((n) => n.startsWith("rootfs-")),
      "the unpacked SIF in the job's /tmp",
    );
    const r = run("scancel", [String(id)]);
    assert.equal(r.status, 0, r.stderr);
    const done = await waitBatch(id, 90_000);
    assert.equal(done.state, "CANCELLED", done.output);
    await nothingLeft(info, id, mark, before);
  });
});

describe("e2e: Charliecloud in a job (trixie, sid: ch-run, unprivileged, a directory image)", function () {
  this.timeout(300_000);
  let info: ClusterInfo;
  let image = "";
  before(function () {
    requireRootAndSlurm(this);
    requirePackaged(this, "/usr/bin/ch-run", "charliecloud-runtime", ["trixie", "sid"]);
    requirePackaged(this, BUSYBOX, "busybox-static", ["trixie", "sid"]);
    const off = userNamespacesOff();
    if (off) skipOrFail(this, `ch-run cannot run here: ${off}`);
    image = freshImages();
    info = startCluster({ plugstackLines: [pluginLine(LINE)] });
  });
  after(() => stopCluster());

  it("defaults: /tmp and /dev/shm are the job's (ch-run binds /tmp and /dev); --private-tmp: a tmpfs of the container's own; nothing stays on the node", async () => {
    const tag = `charliecloud-${process.pid}-${Date.now()}`;
    const mark = logMark();
    const before = traces(info.slurmdPid);
    const probe = (opts: string, l: string): string =>
      `ch-run ${opts} ${image} -- sh -c "$(cat ${PROBE})" probe ${l} 2>/dev/null`;
    const [r, host] = await atBarrier(
      [
        BEFORE,
        probe("", "ch"),
        seenAfter("ch"),
        probe("--private-tmp", "private"),
        seenAfter("private"),
        barrier(tag),
      ].join("\n"),
      tag,
      (id) => fs.readdirSync(`/tmp/slurm.${id}.0/tmp`).sort(),
    );
    assert.equal(r.state, "COMPLETED", r.output);
    const job = `job-${r.jobId}`;
    assert.equal(field(r.output, "ch saw /tmp"), job, r.output);
    assert.equal(field(r.output, "ch saw /dev/shm"), job, r.output);
    // The image's own /var/tmp, read-only as ch-run mounts an image by default.
    assert.equal(field(r.output, "ch saw /var/tmp"), "nothing", r.output);
    assert.equal(field(r.output, "ch after"), "dev/shm/ptd-inside-ch tmp/ptd-inside-ch");
    const tmp = mountAt(r.output, "ch", "/tmp"),
      shm = mountAt(r.output, "ch", "/dev/shm");
    assert.ok(tmp && shm, r.output);
    assert.ok(tmp.root.endsWith(`/slurm.${r.jobId}.0/tmp`), JSON.stringify(tmp));
    assert.deepStrictEqual([shm.type, shm.source], ["tmpfs", SOURCE], JSON.stringify(shm));
    assert.equal(field(r.output, "private saw /tmp"), "nothing", r.output);
    assert.equal(field(r.output, "private saw /dev/shm"), job, "--private-tmp leaves /dev alone");
    const own = mountAt(r.output, "private", "/tmp");
    assert.ok(own && own.type === "tmpfs" && own.source !== SOURCE && own.root === "/", JSON.stringify(own));
    assert.equal(field(r.output, "private after"), "dev/shm/ptd-inside-private", "its /tmp stayed in the container");
    assert.deepStrictEqual(
      host.filter((n) => n.startsWith("ptd-")),
      ["ptd-before", "ptd-inside-ch"],
      "in the job's directory on the node",
    );
    await nothingLeft(info, r.jobId, mark, before);
  });
});
